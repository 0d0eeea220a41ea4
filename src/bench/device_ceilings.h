// The two ceilings every benchmark reports its rates against, for the GPU in hand: the dense
// tensor-core peaks (a table of datasheet figures keyed by the device's name and SM count, else an
// estimate from its architecture's operations per SM per clock, its SM count and its maximum SM
// clock) and the device-to-device copy bandwidth, measured.
#pragma once

#include <cuda_runtime.h>

#include <string>

#include "gpu/device_info.h"

namespace slidesparse {

struct TensorPeaks {
  double int8_tops = 0, fp8_tops = 0, bf16_tflops = 0;  // dense; 2:4 sparse doubles them; 0: not supported
  std::string source;  // "datasheet" or "estimated: 132 SMs x 1980 MHz"
};

// Pure: the peaks of `device` (name, compute capability, SM count, max SM clock).
TensorPeaks tensor_peaks(const DeviceInfo& device);

// cudaMemcpyAsync device to device of 1 GiB, counted as bytes read + written, median of 5.
double measure_copy_bandwidth_gbps(cudaStream_t stream);

struct DeviceCeilings {
  std::string gpu;
  TensorPeaks peaks;
  double copy_gbps = 0;
  // "NVIDIA H200: dense INT8 1979 / FP8 1979 TOPS, bf16 989 TFLOP/s (datasheet); copy 4262 GB/s (measured)"
  std::string describe() const;
};

// This process's device: peaks, and the copy bandwidth measured on the first call only.
const DeviceCeilings& device_ceilings(cudaStream_t stream);

}  // namespace slidesparse
