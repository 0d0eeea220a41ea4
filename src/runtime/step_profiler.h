// Where a forward step's time goes: CUDA events recorded between the phases of an eager forward
// (never inside a graph), summed per phase over the layers. Used by `bench throughput --profile`
// to print the per-layer breakdown docs/PERF.md keeps.
#pragma once

#include <cuda_runtime.h>

#include <map>
#include <string>
#include <vector>

namespace slidesparse {

class StepProfiler {
 public:
  explicit StepProfiler(int max_marks = 1024);
  ~StepProfiler();
  StepProfiler(const StepProfiler&) = delete;
  StepProfiler& operator=(const StepProfiler&) = delete;

  void begin(cudaStream_t stream);
  // Attributes the time since the previous mark to `phase`.
  void mark(const char* phase);
  // Synchronizes and returns milliseconds per phase, in first-seen order.
  std::vector<std::pair<std::string, double>> finish();

 private:
  std::vector<cudaEvent_t> events_;
  std::vector<const char*> phases_;
  cudaStream_t stream_ = nullptr;
  size_t used_ = 0;
};

}  // namespace slidesparse
