#include "io/csv_writer.h"

#include <cstdio>

#include "core/error.h"
#include "io/staged_directory.h"

namespace slidesparse {

namespace {
std::string quote(const std::string& cell) {
  if (cell.find_first_of(",\"\n\r") == std::string::npos) return cell;
  std::string out = "\"";
  for (char c : cell) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

void append_row(std::string& out, const std::vector<std::string>& cells) {
  for (size_t i = 0; i < cells.size(); ++i) {
    if (i) out += ',';
    out += quote(cells[i]);
  }
  out += '\n';
}
}  // namespace

CsvWriter::CsvWriter(std::filesystem::path path, std::vector<std::string> header)
    : path_(std::move(path)), header_(std::move(header)) {}

void CsvWriter::add_row(const std::vector<std::string>& cells) {
  require(cells.size() == header_.size(), path_.string() + ": row has " + std::to_string(cells.size()) +
                                              " cells, header has " + std::to_string(header_.size()));
  rows_.push_back(cells);
}

std::string CsvWriter::text() const {
  std::string out;
  append_row(out, header_);
  for (const auto& row : rows_) append_row(out, row);
  return out;
}

void CsvWriter::save() const {
  std::error_code ec;
  if (path_.has_parent_path()) std::filesystem::create_directories(path_.parent_path(), ec);
  require(!ec, path_.string() + ": cannot create its directory: " + ec.message());
  write_file_atomic(path_, text());
}

std::string format_fixed(double value, int decimals) {
  const int size = std::snprintf(nullptr, 0, "%.*f", decimals, value);  // "%f" of 1e300 is 301 characters
  std::string out(static_cast<size_t>(size) + 1, '\0');
  std::snprintf(out.data(), out.size(), "%.*f", decimals, value);
  out.pop_back();
  return out;
}

}  // namespace slidesparse
