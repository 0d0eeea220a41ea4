#include "kernels/dependent_launch.h"

#include <cstdlib>
#include <string>

#include "gpu/device_info.h"

namespace slidesparse {

bool dependent_launch_enabled() {
  static const bool enabled = [] {
    // On unless SLIDESPARSE_PDL=0 (for comparisons). With the launch trigger left at each kernel's
    // exit it measured on an H200 (docs/PERF.md) 1.3-2.7% faster at decode M=512 dense, up to 6% at
    // M=64 on 2:4, and within noise at prefill M=32768.
    const char* v = std::getenv("SLIDESPARSE_PDL");
    if (v && std::string(v) == "0") return false;
    return cuda_device_available() && query_device().cc_major >= 9;  // no device: nothing launches anyway
  }();
  return enabled;
}

}  // namespace slidesparse
