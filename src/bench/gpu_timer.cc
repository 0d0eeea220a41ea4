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

namespace {

// Microseconds of one replay of a graph holding `repeat` runs of `body`.
double replay_us(const std::function<void()>& body, int repeat, cudaStream_t stream) {
  cudaGraph_t graph = nullptr;
  CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
  try {
    for (int i = 0; i < repeat; ++i) body();
  } catch (...) {
    cudaStreamEndCapture(stream, &graph);
    if (graph) cudaGraphDestroy(graph);
    throw;
  }
  CUDA_CHECK(cudaStreamEndCapture(stream, &graph));
  cudaGraphExec_t exec = nullptr;
  const cudaError_t instantiated = cudaGraphInstantiate(&exec, graph, 0);
  cudaGraphDestroy(graph);
  CUDA_CHECK(instantiated);
  double us = 0;
  try {
    CUDA_CHECK(cudaGraphLaunch(exec, stream));  // the first replay uploads the graph: not timed
    us = time_launches_us([&] { CUDA_CHECK(cudaGraphLaunch(exec, stream)); }, 0, 1, stream);
  } catch (...) {
    cudaGraphExecDestroy(exec);
    throw;
  }
  cudaGraphExecDestroy(exec);
  return us;
}

}  // namespace

double time_graph_us(const std::function<void()>& launch, int warmup, int repeat, cudaStream_t stream) {
  for (int i = 0; i < warmup; ++i) launch();
  return replay_us(launch, repeat, stream) / repeat;
}

}  // namespace slidesparse
