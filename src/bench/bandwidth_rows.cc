#include "bench/bandwidth_rows.h"

#include <algorithm>
#include <cstdio>
#include <string>

namespace slidesparse {

namespace {

std::string format_line(const char* format, auto... values) {
  char line[256];
  std::snprintf(line, sizeof line, format, values...);
  return line;
}

}  // namespace

std::string format_bandwidth_rows(const std::vector<BandwidthRow>& rows, const BandwidthColumns& columns) {
  int width = 6;  // "kernel"
  bool launch = false;
  for (const BandwidthRow& r : rows) {
    width = std::max(width, static_cast<int>(r.kernel.size()));
    launch = launch || !r.launch.empty();
  }
  std::string text = format_line("%-*s", width, "kernel");
  if (columns.group) text += format_line(" %-3s", "L");
  text += format_line(" %7s %6s %10s %9s %8s", columns.rows.c_str(), columns.cols.c_str(), "us", "GB/s", "of copy");
  text += launch ? "  launch\n" : "\n";
  for (const BandwidthRow& r : rows) {
    text += format_line("%-*s", width, r.kernel.c_str());
    if (columns.group)
      text += r.sparsity.is_dense() ? format_line(" %-3s", "-") : format_line(" %-3d", r.sparsity.group());
    text += format_line(" %7lld %6lld %10.2f %9.0f %7.1f%%", static_cast<long long>(r.rows),
                        static_cast<long long>(r.cols), r.us, r.gbps, 100 * r.fraction_of_copy);
    if (launch) text += "  " + (r.launch.empty() ? std::string("-") : r.launch);
    text += "\n";
  }
  return text;
}

}  // namespace slidesparse
