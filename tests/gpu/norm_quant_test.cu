// Fused (residual +) RMSNorm (+ quantize + slide) kernels against the CPU reference
// (math/rmsnorm.h then math/quantize.h), bit for bit: codes, scales, residual_out and the bf16
// norm, for INT8 and FP8, plain and every 2:L, with and without residual, every launch candidate.
// Inputs: rows with magnitudes over decades, an outlier, a zero row, weights around 1; outputs are
// poisoned before every run.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "gpu/cuda_check.h"
#include "gpu/device_buffer.h"
#include "gpu/device_info.h"
#include "kernels/norm_quant.h"
#include "math/numeric_formats.h"
#include "math/rmsnorm.h"
#include "math/slide.h"

namespace slidesparse {
namespace {

#define SKIP_WITHOUT_GPU() \
  if (!cuda_device_available()) GTEST_SKIP() << "no CUDA device"

constexpr uint8_t kPoison = 0xA5;
constexpr float kEps = 1e-5f;

int64_t round_up(int64_t v, int64_t a) { return (v + a - 1) / a * a; }

struct Inputs {
  int64_t rows = 0, k = 0;
  std::vector<uint16_t> x, residual, weight;
};

Inputs random_inputs(int64_t rows, int64_t k, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> decades(-4.0f, 4.0f);
  std::uniform_int_distribution<int64_t> column(0, k - 1);
  Inputs in{rows, k, {}, {}, {}};
  for (int64_t row = 0; row < rows; ++row) {
    const float magnitude = std::pow(10.0f, decades(rng));
    std::vector<float> values(static_cast<size_t>(k));
    for (float& v : values) v = normal(rng) * magnitude;
    if (row % 5 == 1) values[column(rng)] = 3e4f * magnitude;  // outlier
    if (row % 7 == 2) std::fill(values.begin(), values.end(), 0.0f);
    for (float v : values) in.x.push_back(float_to_bf16(v));
    for (int64_t i = 0; i < k; ++i) in.residual.push_back(float_to_bf16(normal(rng) * magnitude * 2.0f));
  }
  for (int64_t i = 0; i < k; ++i) in.weight.push_back(float_to_bf16(1.0f + 0.2f * normal(rng)));
  return in;
}

struct Output {
  std::vector<uint8_t> codes;
  std::vector<float> scales;
  std::vector<uint16_t> residual_out;
};

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
  rmsnorm_quantize_gpu(kind, xv, residual_mode ? rv : nullptr, residual_mode ? rov : nullptr, wv, in.rows, in.k, kEps,
                       group ? &g : nullptr, rows_padded, cols, codes.as<uint8_t>(), scale.as<float>(), nullptr,
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

std::vector<uint16_t> residual_sum(const Inputs& in) {
  std::vector<uint16_t> h(in.x.size());
  add_rows_bf16(in.x.data(), in.residual.data(), static_cast<int64_t>(h.size()), h.data());
  return h;
}

// The CPU reference in the GPU's padded layout.
Output run_cpu(QuantKind kind, int group, const Inputs& in, bool residual, int64_t rows_padded, int64_t cols) {
  Output o{std::vector<uint8_t>(static_cast<size_t>(rows_padded * cols), 0),
           std::vector<float>(static_cast<size_t>(rows_padded), 1.0f), {}};
  const std::vector<uint16_t> h = residual ? residual_sum(in) : in.x;
  if (residual) o.residual_out = h;
  const SlideGeometry g = make_slide_geometry(in.k, group ? group : 4);
  const int64_t dense_cols = group ? g.k_slid : in.k;
  std::vector<uint8_t> dense(static_cast<size_t>(in.rows * dense_cols));
  rmsnorm_quantize_rows(kind, h.data(), in.weight.data(), in.rows, in.k, kEps, group ? &g : nullptr, dense.data(),
                        o.scales.data());
  for (int64_t row = 0; row < in.rows; ++row)
    std::copy_n(dense.begin() + row * dense_cols, dense_cols, o.codes.begin() + row * cols);
  return o;
}

uint32_t float_bits(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  return bits;
}

void expect_identical(const Output& gpu, const Output& cpu, int64_t cols) {
  ASSERT_EQ(gpu.codes.size(), cpu.codes.size());
  for (size_t i = 0; i < cpu.scales.size(); ++i)
    ASSERT_EQ(float_bits(gpu.scales[i]), float_bits(cpu.scales[i]))
        << "scale of row " << i << ": gpu " << gpu.scales[i] << " cpu " << cpu.scales[i];
  for (size_t i = 0; i < cpu.codes.size(); ++i)
    ASSERT_EQ(int{gpu.codes[i]}, int{cpu.codes[i]}) << "code at row " << i / cols << " column " << i % cols;
  ASSERT_EQ(gpu.residual_out, cpu.residual_out);
}

int64_t out_cols(int group, int64_t k) { return group ? make_slide_geometry(k, group).k_slid : round_up(k, 32); }

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
  for (int group : {0, 6, 16})
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
        rmsnorm_gpu(xv, residual ? rv : nullptr, residual ? rv : nullptr, wv, in.rows, k, kEps, yv, nullptr);
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
