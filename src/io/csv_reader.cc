#include "io/csv_reader.h"

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace slidesparse {

namespace {

// Splits RFC 4180 text into records; each record remembers the line it starts on.
struct Record {
  std::vector<std::string> cells;
  int line = 0;
};

std::vector<Record> split_records(std::string_view text, const std::filesystem::path& source) {
  std::vector<Record> records;
  Record current{{""}, 1};
  int line = 1;
  bool quoted = false, cell_started = false;
  int quote_line = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        current.cells.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        if (c == '\n') ++line;
        current.cells.back() += c;
      }
      continue;
    }
    if (c == '"' && current.cells.back().empty() && !cell_started) {
      quoted = cell_started = true;
      quote_line = line;
    } else if (c == ',') {
      current.cells.emplace_back();
      cell_started = false;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      records.push_back(std::move(current));
      current = Record{{""}, ++line};
      cell_started = false;
    } else {
      current.cells.back() += c;
      cell_started = true;
    }
  }
  require(!quoted, source.string() + ": line " + std::to_string(quote_line) + ": unterminated quoted cell");
  if (current.cells.size() > 1 || !current.cells.front().empty()) records.push_back(std::move(current));
  return records;
}

}  // namespace

CsvTable CsvTable::parse(std::string_view text, const std::filesystem::path& source) {
  CsvTable table;
  table.source_ = source;
  std::vector<Record> records = split_records(text, source);
  require(!records.empty(), source.string() + ": empty file (no header row)");
  table.header_ = std::move(records.front().cells);
  for (size_t r = 1; r < records.size(); ++r) {
    Record& record = records[r];
    require(record.cells.size() == table.header_.size(),
            source.string() + ": line " + std::to_string(record.line) + ": row has " +
                std::to_string(record.cells.size()) + " cells, header has " + std::to_string(table.header_.size()));
    table.rows_.push_back(std::move(record.cells));
    table.lines_.push_back(record.line);
  }
  return table;
}

bool CsvTable::has_column(const std::string& name) const {
  for (const auto& h : header_)
    if (h == name) return true;
  return false;
}

size_t CsvTable::column(const std::string& name) const {
  for (size_t i = 0; i < header_.size(); ++i)
    if (header_[i] == name) return i;
  fail(source_.string() + ": no column '" + name + "' in the header");
}

const std::string& CsvTable::text(size_t row, const std::string& column_name) const {
  return rows_[row][column(column_name)];
}

double CsvTable::number(size_t row, const std::string& column_name) const {
  const std::string& v = text(row, column_name);
  double out = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  require(!v.empty() && ec == std::errc() && end == v.data() + v.size(),
          source_.string() + ": line " + std::to_string(lines_[row]) + ": column '" + column_name + "': '" + v +
              "' is not a number");
  return out;
}

int64_t CsvTable::integer(size_t row, const std::string& column_name) const {
  const std::string& v = text(row, column_name);
  int64_t out = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  require(!v.empty() && ec == std::errc() && end == v.data() + v.size(),
          source_.string() + ": line " + std::to_string(lines_[row]) + ": column '" + column_name + "': '" + v +
              "' is not an integer");
  return out;
}

CsvTable read_csv(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path.string() + ": cannot read: " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  require(!in.bad(), path.string() + ": cannot read");
  return CsvTable::parse(text.str(), path);
}

}  // namespace slidesparse
