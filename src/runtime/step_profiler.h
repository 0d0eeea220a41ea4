// Where a forward step's time goes: CUDA events recorded between the phases of an eager forward
// (never inside a graph), summed per phase over the layers. Used by `bench throughput --profile`
// to print the per-layer breakdown docs/PERF.md keeps.
#pragma once

#include <cuda_runtime.h>

#include <chrono>
#include <string>
#include <vector>

namespace slidesparse {

// One phase, summed over the layers: device time between its events, and host time spent issuing
// it (between the host's marks). Host time close to or above device time means the step is bound by
// launching, not by the GPU.
struct StepPhase {
  std::string name;
  double gpu_ms = 0, host_ms = 0;
};

class StepProfiler {
 public:
  explicit StepProfiler(int max_marks = 1024);
  ~StepProfiler();
  StepProfiler(const StepProfiler&) = delete;
  StepProfiler& operator=(const StepProfiler&) = delete;

  void begin(cudaStream_t stream);
  // Attributes the time since the previous mark to `phase`.
  void mark(const char* phase);
  // Synchronizes and returns the phases in first-seen order.
  std::vector<StepPhase> finish();

 private:
  using Clock = std::chrono::steady_clock;
  std::vector<cudaEvent_t> events_;
  std::vector<Clock::time_point> host_marks_;
  std::vector<const char*> phases_;
  cudaStream_t stream_ = nullptr;
  size_t used_ = 0;
};

}  // namespace slidesparse
