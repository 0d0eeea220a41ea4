// The scaled GEMM (CUTLASS INT8, both scales in its epilogue) against the CPU reference: every
// compiled tile, row counts that fill whole tiles and ones that leave a remainder, the output
// poisoned before each run. It must give the bits of the int32 accumulator + dequantization
// epilogue, which the CPU reference reproduces exactly; with the MLP epilogue, those bits followed
// by relu2(gate) * up; with the residual epilogue, bf16(residual + those bits) written in place.
#include <gtest/gtest.h>

#include <cmath>
#include <initializer_list>
#include <random>

#include "gemm/scaled_gemm.h"
#include "gpu/cuda_check.h"
#include "gpu/device_buffer.h"
#include "gpu_test_util.h"
#include "math/activation.h"
#include "math/numeric_formats.h"
#include "math/reference_linear.h"

namespace slidesparse {
namespace {

using testing::download;
using testing::upload;

// m rows of random INT8 activation codes (from `code`) with per-row scales 2^log_scale, and the CPU
// reference W8A8 output of those rows against w [n, k] and scale_w, drawn from rng in that order.
struct ReferenceRows {
  std::vector<uint8_t> x;
  std::vector<float> scale_x, y;
};

ReferenceRows reference_rows(std::mt19937& rng, std::uniform_int_distribution<int>& code,
                             std::uniform_real_distribution<float>& log_scale, const std::vector<uint8_t>& w,
                             const std::vector<float>& scale_w, int64_t m, int64_t n, int64_t k) {
  ReferenceRows r{std::vector<uint8_t>(static_cast<size_t>(m * k)), std::vector<float>(static_cast<size_t>(m)),
                  std::vector<float>(static_cast<size_t>(m * n))};
  for (auto& c : r.x) c = static_cast<uint8_t>(static_cast<int8_t>(code(rng)));
  for (auto& s : r.scale_x) s = std::exp2(log_scale(rng));
  reference_linear_w8a8(QuantKind::Int8, r.x.data(), r.scale_x.data(), w.data(), scale_w.data(), m, n, k, r.y.data());
  return r;
}

// Every compiled tile on one weight shape at the given row counts, output and workspace poisoned.
void expect_every_tile_exact(int64_t n, int64_t k, std::initializer_list<int64_t> ms, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> code(-127, 127);
  std::uniform_real_distribution<float> weight_scale(0.005f, 0.02f), log_scale(-6.0f, 0.0f);
  std::vector<uint8_t> w(static_cast<size_t>(n * k));
  for (auto& c : w) c = static_cast<uint8_t>(static_cast<int8_t>(code(rng)));
  std::vector<float> scale_w(static_cast<size_t>(n));
  for (auto& s : scale_w) s = weight_scale(rng);
  const DeviceBuffer w_gpu = upload(w, "weight"), scale_w_gpu = upload(scale_w, "weight scales");
  ScaledGemm gemm(n, k);
  for (int64_t m : ms) {
    const auto [x, scale_x, y] = reference_rows(rng, code, log_scale, w, scale_w, m, n, k);
    std::vector<uint16_t> want(y.size());
    for (size_t i = 0; i < y.size(); ++i) want[i] = float_to_bf16(y[i]);
    const DeviceBuffer x_gpu = upload(x, "activations"), scale_x_gpu = upload(scale_x, "activation scales");
    DeviceBuffer d(static_cast<size_t>(m * n) * 2, "output");
    for (ScaledGemmTile tile : scaled_gemm_tiles()) {
      SCOPED_TRACE(std::string(scaled_gemm_tile_name(tile)) + " N=" + std::to_string(n) + " K=" + std::to_string(k) +
                   " M=" + std::to_string(m));
      gemm.set_tile(m, tile);
      CUDA_CHECK(cudaMemset(d.data(), 0xFF, d.bytes()));  // poison: bf16 0xFFFF is NaN
      gemm.run(w_gpu.data(), x_gpu.data(), scale_w_gpu.as<float>(), scale_x_gpu.as<float>(), d.as<__nv_bfloat16>(), m,
               nullptr);
      CUDA_CHECK(cudaDeviceSynchronize());
      const auto got = download<uint16_t>(d, static_cast<size_t>(m * n));
      for (size_t i = 0; i < want.size(); ++i)
        ASSERT_EQ(got[i], want[i]) << "row " << i / n << " column " << i % n << ": gpu " << bf16_to_float(got[i])
                                   << " cpu " << bf16_to_float(want[i]);
    }
  }
}

TEST(ScaledGemmGpu, EveryTileEqualsTheCpuReferenceBitForBit) {
  SKIP_WITHOUT_GPU();
  if (!scaled_gemm_available()) GTEST_SKIP() << "the scaled GEMM needs a Hopper GPU and an sm_90a build";
  expect_every_tile_exact(384, 512, {16, 64, 304, 1024}, 20261203);
}

// down's long K (54 k-tiles of 128) on few output tiles: the int32 sums stay exact over the whole
// mainloop, and a grid of fewer tiles than SMs is handled.
TEST(ScaledGemmGpu, LongKOnFewTilesStaysExact) {
  SKIP_WITHOUT_GPU();
  if (!scaled_gemm_available()) GTEST_SKIP() << "the scaled GEMM needs a Hopper GPU and an sm_90a build";
  expect_every_tile_exact(256, 6912, {64, 128, 200}, 20261204);
}

// The MLP epilogue: gate_up's rows interleaved, out [m, n/2] = relu2(gate) * up with the bits of
// the plain scaled GEMM followed by math/activation.h, every tile, the output poisoned and the
// bytes past its m x n/2 values checked untouched.
void expect_relu2_mul_exact(int64_t n, int64_t k, std::initializer_list<int64_t> ms, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> code(-127, 127), ternary(-1, 1);
  std::uniform_real_distribution<float> weight_scale(0.005f, 0.02f), log_scale(-7.0f, -1.0f);
  std::vector<uint8_t> w(static_cast<size_t>(n * k));  // [gate | up] rows, ternary as BitNet's
  for (auto& c : w) c = static_cast<uint8_t>(static_cast<int8_t>(ternary(rng)));
  std::vector<float> scale_w(static_cast<size_t>(n));
  for (auto& s : scale_w) s = weight_scale(rng);
  const auto scale_bytes = interleave_gate_up_rows(
      {reinterpret_cast<const uint8_t*>(scale_w.data()), scale_w.size() * sizeof(float)}, n, sizeof(float));
  const DeviceBuffer w_gpu = upload(interleave_gate_up_rows(w, n, k), "interleaved weight"),
                     scale_w_gpu = upload(scale_bytes, "interleaved weight scales");
  ScaledGemm gemm(n, k);
  const int64_t inter = n / 2;
  for (int64_t m : ms) {
    const auto [x, scale_x, y] = reference_rows(rng, code, log_scale, w, scale_w, m, n, k);
    std::vector<uint16_t> gate_up(y.size()), want(static_cast<size_t>(m * inter));
    for (size_t i = 0; i < y.size(); ++i) gate_up[i] = float_to_bf16(y[i]);
    relu2_mul_rows_bf16(gate_up.data(), m, inter, want.data());
    const DeviceBuffer x_gpu = upload(x, "activations"), scale_x_gpu = upload(scale_x, "activation scales");
    const size_t guard = 4096;  // values after the output that must stay poisoned
    DeviceBuffer out((want.size() + guard) * 2, "output");
    for (ScaledGemmTile tile : scaled_gemm_tiles()) {
      SCOPED_TRACE(std::string(scaled_gemm_tile_name(tile)) + " N=" + std::to_string(n) + " K=" + std::to_string(k) +
                   " M=" + std::to_string(m));
      gemm.set_tile(m, tile);
      CUDA_CHECK(cudaMemset(out.data(), 0xFF, out.bytes()));
      gemm.run_relu2_mul(w_gpu.data(), x_gpu.data(), scale_w_gpu.as<float>(), scale_x_gpu.as<float>(),
                         out.as<__nv_bfloat16>(), m, nullptr);
      CUDA_CHECK(cudaDeviceSynchronize());
      const auto got = download<uint16_t>(out, want.size() + guard);
      size_t positive = 0;
      for (size_t i = 0; i < want.size(); ++i) {
        ASSERT_EQ(got[i], want[i]) << "row " << i / inter << " column " << i % inter << ": gpu "
                                   << bf16_to_float(got[i]) << " cpu " << bf16_to_float(want[i]);
        positive += bf16_to_float(want[i]) != 0.0f;
      }
      EXPECT_GT(positive, want.size() / 8) << "too few non-zero activations to test the product";
      for (size_t i = want.size(); i < got.size(); ++i) ASSERT_EQ(got[i], 0xFFFF) << "written past the output at " << i;
    }
  }
}

TEST(ScaledGemmGpu, Relu2MulEpilogueEqualsTheUnfusedPathBitForBit) {
  SKIP_WITHOUT_GPU();
  if (!scaled_gemm_available()) GTEST_SKIP() << "the scaled GEMM needs a Hopper GPU and an sm_90a build";
  expect_relu2_mul_exact(768, 512, {16, 64, 200, 1024}, 20261205);
}

// run_residual_add on a residual of random bf16 (signs, magnitudes from 1e-3 to 1e3, some exact
// negatives of the GEMM value so sums cancel to zero): every value bf16(float(r) + float(d)), rows
// past m and the guard after them untouched.
void expect_residual_add_exact(int64_t n, int64_t k, std::initializer_list<int64_t> ms, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> code(-127, 127), ternary(-1, 1);
  std::uniform_real_distribution<float> weight_scale(0.005f, 0.02f), log_scale(-7.0f, -1.0f), decade(-3.0f, 3.0f);
  std::normal_distribution<float> normal;
  std::vector<uint8_t> w(static_cast<size_t>(n * k));
  for (auto& c : w) c = static_cast<uint8_t>(static_cast<int8_t>(ternary(rng)));
  std::vector<float> scale_w(static_cast<size_t>(n));
  for (auto& s : scale_w) s = weight_scale(rng);
  const DeviceBuffer w_gpu = upload(w, "weight"), scale_w_gpu = upload(scale_w, "weight scales");
  ScaledGemm gemm(n, k);
  for (int64_t m : ms) {
    const auto [x, scale_x, y] = reference_rows(rng, code, log_scale, w, scale_w, m, n, k);
    const size_t guard = 4096;
    std::vector<uint16_t> residual(y.size() + guard, 0xFFFF), want(y.size() + guard, 0xFFFF);
    for (size_t i = 0; i < y.size(); ++i) {
      const uint16_t d = float_to_bf16(y[i]);
      residual[i] = i % 16 == 3 ? static_cast<uint16_t>(d ^ 0x8000u)  // -d: the sum cancels
                                : float_to_bf16(normal(rng) * std::pow(10.0f, decade(rng)));
      want[i] = float_to_bf16(bf16_to_float(residual[i]) + bf16_to_float(d));
    }
    const DeviceBuffer x_gpu = upload(x, "activations"), scale_x_gpu = upload(scale_x, "activation scales");
    for (ScaledGemmTile tile : scaled_gemm_tiles()) {
      SCOPED_TRACE(std::string(scaled_gemm_tile_name(tile)) + " N=" + std::to_string(n) + " K=" + std::to_string(k) +
                   " M=" + std::to_string(m));
      gemm.set_tile(m, tile);
      DeviceBuffer stream_gpu = upload(residual, "residual stream");
      gemm.run_residual_add(w_gpu.data(), x_gpu.data(), scale_w_gpu.as<float>(), scale_x_gpu.as<float>(),
                            stream_gpu.as<__nv_bfloat16>(), m, nullptr);
      CUDA_CHECK(cudaDeviceSynchronize());
      const auto got = download<uint16_t>(stream_gpu, want.size());
      for (size_t i = 0; i < y.size(); ++i)
        ASSERT_EQ(got[i], want[i]) << "row " << i / n << " column " << i % n << ": gpu " << bf16_to_float(got[i])
                                   << " cpu " << bf16_to_float(want[i]) << " residual "
                                   << bf16_to_float(residual[i]);
      for (size_t i = y.size(); i < got.size(); ++i) ASSERT_EQ(got[i], 0xFFFF) << "written past the output at " << i;
    }
  }
}

TEST(ScaledGemmGpu, ResidualEpilogueAddsInPlaceBitForBit) {
  SKIP_WITHOUT_GPU();
  if (!scaled_gemm_available()) GTEST_SKIP() << "the scaled GEMM needs a Hopper GPU and an sm_90a build";
  expect_residual_add_exact(640, 768, {16, 64, 200, 1024}, 20261206);
}

}  // namespace
}  // namespace slidesparse
