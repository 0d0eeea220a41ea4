// Which kernel each quantizing norm runs (register_norm_chunks, kernels/norm_quant.h): each row in
// registers with its chunk count per thread, or staged in shared memory (0), by source, layout and
// launch shape. The engine's shapes: hidden K = 2560 (320 chunks), intermediate K = 6912 (864).
#include <gtest/gtest.h>

#include "kernels/norm_quant.h"

namespace slidesparse {
namespace {

constexpr auto kTensor = FusedNormKernel::Tensor;
constexpr auto kResidual = FusedNormKernel::Residual;
constexpr auto kRelu2 = FusedNormKernel::Relu2Mul;

NormRowsLayout tensor_rows(int64_t k) { return {k, 0, true, false, std::nullopt}; }
NormRowsLayout bf16_rows(int64_t k) { return {k, 0, true, false, AccumulatorType::BFloat16}; }

TEST(RegisterNormChunks, CountsTheChunksOfEachThreadOfTheTeam) {
  EXPECT_EQ(register_norm_chunks(kTensor, tensor_rows(2560), {128, 4}), 10);  // one warp per row
  EXPECT_EQ(register_norm_chunks(kTensor, tensor_rows(6912), {128, 2}), 14);  // two warps per row
  EXPECT_EQ(register_norm_chunks(kTensor, tensor_rows(2560), {1024, 1}), 1);
  EXPECT_EQ(register_norm_chunks(kRelu2, bf16_rows(6912), {128, 1}), 7);
  EXPECT_EQ(register_norm_chunks(kResidual, bf16_rows(2560), {64, 1}), 5);
  EXPECT_EQ(register_norm_chunks(kTensor, tensor_rows(8), {32, 1}), 1);      // a partial team
  EXPECT_EQ(register_norm_chunks(kTensor, tensor_rows(8 * 511), {32, 1}), 16);  // the last count
}

TEST(RegisterNormChunks, RowsOfMoreChunksPerThreadThanCompiledStageInSharedMemory) {
  EXPECT_EQ(register_norm_chunks(kTensor, tensor_rows(8 * 513), {32, 1}), 0);  // 17 chunks of x
  EXPECT_EQ(register_norm_chunks(kRelu2, bf16_rows(6912), {128, 4}), 0);      // 27 chunks
  EXPECT_EQ(register_norm_chunks(kRelu2, bf16_rows(6912), {64, 1}), 0);       // 14 chunks of two loads
  EXPECT_EQ(register_norm_chunks(kResidual, bf16_rows(2560), {128, 4}), 0);   // 10 chunks of two loads
  EXPECT_EQ(register_norm_chunks(kResidual, bf16_rows(32 * 8 * 8), {32, 1}), 8);
}

TEST(RegisterNormChunks, BlocksLargerThanTheChunkCountIsCompiledForStageInSharedMemory) {
  // x alone: up to 8 chunks in any block, 9 to 16 in blocks of at most 256 threads.
  EXPECT_EQ(register_norm_chunks(kTensor, tensor_rows(2560), {1024, 32}), 0);  // 10 chunks
  EXPECT_EQ(register_norm_chunks(kTensor, tensor_rows(2560), {256, 8}), 10);
  EXPECT_EQ(register_norm_chunks(kTensor, tensor_rows(256 * 8 * 8), {1024, 4}), 8);
  // Two loads per chunk: up to 4 chunks in any block, 5 to 8 in blocks of at most 512.
  EXPECT_EQ(register_norm_chunks(kRelu2, bf16_rows(1024 * 8 * 4), {1024, 1}), 4);
  EXPECT_EQ(register_norm_chunks(kRelu2, bf16_rows(1024 * 8 * 5), {1024, 1}), 0);
  EXPECT_EQ(register_norm_chunks(kResidual, bf16_rows(256 * 8 * 5), {1024, 4}), 0);
  EXPECT_EQ(register_norm_chunks(kResidual, bf16_rows(128 * 8 * 8), {512, 4}), 8);
  EXPECT_EQ(register_norm_chunks(kResidual, bf16_rows(32 * 8 * 8), {1024, 32}), 0);
}

TEST(RegisterNormChunks, OtherSourcesLayoutsAndCodesStageInSharedMemory) {
  const QuantLaunchConfig c{128, 1};
  NormRowsLayout rows = tensor_rows(2560);
  rows.with_residual = true;
  EXPECT_EQ(register_norm_chunks(kTensor, rows, c), 0);
  for (AccumulatorType type : {AccumulatorType::Int32, AccumulatorType::Float32}) {
    rows = bf16_rows(2560);
    rows.accumulator = type;
    EXPECT_EQ(register_norm_chunks(kResidual, rows, c), 0);
    EXPECT_EQ(register_norm_chunks(kRelu2, rows, c), 0);
  }
  rows = bf16_rows(2560);
  rows.accumulator.reset();
  EXPECT_EQ(register_norm_chunks(kRelu2, rows, c), 0);
  rows = bf16_rows(2560);
  rows.vector_rows = false;
  EXPECT_EQ(register_norm_chunks(kResidual, rows, c), 0);
  for (int group : {6, 8, 16}) {
    rows = tensor_rows(2560);
    rows.slide_group = group;
    EXPECT_EQ(register_norm_chunks(kTensor, rows, c), 0) << "L=" << group;
  }
  rows = tensor_rows(2560);
  rows.slide_group = 4;  // 2:4 codes have the plain layout
  EXPECT_EQ(register_norm_chunks(kTensor, rows, c), 3);
}

}  // namespace
}  // namespace slidesparse
