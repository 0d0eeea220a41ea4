// Fused (residual +) RMSNorm (+ quantize + slide) kernels on a bf16 tensor against the CPU
// reference (math/rmsnorm.h then math/quantize.h), bit for bit: codes, scales, residual_out and the
// bf16 norm, for INT8 and FP8, plain and every 2:L, with and without residual, every launch
// candidate. Inputs: rows with magnitudes over decades, an outlier, a zero row, weights around 1;
// outputs are poisoned before every run.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "gpu/cuda_check.h"
#include "gpu/device_buffer.h"
#include "gpu/device_info.h"
#include "gpu_test_util.h"
#include "kernels/norm_quant.cuh"
#include "kernels/norm_quant_registers.cuh"
#include "kernels/norm_quant.h"
#include "math/numeric_formats.h"
#include "math/rmsnorm.h"
#include "math/slide.h"
#include "norm_test_support.h"

namespace slidesparse {
namespace {

using testing::expect_identical;
using testing::Inputs;
using testing::kEps;
using testing::kPoison;
using testing::out_cols;
using testing::Output;
using testing::put_special_values;
using testing::random_inputs;
using testing::round_up;
using testing::run_cpu;

// group 0: plain into `cols` columns; residual_mode 0: none, 1: separate residual_out, 2: in place.
// `offset` shifts every bf16 tensor by that many elements (unaligned rows: the scalar path).
Output run_gpu(QuantKind kind, int group, const Inputs& in, int residual_mode, int64_t rows_padded, int64_t cols,
               const QuantLaunchConfig& config, int64_t offset = 0) {
  const size_t n = in.x.size();
  DeviceBuffer x((n + offset + 1) * 2, "x"), res((n + offset + 1) * 2, "residual"),
      res_out((n + offset + 1) * 2, "residual out"), w((in.k + offset + 1) * 2, "weight");
  DeviceBuffer codes(static_cast<size_t>(rows_padded * cols), "codes"), scale(rows_padded * 4 + 4, "scales");
  auto* xv = x.as<__nv_bfloat16>() + offset;
  auto* rv = res.as<__nv_bfloat16>() + offset;
  auto* rov = residual_mode == 2 ? rv : res_out.as<__nv_bfloat16>() + offset;
  auto* wv = w.as<__nv_bfloat16>() + offset;
  CUDA_CHECK(cudaMemcpy(xv, in.x.data(), n * 2, cudaMemcpyHostToDevice));
  CUDA_CHECK(cudaMemcpy(rv, in.residual.data(), n * 2, cudaMemcpyHostToDevice));
  CUDA_CHECK(cudaMemcpy(wv, in.weight.data(), in.k * 2, cudaMemcpyHostToDevice));
  CUDA_CHECK(cudaMemset(res_out.data(), kPoison, res_out.bytes()));
  CUDA_CHECK(cudaMemset(codes.data(), kPoison, codes.bytes()));
  CUDA_CHECK(cudaMemset(scale.data(), kPoison, scale.bytes()));
  const SlideGeometry g = make_slide_geometry(in.k, group ? group : 4);
  rmsnorm_quantize_gpu({xv, residual_mode ? rv : nullptr, residual_mode ? rov : nullptr}, {in.rows, in.k}, {wv, kEps},
                       {kind, group ? &g : nullptr, rows_padded, cols, codes.as<uint8_t>(), scale.as<float>()}, nullptr,
                       config);
  CUDA_CHECK(cudaDeviceSynchronize());
  Output o{std::vector<uint8_t>(codes.bytes()), std::vector<float>(static_cast<size_t>(rows_padded)), {}};
  CUDA_CHECK(cudaMemcpy(o.codes.data(), codes.data(), o.codes.size(), cudaMemcpyDeviceToHost));
  CUDA_CHECK(cudaMemcpy(o.scales.data(), scale.data(), o.scales.size() * 4, cudaMemcpyDeviceToHost));
  if (residual_mode) {
    o.residual_out.resize(n);
    CUDA_CHECK(cudaMemcpy(o.residual_out.data(), rov, n * 2, cudaMemcpyDeviceToHost));
  }
  return o;
}

class NormQuant : public ::testing::TestWithParam<QuantKind> {};

TEST_P(NormQuant, MatchesCpuForEveryLAndShape) {
  SKIP_WITHOUT_GPU();
  const QuantKind kind = GetParam();
  for (int group : {0, 4, 6, 8, 10, 12, 14, 16})
    for (int64_t k : {30, 2560, 6912})
      for (int64_t rows : {1, 7, 100, 1000})
        for (int residual : {0, 1}) {
          SCOPED_TRACE("L=" + std::to_string(group) + " K=" + std::to_string(k) + " rows=" + std::to_string(rows) +
                       " residual=" + std::to_string(residual));
          const Inputs in = random_inputs(rows, k, static_cast<uint32_t>(group * 7919 + k * 13 + rows + residual));
          const int64_t rows_padded = round_up(rows, 16), cols = out_cols(group, k);
          expect_identical(run_gpu(kind, group, in, residual, rows_padded, cols, {}),
                           run_cpu(kind, group, in, residual, rows_padded, cols), cols);
        }
}

TEST_P(NormQuant, EveryLaunchCandidateGivesTheSameOutput) {
  SKIP_WITHOUT_GPU();
  const QuantKind kind = GetParam();
  for (int group : {0, 4, 6, 16})
    for (int64_t k : {30, 2560, 6912})
      for (int residual : {0, 1}) {
        const Inputs in = random_inputs(77, k, static_cast<uint32_t>(group * 31 + k + residual));
        const int64_t rows_padded = 80, cols = out_cols(group, k);
        const Output want = run_cpu(kind, group, in, residual, rows_padded, cols);
        for (const QuantLaunchConfig& c : quant_launch_candidates()) {
          SCOPED_TRACE("L=" + std::to_string(group) + " K=" + std::to_string(k) + " residual=" +
                       std::to_string(residual) + " threads=" + std::to_string(c.threads) +
                       " rows_per_block=" + std::to_string(c.rows_per_block));
          expect_identical(run_gpu(kind, group, in, residual, rows_padded, cols, c), want, cols);
        }
      }
}

TEST_P(NormQuant, InPlaceResidualAndUnalignedRows) {
  SKIP_WITHOUT_GPU();
  const QuantKind kind = GetParam();
  for (int group : {0, 10})
    for (int64_t offset : {0, 1}) {
      SCOPED_TRACE("L=" + std::to_string(group) + " offset=" + std::to_string(offset));
      const Inputs in = random_inputs(33, 2560, static_cast<uint32_t>(900 + group + offset));
      const int64_t cols = out_cols(group, 2560);
      expect_identical(run_gpu(kind, group, in, 2, 48, cols, {}, offset), run_cpu(kind, group, in, true, 48, cols),
                       cols);
      expect_identical(run_gpu(kind, group, in, 0, 48, cols, {}, offset), run_cpu(kind, group, in, false, 48, cols),
                       cols);
    }
}

TEST_P(NormQuant, LongRowsUseLargeSharedMemory) {
  SKIP_WITHOUT_GPU();
  const QuantKind kind = GetParam();
  for (int group : {0, 16})
    for (const QuantLaunchConfig c : {QuantLaunchConfig{256, 1}, QuantLaunchConfig{256, 4}}) {
      const Inputs in = random_inputs(9, 16384, static_cast<uint32_t>(group + c.rows_per_block));
      const int64_t cols = out_cols(group, 16384);
      expect_identical(run_gpu(kind, group, in, 1, 16, cols, c), run_cpu(kind, group, in, true, 16, cols), cols);
    }
}

// The register kernel (rows without a residual, plain or 2:4 codes, at most 16 16-byte chunks per
// thread) for every chunk count it is compiled for, whole and partial last chunks of the team, in
// one-warp teams (reductions by shuffles only).
TEST_P(NormQuant, RowsInRegistersForEveryChunkCount) {
  SKIP_WITHOUT_GPU();
  const QuantKind kind = GetParam();
  for (int chunks = 1; chunks <= quant_kernels::kMaxRegisterChunks; ++chunks)
    for (int64_t k : {int64_t{8} * 32 * chunks, int64_t{8} * (32 * chunks - 5)})
      for (int group : {0, 4}) {
        SCOPED_TRACE("chunks=" + std::to_string(chunks) + " K=" + std::to_string(k) + " L=" + std::to_string(group));
        const Inputs in = random_inputs(21, k, static_cast<uint32_t>(chunks * 101 + k + group));
        const int64_t cols = out_cols(group, k);
        const Output want = run_cpu(kind, group, in, false, 32, cols);
        for (const QuantLaunchConfig c : {QuantLaunchConfig{32, 1}, QuantLaunchConfig{128, 4}})
          expect_identical(run_gpu(kind, group, in, 0, 32, cols, c), want, cols);
      }
}

// Rows with NaN, +-Inf, values near the bf16 maximum and subnormals only: the register kernel
// (teams of 256: 2-4 chunks per thread; of 32: 10 chunks at K = 2560) and the shared-memory kernel
// (1024-thread blocks of 32-thread teams, which no register kernel takes) give the same codes and
// scales.
TEST_P(NormQuant, RowsInRegistersMatchTheSharedMemoryKernelOnSpecialValues) {
  SKIP_WITHOUT_GPU();
  const QuantKind kind = GetParam();
  for (int64_t k : {2560, 6912})
    for (int group : {0, 4}) {
      SCOPED_TRACE("K=" + std::to_string(k) + " L=" + std::to_string(group));
      Inputs in = random_inputs(60, k, static_cast<uint32_t>(k + group));
      put_special_values(in.x.data(), in.rows, k, k, 0);
      const int64_t rows_padded = 64, cols = out_cols(group, k);
      const Output shared_memory = run_gpu(kind, group, in, 0, rows_padded, cols, {1024, 32});
      expect_identical(run_gpu(kind, group, in, 0, rows_padded, cols, {256, 1}), shared_memory, cols);
      expect_identical(run_gpu(kind, group, in, 0, rows_padded, cols, {128, 4}), shared_memory, cols);
    }
}

INSTANTIATE_TEST_SUITE_P(Kinds, NormQuant, ::testing::Values(QuantKind::Int8, QuantKind::Fp8E4M3),
                         [](const auto& info) { return std::string(quant_kind_name(info.param)); });

TEST(RmsNormGpu, MatchesCpu) {
  SKIP_WITHOUT_GPU();
  for (int64_t k : {30, 2560, 6912})
    for (int residual : {0, 1})
      for (int64_t offset : {0, 1}) {
        SCOPED_TRACE("K=" + std::to_string(k) + " residual=" + std::to_string(residual) +
                     " offset=" + std::to_string(offset));
        const Inputs in = random_inputs(100, k, static_cast<uint32_t>(k + residual));
        const size_t n = in.x.size();
        DeviceBuffer x((n + 2) * 2, "x"), res((n + 2) * 2, "residual"), y((n + 2) * 2, "y"), w((k + 2) * 2, "w");
        auto* xv = x.as<__nv_bfloat16>() + offset;
        auto* rv = res.as<__nv_bfloat16>() + offset;
        auto* yv = y.as<__nv_bfloat16>() + offset;
        auto* wv = w.as<__nv_bfloat16>() + offset;
        CUDA_CHECK(cudaMemcpy(xv, in.x.data(), n * 2, cudaMemcpyHostToDevice));
        CUDA_CHECK(cudaMemcpy(rv, in.residual.data(), n * 2, cudaMemcpyHostToDevice));
        CUDA_CHECK(cudaMemcpy(wv, in.weight.data(), k * 2, cudaMemcpyHostToDevice));
        CUDA_CHECK(cudaMemset(y.data(), kPoison, y.bytes()));
        rmsnorm_gpu({xv, residual ? rv : nullptr, residual ? rv : nullptr}, {in.rows, k}, {wv, kEps}, yv, nullptr);
        CUDA_CHECK(cudaDeviceSynchronize());
        std::vector<uint16_t> got(n), got_res(n);
        CUDA_CHECK(cudaMemcpy(got.data(), yv, n * 2, cudaMemcpyDeviceToHost));
        CUDA_CHECK(cudaMemcpy(got_res.data(), rv, n * 2, cudaMemcpyDeviceToHost));
        const std::vector<uint16_t> h = residual ? residual_sum(in) : in.x;
        std::vector<uint16_t> want(n);
        rmsnorm_rows_bf16(h.data(), in.weight.data(), in.rows, k, kEps, want.data());
        ASSERT_EQ(got, want);
        if (residual) ASSERT_EQ(got_res, h);
      }
}

}  // namespace
}  // namespace slidesparse
