// The scaled GEMMs (CUTLASS INT8, both scales in the epilogue: the dense one and the 2:4 sparse
// one) against the CPU reference: every compiled tile, row counts that fill whole tiles and ones
// that leave a remainder, the output poisoned before each run. Each must give the bits of the int32
// accumulator + dequantization epilogue, which the CPU reference reproduces exactly; with the MLP
// epilogue, those bits followed by relu2(gate) * up; with the residual epilogue, bf16(residual +
// those bits) written in place. The sparse GEMM runs on weights pruned to 2:4 (some groups of four
// with fewer than two non-zeros), the reference on the same pruned weight.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <memory>
#include <random>
#include <string>

#include "gemm/scaled_gemm.h"
#include "gemm/sparse_scaled_gemm.h"
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

// One of the two GEMMs on one weight [n, k] (codes on the host, rows already in the order its
// epilogue needs): its tiles by name, and its three runs on device activations.
struct GemmUnderTest {
  using Run = std::function<void(const void* x, const float* scale_x, __nv_bfloat16* d, int64_t m)>;
  std::vector<std::string> tiles;
  std::function<void(int64_t m, size_t tile)> set_tile;
  Run run, run_relu2_mul, run_residual_add;
  int64_t gate_up_block = 1;  // interleave_gate_up_rows' block for run_relu2_mul's weight
};
enum class Kind { Dense, Sparse };

// block: the dense GEMM's gate_up order (1, or the sparse GEMM's kSparseGateUpBlock); the sparse GEMM
// takes only its own.
GemmUnderTest gemm_under_test(Kind kind, const std::vector<uint8_t>& w, const std::vector<float>& scale_w, int64_t n,
                              int64_t k, int64_t block = 1) {
  auto scale = std::make_shared<DeviceBuffer>(upload(scale_w, "weight scales"));
  GemmUnderTest g;
  if (kind == Kind::Dense) {
    auto gemm = std::make_shared<ScaledGemm>(n, k);
    auto weight = std::make_shared<DeviceBuffer>(upload(w, "weight"));
    for (ScaledGemmTile t : scaled_gemm_tiles()) g.tiles.emplace_back(scaled_gemm_tile_name(t));
    g.set_tile = [gemm](int64_t m, size_t t) { gemm->set_tile(m, scaled_gemm_tiles()[t]); };
    auto bind = [=](auto member) -> GemmUnderTest::Run {
      return [=](const void* x, const float* sx, __nv_bfloat16* d, int64_t m) {
        ((*gemm).*member)(weight->data(), x, scale->as<float>(), sx, d, m, nullptr);
      };
    };
    g.run = bind(&ScaledGemm::run);
    g.run_relu2_mul = [=](const void* x, const float* sx, __nv_bfloat16* d, int64_t m) {
      gemm->run_relu2_mul(weight->data(), x, scale->as<float>(), sx, d, m, nullptr, block);
    };
    g.run_residual_add = bind(&ScaledGemm::run_residual_add);
    g.gate_up_block = block;
    return g;
  }
  auto gemm = std::make_shared<SparseScaledGemm>(n, k);
  const DeviceBuffer weight = upload(w, "2:4 weight");
  const int index = gemm->add_weight(weight.data(), nullptr);
  // Every tile in the default order, and two in other orders (the scheduler's walk over the output
  // tiles, a launch argument).
  std::vector<SparseScaledGemmSchedule> schedules;
  for (SparseScaledGemmTile t : sparse_scaled_gemm_tiles()) schedules.push_back({t, SparseTileRaster::WeightRows, 1});
  schedules.push_back({SparseScaledGemmTile::Coop128x256, SparseTileRaster::Tokens, 4});
  schedules.push_back({SparseScaledGemmTile::Coop128x256Cluster2x1, SparseTileRaster::Tokens, 2});
  for (const auto& schedule : schedules) g.tiles.push_back(describe_sparse_scaled_gemm_schedule(schedule));
  g.set_tile = [gemm, schedules](int64_t m, size_t t) { gemm->set_schedule(m, schedules[t]); };
  auto bind = [=](auto member) -> GemmUnderTest::Run {
    return [=](const void* x, const float* sx, __nv_bfloat16* d, int64_t m) {
      ((*gemm).*member)(index, x, scale->as<float>(), sx, d, m, nullptr);
    };
  };
  g.run = bind(&SparseScaledGemm::run);
  g.run_relu2_mul = bind(&SparseScaledGemm::run_relu2_mul);
  g.run_residual_add = bind(&SparseScaledGemm::run_residual_add);
  g.gate_up_block = kSparseGateUpBlock;
  return g;
}

