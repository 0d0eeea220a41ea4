#include "bench/device_ceilings.h"

#include <algorithm>
#include <cstdio>
#include <mutex>
#include <vector>

#include "bench/gpu_timer.h"
#include "gpu/cuda_check.h"
#include "gpu/device_buffer.h"

namespace slidesparse {

namespace {

struct DatasheetEntry {
  const char* name_part;  // matched inside the device name
  int sm_count;           // 0: any
  double int8_tops, fp8_tops, bf16_tflops;
};

// Dense tensor-core peaks from NVIDIA's datasheets (sparse 2:4 is twice these). The SXM H100 and
// the H200 share the chip and its clocks; the PCIe H100 has fewer SMs and lower clocks.
constexpr DatasheetEntry kDatasheet[] = {
    {"H200", 132, 1979, 1979, 989},  {"H100", 132, 1979, 1979, 989}, {"H100", 114, 1513, 1513, 756},
    {"A100", 108, 624, 0, 312},      {"L40S", 142, 733, 733, 362},   {"L4", 58, 242, 242, 121},
};

// Dense tensor-core operations per SM per clock by architecture (an estimate for GPUs missing from
// the table, at the maximum SM clock the driver reports, which datasheets sometimes undercut).
struct PerClock {
  double int8, fp8, bf16;
};
PerClock per_sm_per_clock(int cc) {
  if (cc >= 100) return {16384, 16384, 8192};
  if (cc >= 90) return {8192, 8192, 4096};
  if (cc == 80) return {4096, 0, 2048};
  if (cc >= 89) return {2048, 2048, 1024};
  if (cc >= 80) return {2048, 0, 1024};
  return {0, 0, 0};
}

}  // namespace

TensorPeaks tensor_peaks(const DeviceInfo& d) {
  for (const DatasheetEntry& e : kDatasheet)
    if (d.name.find(e.name_part) != std::string::npos && (e.sm_count == 0 || e.sm_count == d.sm_count))
      return {e.int8_tops, e.fp8_tops, e.bf16_tflops, "datasheet"};
  const PerClock p = per_sm_per_clock(d.compute_capability());
  const double ops_per_s_per_unit = double(d.sm_count) * double(d.sm_clock_khz) * 1e3 / 1e12;
  return {p.int8 * ops_per_s_per_unit, p.fp8 * ops_per_s_per_unit, p.bf16 * ops_per_s_per_unit,
          "estimated: " + std::to_string(d.sm_count) + " SMs x " + std::to_string(d.sm_clock_khz / 1000) + " MHz"};
}

double measure_copy_bandwidth_gbps(cudaStream_t stream) {
  constexpr size_t kBytes = size_t{1} << 30;
  DeviceBuffer a(kBytes, "copy benchmark source"), b(kBytes, "copy benchmark destination");
  CUDA_CHECK(cudaMemsetAsync(a.data(), 1, kBytes, stream));
  std::vector<double> runs;
  for (int i = 0; i < 5; ++i)
    runs.push_back(time_launches_us(
        [&] { CUDA_CHECK(cudaMemcpyAsync(b.data(), a.data(), kBytes, cudaMemcpyDeviceToDevice, stream)); }, 1, 3,
        stream));
  std::sort(runs.begin(), runs.end());
  return 2.0 * double(kBytes) / runs[runs.size() / 2] / 1e3;
}

std::string DeviceCeilings::describe() const {
  char buf[256];
  std::snprintf(buf, sizeof buf, "%s: dense INT8 %.0f / FP8 %.0f TOPS, bf16 %.0f TFLOP/s (%s); copy %.0f GB/s (measured)",
                gpu.c_str(), peaks.int8_tops, peaks.fp8_tops, peaks.bf16_tflops, peaks.source.c_str(), copy_gbps);
  return buf;
}

const DeviceCeilings& device_ceilings(cudaStream_t stream) {
  static std::once_flag once;
  static DeviceCeilings ceilings;
  std::call_once(once, [stream] {
    const DeviceInfo device = query_device();
    ceilings.gpu = device.name;
    ceilings.peaks = tensor_peaks(device);
    ceilings.copy_gbps = measure_copy_bandwidth_gbps(stream);
  });
  return ceilings;
}

}  // namespace slidesparse
