#include "core/byte_progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace slidesparse {

std::string format_bytes(uint64_t bytes) {
  static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  if (bytes < 1024) return std::to_string(bytes) + " B";
  double value = double(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 4) value /= 1024, ++unit;
  char text[32];
  std::snprintf(text, sizeof text, "%.1f %s", value, kUnits[unit]);
  return text;
}

ByteProgressBar::ByteProgressBar(std::string label, uint64_t total_bytes)
    : label_(std::move(label)), total_(total_bytes > 0 ? total_bytes : 1), tty_(::isatty(STDERR_FILENO) != 0) {}

void ByteProgressBar::set_item(std::string item) { item_ = std::move(item); }

void ByteProgressBar::advance(uint64_t bytes) {
  done_ += bytes;
  draw();
}

void ByteProgressBar::resume(uint64_t bytes) {
  done_ += bytes;
  resumed_ += bytes;
  draw();
}

void ByteProgressBar::rewind(uint64_t bytes) {
  done_ -= std::min(bytes, done_);
  resumed_ = std::min(resumed_, done_);
}

void ByteProgressBar::draw() {
  const double fraction = done_ >= total_ ? 1.0 : double(done_) / double(total_);
  const int decile = static_cast<int>(fraction * 10);
  const double elapsed = clock_.seconds();
  // Terminals redraw at most 10 times a second (network chunks arrive far more often); logs get a
  // line per 10%.
  if (tty_ ? elapsed - last_draw_ < 0.1 && fraction < 1.0 : decile == last_decile_) return;
  last_decile_ = decile;
  last_draw_ = elapsed;
  const double rate = elapsed > 0 ? double(done_ - resumed_) / elapsed : 0;
  const double eta = rate > 0 ? double(total_ - std::min(done_, total_)) / rate : 0;
  constexpr int kWidth = 30;
  std::string bar(static_cast<size_t>(fraction * kWidth), '#');
  bar.resize(kWidth, '.');
  std::fprintf(stderr, "%s%s [%s] %s/%s %3.0f%% %s/s, ETA %.0fs %s%s", tty_ ? "\r\033[K" : "", label_.c_str(),
               bar.c_str(), format_bytes(done_).c_str(), format_bytes(total_).c_str(), 100 * fraction,
               format_bytes(static_cast<uint64_t>(rate)).c_str(), eta, item_.c_str(), tty_ ? "" : "\n");
  std::fflush(stderr);
}

void ByteProgressBar::finish() {
  if (tty_ && last_draw_ >= 0) std::fputc('\n', stderr);
}

}  // namespace slidesparse