// For the sparse GEMM: every group of four along k keeps at most two codes, at random positions
// (a quarter of the groups keep one or none).
void prune_2_of_4(std::mt19937& rng, std::vector<uint8_t>& w) {
  std::uniform_int_distribution<int> position(0, 3), kept(0, 7);
  for (size_t g = 0; g + 4 <= w.size(); g += 4) {
    const int keep = kept(rng) == 0 ? 0 : kept(rng) == 1 ? 1 : 2;
    const int a = position(rng), b = (a + 1 + position(rng) % 3) % 4;
    for (int i = 0; i < 4; ++i)
      if (!((keep >= 1 && i == a) || (keep == 2 && i == b))) w[g + static_cast<size_t>(i)] = 0;
  }
}

bool skip_without(Kind kind) {
  return kind == Kind::Dense ? !scaled_gemm_available() : !sparse_scaled_gemm_available();
}
#define SKIP_WITHOUT_KERNELS(kind)                                                                \
  SKIP_WITHOUT_GPU();                                                                               \
  if (skip_without(kind)) GTEST_SKIP() << "the scaled GEMMs need a Hopper GPU and an sm_90a build"

// Every compiled tile on one weight shape at the given row counts, output and workspace poisoned.
void expect_every_tile_exact(Kind kind, int64_t n, int64_t k, std::initializer_list<int64_t> ms, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> code(-127, 127);
  std::uniform_real_distribution<float> weight_scale(0.005f, 0.02f), log_scale(-6.0f, 0.0f);
  std::vector<uint8_t> w(static_cast<size_t>(n * k));
  for (auto& c : w) c = static_cast<uint8_t>(static_cast<int8_t>(code(rng)));
  if (kind == Kind::Sparse) prune_2_of_4(rng, w);
  std::vector<float> scale_w(static_cast<size_t>(n));
  for (auto& s : scale_w) s = weight_scale(rng);
  const GemmUnderTest gemm = gemm_under_test(kind, w, scale_w, n, k);
  for (int64_t m : ms) {
    const auto [x, scale_x, y] = reference_rows(rng, code, log_scale, w, scale_w, m, n, k);
    std::vector<uint16_t> want(y.size());
    for (size_t i = 0; i < y.size(); ++i) want[i] = float_to_bf16(y[i]);
    const DeviceBuffer x_gpu = upload(x, "activations"), scale_x_gpu = upload(scale_x, "activation scales");
    DeviceBuffer d(static_cast<size_t>(m * n) * 2, "output");
    for (size_t tile = 0; tile < gemm.tiles.size(); ++tile) {
      SCOPED_TRACE(gemm.tiles[tile] + " N=" + std::to_string(n) + " K=" + std::to_string(k) +
                   " M=" + std::to_string(m));
      gemm.set_tile(m, tile);
      CUDA_CHECK(cudaMemset(d.data(), 0xFF, d.bytes()));  // poison: bf16 0xFFFF is NaN
      gemm.run(x_gpu.data(), scale_x_gpu.as<float>(), d.as<__nv_bfloat16>(), m);
      CUDA_CHECK(cudaDeviceSynchronize());
      const auto got = download<uint16_t>(d, static_cast<size_t>(m * n));
      for (size_t i = 0; i < want.size(); ++i)
        ASSERT_EQ(got[i], want[i]) << "row " << i / n << " column " << i % n << ": gpu " << bf16_to_float(got[i])
                                   << " cpu " << bf16_to_float(want[i]);
    }
  }
}

