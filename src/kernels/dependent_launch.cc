#include "kernels/dependent_launch.h"

#include <cstdlib>
#include <string>

#include "gpu/device_info.h"

namespace slidesparse {

bool dependent_launch_enabled() {
  static const bool enabled = [] {
    if (const char* v = std::getenv("SLIDESPARSE_PDL"); v && std::string(v) == "0") return false;
    return cuda_device_available() && query_device().cc_major >= 9;  // no device: nothing launches anyway
  }();
  return enabled;
}

}  // namespace slidesparse
