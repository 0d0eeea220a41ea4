#include "kernels/dependent_launch.h"

#include <cstdlib>
#include <string>

#include "gpu/device_info.h"

namespace slidesparse {

bool dependent_launch_enabled() {
  static const bool enabled = [] {
    // Off unless asked for: measured on an H200 (docs/PERF.md) it cost 8% at decode M=512 and 2% at
    // prefill M=32768, and gained 1% at decode M=64.
    const char* v = std::getenv("SLIDESPARSE_PDL");
    if (!v || std::string(v) != "1") return false;
    return cuda_device_available() && query_device().cc_major >= 9;  // no device: nothing launches anyway
  }();
  return enabled;
}

}  // namespace slidesparse