TEST(ScaledGemmGpu, EveryTileEqualsTheCpuReferenceBitForBit) {
  SKIP_WITHOUT_KERNELS(Kind::Dense);
  expect_every_tile_exact(Kind::Dense, 384, 512, {16, 64, 304, 1024}, 20261203);
}

// N = 320: the last tile of weight rows is partial.
TEST(SparseScaledGemmGpu, EveryTileEqualsTheCpuReferenceBitForBit) {
  SKIP_WITHOUT_KERNELS(Kind::Sparse);
  expect_every_tile_exact(Kind::Sparse, 384, 512, {16, 64, 304, 1024}, 20261207);
  expect_every_tile_exact(Kind::Sparse, 320, 384, {48, 528}, 20261208);
}

// down's long K (54 k-tiles of 128) on few output tiles: the int32 sums stay exact over the whole
// mainloop, and a grid of fewer tiles than SMs is handled.
TEST(ScaledGemmGpu, LongKOnFewTilesStaysExact) {
  SKIP_WITHOUT_KERNELS(Kind::Dense);
  expect_every_tile_exact(Kind::Dense, 256, 6912, {64, 128, 200}, 20261204);
}

TEST(SparseScaledGemmGpu, LongKOnFewTilesStaysExact) {
  SKIP_WITHOUT_KERNELS(Kind::Sparse);
  expect_every_tile_exact(Kind::Sparse, 256, 6912, {64, 128, 200}, 20261209);
}

