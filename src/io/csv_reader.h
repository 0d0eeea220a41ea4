// Reading the result CSVs the benchmarks write (io/csv_writer.h): RFC 4180 cells, a header row,
// and every error one line naming the file and line, so a malformed result is easy to find.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace slidesparse {

class CsvTable {
 public:
  // Parses `text`; `source` names the file in errors. Throws Error "<source>: line N: ..." for a row
  // whose cell count differs from the header's or an unterminated quoted cell, and
  // "<source>: empty file (no header row)".
  static CsvTable parse(std::string_view text, const std::filesystem::path& source);

  const std::filesystem::path& source() const { return source_; }
  const std::vector<std::string>& header() const { return header_; }
  size_t rows() const { return rows_.size(); }
  bool has_column(const std::string& name) const;
  // Throws Error "<source>: no column '<name>' in the header".
  size_t column(const std::string& name) const;
  const std::string& text(size_t row, const std::string& column) const;
  // The whole cell as a number; Error "<source>: line N: column '<c>': '<v>' is not a number" otherwise.
  double number(size_t row, const std::string& column) const;
  int64_t integer(size_t row, const std::string& column) const;
  int line(size_t row) const { return lines_[row]; }  // 1-based line where the row starts (header is line 1)

 private:
  std::filesystem::path source_;
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
  std::vector<int> lines_;
};

// Reads and parses a CSV file; Error "<path>: cannot read: <reason>" when it cannot be opened.
CsvTable read_csv(const std::filesystem::path& path);

}  // namespace slidesparse
