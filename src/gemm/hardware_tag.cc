#include "gemm/hardware_tag.h"

#include "core/error.h"
#include "gemm/cusparselt_library.h"
#include "gpu/device_info.h"

namespace slidesparse {

HardwareTag current_hardware_tag() {
  const DeviceInfo d = query_device();
  HardwareTag tag{d.name, d.compute_capability(), d.driver_version, d.runtime_version, d.cublaslt_version, 0};
  try {
    tag.cusparselt_version = cusparselt().version;
  } catch (const Error&) {
    // Dense-only machines have no cuSPARSELt; their tag says so with version 0.
  }
  return tag;
}

}  // namespace slidesparse
