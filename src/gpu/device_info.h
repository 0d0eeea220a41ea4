// What GPU and libraries we run on: the hardware tag of tuning databases and result folders.
#pragma once

#include <string>

namespace slidesparse {

struct DeviceInfo {
  std::string name;        // "NVIDIA H100 80GB HBM3"
  std::string short_name;  // "H100": first token after "NVIDIA "
  int cc_major = 0, cc_minor = 0;
  int sm_count = 0;
  int sm_clock_khz = 0;     // maximum SM clock the driver reports (cudaDevAttrClockRate)
  size_t l2_bytes = 0;
  size_t memory_bytes = 0;
  int driver_version = 0;   // cudaDriverGetVersion, e.g. 13000
  int runtime_version = 0;  // cudaRuntimeGetVersion
  int cublaslt_version = 0; // cublasLtGetVersion, e.g. 130100

  int compute_capability() const { return cc_major * 10 + cc_minor; }
  bool supports_fp8() const { return compute_capability() >= 89; }
};

// Throws Error "no CUDA GPU available: <reason>" when there is none.
DeviceInfo query_device(int device = 0);

// The current device's SM count (cudaGetDevice's).
int current_device_sm_count();

// True when a CUDA device is usable (for tests that skip without one).
bool cuda_device_available();

// True when this process's CUDA context is poisoned by a sticky error (a kernel fault: illegal
// address, launch failure, ...): every later CUDA call fails, and only a new process can use the
// GPU again. Ordinary errors (out of memory, an invalid argument) leave the context usable: false.
bool cuda_context_broken();

}  // namespace slidesparse
