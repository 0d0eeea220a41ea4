// CSV files for benchmark results: fixed header, rows of cells, written atomically on close so a
// reader never sees half a file.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace slidesparse {

class CsvWriter {
 public:
  CsvWriter(std::filesystem::path path, std::vector<std::string> header);
  // Throws Error if the row's cell count differs from the header's.
  void add_row(const std::vector<std::string>& cells);
  // Writes path atomically (temporary file + rename).
  void save() const;
  std::string text() const;  // RFC 4180: cells with ',', '"' or newlines are quoted

 private:
  std::filesystem::path path_;
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

// Fixed-point formatting for result cells ("%.*f").
std::string format_fixed(double value, int decimals);

}  // namespace slidesparse
