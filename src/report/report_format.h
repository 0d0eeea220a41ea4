// How the report spells numbers and tables, in one place so every section reads the same:
// tokens/s as integers with thousands separators, speedups with 2 decimals, times in seconds.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace slidesparse::report {

std::string format_grouped(double value, int decimals);  // 30565.4, 0 -> "30,565"; 1234.56, 1 -> "1,234.6"
std::string format_rate(double per_second);              // tokens/s: "30,565"
std::string format_speedup(double ratio);                // "1.10"
std::string format_seconds(double seconds);              // "102.6 s"
std::string format_bytes(uint64_t bytes);                // "2.41 GiB", "512.00 KiB", "17 B"
std::string format_percent(double fraction);             // 0.3333 -> "33.3 %"

std::string stage_title(const std::string& stage);  // "prefill" -> "Prefill"

constexpr const char* kMissing = "—";  // a point that has no result

// A GitHub-flavoured Markdown table; `align` has one of 'l' / 'r' per column.
class MarkdownTable {
 public:
  MarkdownTable(std::vector<std::string> header, std::string align);
  void add_row(std::vector<std::string> cells);  // Error if the cell count differs from the header's
  std::string text() const;                      // ends with a newline

 private:
  std::vector<std::string> header_;
  std::string align_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace slidesparse::report
