// memset_nodes_as_kernels: a captured graph whose small memsets became kernel nodes writes the same
// bytes, in the same order against the nodes around them; large or 2-D memsets stay as they are.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "gpu/cuda_check.h"
#include "gpu/device_buffer.h"
#include "gpu_test_util.h"
#include "kernels/graph_memsets.h"

namespace slidesparse {
namespace {

constexpr uint8_t kPoison = 0xA5;

int count_nodes(cudaGraph_t graph, cudaGraphNodeType wanted) {
  size_t n = 0;
  CUDA_CHECK(cudaGraphGetNodes(graph, nullptr, &n));
  std::vector<cudaGraphNode_t> nodes(n);
  CUDA_CHECK(cudaGraphGetNodes(graph, nodes.data(), &n));
  int count = 0;
  for (cudaGraphNode_t node : nodes) {
    cudaGraphNodeType type;
    CUDA_CHECK(cudaGraphNodeGetType(node, &type));
    count += type == wanted;
  }
  return count;
}

TEST(GraphMemsets, SmallMemsetsBecomeKernelsThatWriteTheSameBytesInOrder) {
  SKIP_WITHOUT_GPU();
  cudaStream_t stream;
  CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  const size_t small = 1000, large = size_t{100} << 10;
  DeviceBuffer a(small, "a"), b(small, "b"), c(large, "c"), words(64 * 4, "words");
  for (DeviceBuffer* d : {&a, &b, &c, &words}) CUDA_CHECK(cudaMemset(d->data(), kPoison, d->bytes()));
  // a = 0x3C bytes, then copied to b (the copy must see the memset's bytes); c large: left a memset
  // node; then, added to the graph by hand, 64 int32 of a 32-bit pattern.
  cudaGraph_t graph = nullptr;
  CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
  CUDA_CHECK(cudaMemsetAsync(a.data(), 0x3C, small, stream));
  CUDA_CHECK(cudaMemcpyAsync(b.data(), a.data(), small, cudaMemcpyDeviceToDevice, stream));
  CUDA_CHECK(cudaMemsetAsync(c.data(), 0, large, stream));
  CUDA_CHECK(cudaStreamEndCapture(stream, &graph));
  cudaMemsetParams word_fill{};
  word_fill.dst = words.data();
  word_fill.value = 0x12345678u;
  word_fill.elementSize = 4;
  word_fill.width = 64;
  word_fill.height = 1;
  cudaGraphNode_t word_node = nullptr;
  CUDA_CHECK(cudaGraphAddMemsetNode(&word_node, graph, nullptr, 0, &word_fill));
  ASSERT_EQ(count_nodes(graph, cudaGraphNodeTypeMemset), 3);
  EXPECT_EQ(memset_nodes_as_kernels(graph), 2);
  EXPECT_EQ(count_nodes(graph, cudaGraphNodeTypeMemset), 1);
  EXPECT_EQ(count_nodes(graph, cudaGraphNodeTypeKernel), 2);
  cudaGraphExec_t exec = nullptr;
  CUDA_CHECK(cudaGraphInstantiate(&exec, graph, 0));
  CUDA_CHECK(cudaGraphLaunch(exec, stream));
  CUDA_CHECK(cudaStreamSynchronize(stream));
  std::vector<uint8_t> host_b(small), host_c(large);
  std::vector<uint32_t> host_words(64);
  CUDA_CHECK(cudaMemcpy(host_b.data(), b.data(), small, cudaMemcpyDeviceToHost));
  CUDA_CHECK(cudaMemcpy(host_c.data(), c.data(), large, cudaMemcpyDeviceToHost));
  CUDA_CHECK(cudaMemcpy(host_words.data(), words.data(), 64 * 4, cudaMemcpyDeviceToHost));
  EXPECT_EQ(host_b, std::vector<uint8_t>(small, 0x3C));
  EXPECT_EQ(host_c, std::vector<uint8_t>(large, 0));
  EXPECT_EQ(host_words, std::vector<uint32_t>(64, 0x12345678u));
  cudaGraphExecDestroy(exec);
  cudaGraphDestroy(graph);
  cudaStreamDestroy(stream);
}

}  // namespace
}  // namespace slidesparse
