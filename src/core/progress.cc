#include "core/progress.h"

#include <unistd.h>

#include <cstdio>

namespace slidesparse {

ProgressBar::ProgressBar(std::string label, long total)
    : label_(std::move(label)), total_(total > 0 ? total : 1), tty_(::isatty(STDERR_FILENO) != 0) {}

void ProgressBar::step(const std::string& item) {
  ++done_;
  draw(item);
}

void ProgressBar::draw(const std::string& item) {
  const double fraction = double(done_) / double(total_);
  const int decile = static_cast<int>(fraction * 10);
  if (!tty_ && decile == last_decile_ && done_ != total_) return;
  last_decile_ = decile;
  const double elapsed = clock_.seconds();
  const double eta = done_ > 0 ? elapsed * double(total_ - done_) / double(done_) : 0;
  constexpr int kWidth = 30;
  const int filled = static_cast<int>(fraction * kWidth);
  std::string bar(static_cast<size_t>(filled), '#');
  bar.resize(kWidth, '.');
  std::fprintf(stderr, "%s%s [%s] %ld/%ld %3.0f%% %.0fs elapsed, ETA %.0fs %s%s", tty_ ? "\r\033[K" : "",
               label_.c_str(), bar.c_str(), done_, total_, 100 * fraction, elapsed, eta, item.c_str(),
               tty_ ? "" : "\n");
  std::fflush(stderr);
}

void ProgressBar::finish() {
  if (tty_) std::fputc('\n', stderr);
}

}  // namespace slidesparse
