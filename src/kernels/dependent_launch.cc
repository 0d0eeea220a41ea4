#include "kernels/dependent_launch.h"

#include <cuda_runtime.h>

#include <cstdlib>
#include <string>

namespace slidesparse {

bool dependent_launch_enabled() {
  static const bool enabled = [] {
    if (const char* v = std::getenv("SLIDESPARSE_PDL"); v && std::string(v) == "0") return false;
    int device = 0, major = 0;
    if (cudaGetDevice(&device) != cudaSuccess ||
        cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device) != cudaSuccess) {
      cudaGetLastError();  // no device: nothing launches anyway
      return false;
    }
    return major >= 9;
  }();
  return enabled;
}

}  // namespace slidesparse