// The MLP epilogue: gate_up's rows interleaved, out [m, n/2] = relu2(gate) * up with the bits of
// the plain scaled GEMM followed by math/activation.h, every tile, the output poisoned and the
// bytes past its m x n/2 values checked untouched.
void expect_relu2_mul_exact(Kind kind, int64_t n, int64_t k, std::initializer_list<int64_t> ms, uint32_t seed,
                            int64_t block = 1) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> code(-127, 127), ternary(-1, 1);
  std::uniform_real_distribution<float> weight_scale(0.005f, 0.02f), log_scale(-7.0f, -1.0f);
  std::vector<uint8_t> w(static_cast<size_t>(n * k));  // [gate | up] rows, ternary as BitNet's
  for (auto& c : w) c = static_cast<uint8_t>(static_cast<int8_t>(ternary(rng)));
  if (kind == Kind::Sparse) prune_2_of_4(rng, w);
  std::vector<float> scale_w(static_cast<size_t>(n));
  for (auto& s : scale_w) s = weight_scale(rng);
  const auto scale_bytes = interleave_gate_up_rows(
      {reinterpret_cast<const uint8_t*>(scale_w.data()), scale_w.size() * sizeof(float)}, n, sizeof(float), block);
  std::vector<float> interleaved_scale(scale_w.size());
  std::memcpy(interleaved_scale.data(), scale_bytes.data(), scale_bytes.size());
  const GemmUnderTest gemm =
      gemm_under_test(kind, interleave_gate_up_rows(w, n, k, block), interleaved_scale, n, k, block);
  ASSERT_EQ(gemm.gate_up_block, block);
  const int64_t inter = n / 2;
  for (int64_t m : ms) {
    const auto [x, scale_x, y] = reference_rows(rng, code, log_scale, w, scale_w, m, n, k);
    std::vector<uint16_t> gate_up(y.size()), want(static_cast<size_t>(m * inter));
    for (size_t i = 0; i < y.size(); ++i) gate_up[i] = float_to_bf16(y[i]);
    relu2_mul_rows_bf16(gate_up.data(), m, inter, want.data());
    const DeviceBuffer x_gpu = upload(x, "activations"), scale_x_gpu = upload(scale_x, "activation scales");
    const size_t guard = 4096;  // values after the output that must stay poisoned
    DeviceBuffer out((want.size() + guard) * 2, "output");
    for (size_t tile = 0; tile < gemm.tiles.size(); ++tile) {
      SCOPED_TRACE(gemm.tiles[tile] + " N=" + std::to_string(n) + " K=" + std::to_string(k) +
                   " M=" + std::to_string(m));
      gemm.set_tile(m, tile);
      CUDA_CHECK(cudaMemset(out.data(), 0xFF, out.bytes()));
      gemm.run_relu2_mul(x_gpu.data(), scale_x_gpu.as<float>(), out.as<__nv_bfloat16>(), m);
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
  SKIP_WITHOUT_KERNELS(Kind::Dense);
  expect_relu2_mul_exact(Kind::Dense, 768, 512, {16, 64, 200, 1024}, 20261205);
}

// The dense GEMM on the sparse GEMM's blocked gate_up order (the dense fallback of a 2:4 linear
// stored for the sparse scaled GEMM).
TEST(ScaledGemmGpu, Relu2MulEpilogueOnBlockedRowsEqualsTheUnfusedPathBitForBit) {
  SKIP_WITHOUT_KERNELS(Kind::Dense);
  expect_relu2_mul_exact(Kind::Dense, 768, 512, {16, 64, 200, 1024}, 20261213, kSparseGateUpBlock);
  expect_relu2_mul_exact(Kind::Dense, 832, 384, {48, 336}, 20261214, kSparseGateUpBlock);
}

// N = 832: 52 blocks of 16 rows, the last tile of rows partial.
TEST(SparseScaledGemmGpu, Relu2MulEpilogueEqualsTheUnfusedPathBitForBit) {
  SKIP_WITHOUT_KERNELS(Kind::Sparse);
  expect_relu2_mul_exact(Kind::Sparse, 768, 512, {16, 64, 200, 1024}, 20261210, kSparseGateUpBlock);
  expect_relu2_mul_exact(Kind::Sparse, 832, 384, {48, 336}, 20261211, kSparseGateUpBlock);
}

// run_residual_add on a residual of random bf16 (signs, magnitudes from 1e-3 to 1e3, some exact
// negatives of the GEMM value so sums cancel to zero): every value bf16(float(r) + float(d)), rows
// past m and the guard after them untouched.
void expect_residual_add_exact(Kind kind, int64_t n, int64_t k, std::initializer_list<int64_t> ms, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> code(-127, 127), ternary(-1, 1);
  std::uniform_real_distribution<float> weight_scale(0.005f, 0.02f), log_scale(-7.0f, -1.0f), decade(-3.0f, 3.0f);
  std::normal_distribution<float> normal;
  std::vector<uint8_t> w(static_cast<size_t>(n * k));
  for (auto& c : w) c = static_cast<uint8_t>(static_cast<int8_t>(ternary(rng)));
  if (kind == Kind::Sparse) prune_2_of_4(rng, w);
  std::vector<float> scale_w(static_cast<size_t>(n));
  for (auto& s : scale_w) s = weight_scale(rng);
  const GemmUnderTest gemm = gemm_under_test(kind, w, scale_w, n, k);
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
    for (size_t tile = 0; tile < gemm.tiles.size(); ++tile) {
      SCOPED_TRACE(gemm.tiles[tile] + " N=" + std::to_string(n) + " K=" + std::to_string(k) +
                   " M=" + std::to_string(m));
      gemm.set_tile(m, tile);
      DeviceBuffer stream_gpu = upload(residual, "residual stream");
      gemm.run_residual_add(x_gpu.data(), scale_x_gpu.as<float>(), stream_gpu.as<__nv_bfloat16>(), m);
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
  SKIP_WITHOUT_KERNELS(Kind::Dense);
  expect_residual_add_exact(Kind::Dense, 640, 768, {16, 64, 200, 1024}, 20261206);
}

TEST(SparseScaledGemmGpu, ResidualEpilogueAddsInPlaceBitForBit) {
  SKIP_WITHOUT_KERNELS(Kind::Sparse);
  expect_residual_add_exact(Kind::Sparse, 640, 768, {16, 64, 200, 1024}, 20261212);
}

}  // namespace
}  // namespace slidesparse
