// A one-line byte-count progress bar with transfer rate and ETA on stderr, for downloads: the
// unit-based ProgressBar counts finished items, this one counts bytes that arrive in pieces.
#pragma once

#include <cstdint>
#include <string>

#include "core/stopwatch.h"

namespace slidesparse {

// 1536 -> "1.5 KiB", 3 * 1024^3 -> "3.0 GiB", 17 -> "17 B".
std::string format_bytes(uint64_t bytes);

class ByteProgressBar {
 public:
  ByteProgressBar(std::string label, uint64_t total_bytes);
  void advance(uint64_t bytes);
  // Bytes already on disk from an earlier run: counted as done, not in the transfer rate.
  void resume(uint64_t bytes);
  // Bytes thrown away (a download restarted from its beginning).
  void rewind(uint64_t bytes);
  // Sets the item shown after the counters (the file being transferred).
  void set_item(std::string item);
  void finish();

 private:
  void draw();
  std::string label_, item_;
  uint64_t total_, done_ = 0, resumed_ = 0;
  int last_decile_ = -1;
  double last_draw_ = -1;
  bool tty_;
  Stopwatch clock_;
};

}  // namespace slidesparse
