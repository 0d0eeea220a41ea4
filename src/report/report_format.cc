#include "report/report_format.h"

#include <cctype>
#include <cmath>

#include "core/error.h"
#include "io/csv_writer.h"

namespace slidesparse::report {

std::string format_grouped(double value, int decimals) {
  std::string text = format_fixed(std::fabs(value), decimals);
  const size_t point = text.find('.');
  const size_t integer_digits = point == std::string::npos ? text.size() : point;
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (i > 0 && i < integer_digits && (integer_digits - i) % 3 == 0) out += ',';
    out += text[i];
  }
  // "-0" would only say that a tiny negative value was rounded.
  const bool negative = value < 0 && out.find_first_not_of("0.,") != std::string::npos;
  return negative ? "-" + out : out;
}

std::string format_rate(double per_second) { return format_grouped(per_second, 0); }

std::string format_speedup(double ratio) { return format_fixed(ratio, 2); }

std::string format_seconds(double seconds) { return format_grouped(seconds, 1) + " s"; }

std::string format_bytes(uint64_t bytes) {
  static const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
  if (bytes < 1024) return std::to_string(bytes) + " B";
  double value = double(bytes) / 1024;
  int unit = 0;
  while (value >= 1024 && unit < 3) value /= 1024, ++unit;
  return format_fixed(value, 2) + " " + units[unit];
}

std::string stage_title(const std::string& stage) {
  return stage.empty() ? stage : char(std::toupper(static_cast<unsigned char>(stage[0]))) + stage.substr(1);
}

std::string format_percent(double fraction) { return format_fixed(100 * fraction, 1) + " %"; }

MarkdownTable::MarkdownTable(std::vector<std::string> header, std::string align)
    : header_(std::move(header)), align_(std::move(align)) {
  require(align_.size() == header_.size(), "markdown table: one alignment per column");
}

void MarkdownTable::add_row(std::vector<std::string> cells) {
  require(cells.size() == header_.size(), "markdown table: row has " + std::to_string(cells.size()) +
                                              " cells, header has " + std::to_string(header_.size()));
  rows_.push_back(std::move(cells));
}

namespace {

// Cells are free text (error messages among them): a '|' would end the cell, a newline the row.
std::string cell_text(const std::string& cell) {
  std::string out;
  for (char c : cell) {
    if (c == '|')
      out += "\\|";
    else if (c == '\n' || c == '\r')
      out += ' ';
    else
      out += c;
  }
  return out;
}

void append_row(std::string& out, const std::vector<std::string>& cells) {
  out += '|';
  for (const auto& c : cells) out += ' ' + cell_text(c) + " |";
  out += '\n';
}

}  // namespace

std::string MarkdownTable::text() const {
  std::string out;
  append_row(out, header_);
  out += '|';
  for (char a : align_) out += a == 'r' ? "---:|" : "---|";
  out += '\n';
  for (const auto& row : rows_) append_row(out, row);
  return out;
}

}  // namespace slidesparse::report
