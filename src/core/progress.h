// A one-line progress bar with ETA on stderr (redrawn in place on a terminal, printed every ~10%
// otherwise so logs stay short).
#pragma once

#include <string>

#include "core/stopwatch.h"

namespace slidesparse {

class ProgressBar {
 public:
  ProgressBar(std::string label, long total);
  // Advances by one unit; `item` names what just finished.
  void step(const std::string& item = "");
  void finish();

 private:
  void draw(const std::string& item);
  std::string label_;
  long total_, done_ = 0;
  int last_decile_ = -1;
  bool tty_;
  Stopwatch clock_;
};

}  // namespace slidesparse
