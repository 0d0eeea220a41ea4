#include "kernels/graph_memsets.h"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/error.h"
#include "gpu/cuda_check.h"

namespace slidesparse {

namespace {

constexpr size_t kMaxBytes = size_t{64} << 10;
constexpr int kThreads = 256;

__global__ void __launch_bounds__(kThreads)
    fill_kernel(void* dst, unsigned value, size_t count, unsigned element_size) {
  for (size_t i = blockIdx.x * size_t{kThreads} + threadIdx.x; i < count; i += size_t{gridDim.x} * kThreads) {
    if (element_size == 1)
      static_cast<uint8_t*>(dst)[i] = static_cast<uint8_t>(value);
    else if (element_size == 2)
      static_cast<uint16_t*>(dst)[i] = static_cast<uint16_t>(value);
    else
      static_cast<uint32_t*>(dst)[i] = value;
  }
}

std::vector<cudaGraphNode_t> nodes_of(cudaGraph_t graph) {
  size_t n = 0;
  CUDA_CHECK(cudaGraphGetNodes(graph, nullptr, &n));
  std::vector<cudaGraphNode_t> nodes(n);
  if (n) CUDA_CHECK(cudaGraphGetNodes(graph, nodes.data(), &n));
  return nodes;
}

}  // namespace

int memset_nodes_as_kernels(cudaGraph_t graph) {
  int replaced = 0;
  for (cudaGraphNode_t node : nodes_of(graph)) {
    cudaGraphNodeType type;
    CUDA_CHECK(cudaGraphNodeGetType(node, &type));
    if (type != cudaGraphNodeTypeMemset) continue;
    cudaMemsetParams m{};
    CUDA_CHECK(cudaGraphMemsetNodeGetParams(node, &m));
    if (m.height != 1 || m.width * m.elementSize > kMaxBytes) continue;

    size_t num_in = 0, num_out = 0;
    CUDA_CHECK(cudaGraphNodeGetDependencies(node, nullptr, nullptr, &num_in));
    CUDA_CHECK(cudaGraphNodeGetDependentNodes(node, nullptr, nullptr, &num_out));
    std::vector<cudaGraphNode_t> in(num_in), out(num_out);
    std::vector<cudaGraphEdgeData> in_edges(num_in), out_edges(num_out);
    if (num_in) CUDA_CHECK(cudaGraphNodeGetDependencies(node, in.data(), in_edges.data(), &num_in));
    if (num_out) CUDA_CHECK(cudaGraphNodeGetDependentNodes(node, out.data(), out_edges.data(), &num_out));

    void* dst = m.dst;
    unsigned value = m.value;
    size_t count = m.width;
    unsigned element_size = m.elementSize;
    void* args[] = {&dst, &value, &count, &element_size};
    cudaGraphNodeParams params{};
    params.type = cudaGraphNodeTypeKernel;
    params.kernel.func = reinterpret_cast<void*>(fill_kernel);
    params.kernel.gridDim = dim3(static_cast<unsigned>((count + kThreads - 1) / kThreads));
    params.kernel.blockDim = dim3(kThreads);
    params.kernel.kernelParams = args;
    cudaGraphNode_t fill = nullptr;
    CUDA_CHECK(cudaGraphAddNode(&fill, graph, in.data(), in_edges.data(), num_in, &params));
    for (size_t i = 0; i < num_out; ++i) CUDA_CHECK(cudaGraphAddDependencies(graph, &fill, &out[i], &out_edges[i], 1));
    CUDA_CHECK(cudaGraphDestroyNode(node));
    ++replaced;
  }
  return replaced;
}

bool graph_memsets_as_kernels() {
  static const bool enabled = [] {
    const char* v = std::getenv("SLIDESPARSE_GRAPH_MEMSETS");
    return !(v && std::string(v) == "keep");
  }();
  return enabled;
}

}  // namespace slidesparse
