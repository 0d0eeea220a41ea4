// Device-side timing: CUDA events around `repeat` launches after `warmup` launches.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <functional>

namespace slidesparse {

// How many copies of a weight of `weight_bytes` a GEMM timing cycles through so that each launch
// reads its weight from memory, not from L2, as the engine's steps do (each layer's weights are read
// once per step, and all of them are far larger than L2): enough for twice the GPU's L2 in all, at
// least 1, at most 64. Replaying one weight keeps it in L2 and ranks the candidates by a speed the
// engine never sees (docs/PERF.md, "GEMM candidates with cold weights").
int cold_weight_copies(size_t weight_bytes);

// Mean microseconds per launch of `launch` (which enqueues on `stream`).
double time_launches_us(const std::function<void()>& launch, int warmup, int repeat, cudaStream_t stream);

// What `body` enqueues on `stream`, captured into a CUDA graph and instantiated; the capture is
// ended and the graph released whatever happens. `stream` must be a created stream (capture cannot
// use the legacy default one).
class CapturedGraph {
 public:
  CapturedGraph(const std::function<void()>& body, cudaStream_t stream);
  ~CapturedGraph();
  CapturedGraph(const CapturedGraph&) = delete;
  CapturedGraph& operator=(const CapturedGraph&) = delete;

  void launch(cudaStream_t stream) const;

 private:
  cudaGraphExec_t exec_ = nullptr;
};

// Mean microseconds per launch with the `repeat` launches captured in one CUDA graph and replayed,
// as the engine replays its decode steps: no host launch cost between them, which eager launches of
// kernels shorter than a launch measure instead of the kernels. `stream` must be a created stream
// (capture cannot use the legacy default one).
double time_graph_us(const std::function<void()>& launch, int warmup, int repeat, cudaStream_t stream);

}  // namespace slidesparse
