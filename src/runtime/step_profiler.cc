#include "runtime/step_profiler.h"

#include <algorithm>

#include "core/error.h"
#include "gpu/cuda_check.h"

namespace slidesparse {

StepProfiler::StepProfiler(int max_marks) : events_(static_cast<size_t>(max_marks) + 1) {
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
}

void StepProfiler::mark(const char* phase) {
  require(used_ < events_.size(), "step profiler: more phases than events");
  CUDA_CHECK(cudaEventRecord(events_[used_++], stream_));
  phases_.push_back(phase);
}

std::vector<std::pair<std::string, double>> StepProfiler::finish() {
  CUDA_CHECK(cudaStreamSynchronize(stream_));
  std::vector<std::pair<std::string, double>> totals;
  for (size_t i = 0; i < phases_.size(); ++i) {
    float ms = 0;
    CUDA_CHECK(cudaEventElapsedTime(&ms, events_[i], events_[i + 1]));
    auto it = std::find_if(totals.begin(), totals.end(), [&](const auto& t) { return t.first == phases_[i]; });
    if (it == totals.end()) totals.emplace_back(phases_[i], ms);
    else it->second += ms;
  }
  return totals;
}

}  // namespace slidesparse
