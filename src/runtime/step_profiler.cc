#include "runtime/step_profiler.h"

#include <algorithm>

#include "core/error.h"
#include "gpu/cuda_check.h"

namespace slidesparse {

StepProfiler::StepProfiler(int max_marks)
    : events_(static_cast<size_t>(max_marks) + 1), host_marks_(static_cast<size_t>(max_marks) + 1) {
  for (auto& e : events_) CUDA_CHECK(cudaEventCreate(&e));
}

StepProfiler::~StepProfiler() {
  for (auto& e : events_) cudaEventDestroy(e);
}

void StepProfiler::begin(cudaStream_t stream) {
  stream_ = stream;
  used_ = 1;
  phases_.clear();
  CUDA_CHECK(cudaEventRecord(events_[0], stream));
  host_marks_[0] = Clock::now();
}

void StepProfiler::mark(const char* phase) {
  require(used_ < events_.size(), "step profiler: more phases than events");
  CUDA_CHECK(cudaEventRecord(events_[used_], stream_));
  host_marks_[used_++] = Clock::now();
  phases_.push_back(phase);
}

std::vector<StepPhase> StepProfiler::finish() {
  CUDA_CHECK(cudaStreamSynchronize(stream_));
  std::vector<StepPhase> totals;
  for (size_t i = 0; i < phases_.size(); ++i) {
    float ms = 0;
    CUDA_CHECK(cudaEventElapsedTime(&ms, events_[i], events_[i + 1]));
    const double host_ms = std::chrono::duration<double, std::milli>(host_marks_[i + 1] - host_marks_[i]).count();
    auto it = std::find_if(totals.begin(), totals.end(), [&](const auto& t) { return t.name == phases_[i]; });
    if (it == totals.end()) it = totals.insert(totals.end(), StepPhase{phases_[i]});
    it->gpu_ms += ms;
    it->host_ms += host_ms;
  }
  return totals;
}

}  // namespace slidesparse
