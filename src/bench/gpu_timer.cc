#include "bench/gpu_timer.h"

#include "gpu/cuda_check.h"

namespace slidesparse {

double time_launches_us(const std::function<void()>& launch, int warmup, int repeat, cudaStream_t stream) {
  for (int i = 0; i < warmup; ++i) launch();
  cudaEvent_t start, stop;
  CUDA_CHECK(cudaEventCreate(&start));
  CUDA_CHECK(cudaEventCreate(&stop));
  CUDA_CHECK(cudaEventRecord(start, stream));
  for (int i = 0; i < repeat; ++i) launch();
  CUDA_CHECK(cudaEventRecord(stop, stream));
  CUDA_CHECK(cudaEventSynchronize(stop));
  float ms = 0;
  CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  return 1000.0 * ms / repeat;
}

}  // namespace slidesparse
