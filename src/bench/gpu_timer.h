// Device-side timing: CUDA events around `repeat` launches after `warmup` launches.
#pragma once

#include <cuda_runtime.h>

#include <functional>

namespace slidesparse {

// Mean microseconds per launch of `launch` (which enqueues on `stream`).
double time_launches_us(const std::function<void()>& launch, int warmup, int repeat, cudaStream_t stream);

}  // namespace slidesparse
