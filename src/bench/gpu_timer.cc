#include "bench/gpu_timer.h"

#include <algorithm>

#include "gpu/cuda_check.h"
#include "gpu/device_info.h"
#include "kernels/graph_memsets.h"

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

CapturedGraph::CapturedGraph(const std::function<void()>& body, cudaStream_t stream) {
  cudaGraph_t graph = nullptr;
  CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
  try {
    body();
  } catch (...) {
    cudaStreamEndCapture(stream, &graph);
    if (graph) cudaGraphDestroy(graph);
    throw;
  }
  CUDA_CHECK(cudaStreamEndCapture(stream, &graph));
  try {  // as the engine's decode graphs have them
    if (graph_memsets_as_kernels()) memset_nodes_as_kernels(graph);
  } catch (...) {
    cudaGraphDestroy(graph);
    throw;
  }
  const cudaError_t instantiated = cudaGraphInstantiate(&exec_, graph, 0);
  cudaGraphDestroy(graph);
  CUDA_CHECK(instantiated);
}

CapturedGraph::~CapturedGraph() {
  if (exec_) cudaGraphExecDestroy(exec_);
}

void CapturedGraph::launch(cudaStream_t stream) const { CUDA_CHECK(cudaGraphLaunch(exec_, stream)); }

int cold_weight_copies(size_t weight_bytes) {
  const size_t l2 = query_device().l2_bytes;
  if (weight_bytes == 0) return 1;
  return static_cast<int>(std::clamp<size_t>((2 * l2 + weight_bytes - 1) / weight_bytes, 1, 64));
}

double time_graph_us(const std::function<void()>& launch, int warmup, int repeat, cudaStream_t stream) {
  for (int i = 0; i < warmup; ++i) launch();
  const CapturedGraph graph(
      [&] {
        for (int i = 0; i < repeat; ++i) launch();
      },
      stream);
  graph.launch(stream);  // the first replay uploads the graph: not timed
  return time_launches_us([&] { graph.launch(stream); }, 0, 1, stream) / repeat;
}

}  // namespace slidesparse
