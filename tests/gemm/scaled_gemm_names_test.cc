// The scaled GEMMs' host-side vocabulary (dense and sparse): tile names (the tuning database stores
// them), the default tile per row count, the gate_up row orders, and the errors a shape or a
// machine without the kernels gets. CPU only.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "core/error.h"
#include "gemm/scaled_gemm.h"
#include "gemm/sparse_scaled_gemm.h"
#include "gpu/device_info.h"
#include "test_support.h"

namespace slidesparse {
namespace {

TEST(ScaledGemmNames, EveryTileRoundTripsThroughItsName) {
  ASSERT_EQ(scaled_gemm_tiles().size(), 4u);
  EXPECT_EQ(scaled_gemm_tile_name(ScaledGemmTile::Coop128x256), "coop-128x256");
  EXPECT_EQ(scaled_gemm_tile_name(ScaledGemmTile::Coop128x128), "coop-128x128");
  EXPECT_EQ(scaled_gemm_tile_name(ScaledGemmTile::Pingpong64x128), "pingpong-64x128");
  EXPECT_EQ(scaled_gemm_tile_name(ScaledGemmTile::Pingpong128x128), "pingpong-128x128");
  for (ScaledGemmTile tile : scaled_gemm_tiles()) EXPECT_EQ(parse_scaled_gemm_tile(scaled_gemm_tile_name(tile)), tile);
}

TEST(ScaledGemmNames, UnknownTileNameIsOneClearError) {
  EXPECT_EQ(testing::error_of([] { parse_scaled_gemm_tile("coop-256x256"); }),
            "unknown scaled GEMM tile 'coop-256x256' (coop-128x256, coop-128x128, pingpong-64x128, "
            "pingpong-128x128)");
}

TEST(ScaledGemmNames, DefaultTilePerRowCount) {
  EXPECT_EQ(default_scaled_gemm_tile(16), ScaledGemmTile::Pingpong64x128);
  EXPECT_EQ(default_scaled_gemm_tile(512), ScaledGemmTile::Pingpong64x128);
  EXPECT_EQ(default_scaled_gemm_tile(528), ScaledGemmTile::Pingpong128x128);
  EXPECT_EQ(default_scaled_gemm_tile(4096), ScaledGemmTile::Pingpong128x128);
  EXPECT_EQ(default_scaled_gemm_tile(32768), ScaledGemmTile::Pingpong128x128);
}

TEST(ScaledGemmNames, TuningEntryNameCarriesTheOutputWidth) {
  EXPECT_EQ(scaled_gemm_kernel_name(13824), "scaled_gemm_int8_n13824");
}

TEST(ScaledGemmNames, ShapesTheKernelsDoNotTakeAreRejected) {
  EXPECT_EQ(testing::error_of([] { ScaledGemm(100, 2560); }),
            "scaled GEMM: N must be a multiple of 8 and K of 16, got N=100 K=2560");
  EXPECT_EQ(testing::error_of([] { ScaledGemm(128, 40); }),
            "scaled GEMM: N must be a multiple of 8 and K of 16, got N=128 K=40");
}

TEST(ScaledGemmNames, WithoutAHopperGpuTheKernelsAreAbsentAndSaySo) {
  if (scaled_gemm_available()) GTEST_SKIP() << "a Hopper GPU is present";
  EXPECT_EQ(testing::error_of([] { ScaledGemm(3840, 2560); }),
            "the scaled GEMM needs a Hopper GPU (compute capability 9.0) and a build for sm_90a");
}

// The MLP epilogue's weight order: rows [gate | up] become gate_0, up_0, gate_1, up_1, ...
TEST(ScaledGemmNames, GateAndUpRowsInterleaveOneByOne) {
  // n = 6 rows of 2 bytes: gate rows 0-2 hold 10+r, up rows 3-5 hold 20+r (second byte = first + 100).
  const std::vector<uint8_t> rows = {10, 110, 11, 111, 12, 112, 20, 120, 21, 121, 22, 122};
  EXPECT_EQ(interleave_gate_up_rows(rows, 6, 2),
            (std::vector<uint8_t>{10, 110, 20, 120, 11, 111, 21, 121, 12, 112, 22, 122}));
  // Scales: one float per row.
  const std::vector<float> scales = {1.0f, 2.0f, 3.0f, 4.0f};
  const auto bytes = interleave_gate_up_rows(
      {reinterpret_cast<const uint8_t*>(scales.data()), scales.size() * sizeof(float)}, 4, sizeof(float));
  std::vector<float> interleaved(4);
  std::memcpy(interleaved.data(), bytes.data(), bytes.size());
  EXPECT_EQ(interleaved, (std::vector<float>{1.0f, 3.0f, 2.0f, 4.0f}));
}

// The sparse GEMM's order: blocks of kSparseGateUpBlock gate rows, then as many up rows.
TEST(ScaledGemmNames, GateAndUpRowsInterleaveInBlocks) {
  std::vector<uint8_t> rows(32);  // n = 32 rows of 1 byte: gate rows 0-15, up rows 16-31, each its index
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = static_cast<uint8_t>(i);
  std::vector<uint8_t> want;
  for (int block = 0; block < 2; ++block) {
    for (int i = 0; i < 8; ++i) want.push_back(static_cast<uint8_t>(8 * block + i));
    for (int i = 0; i < 8; ++i) want.push_back(static_cast<uint8_t>(16 + 8 * block + i));
  }
  EXPECT_EQ(interleave_gate_up_rows(rows, 32, 1, kSparseGateUpBlock), want);
  EXPECT_EQ(testing::error_of([&] { interleave_gate_up_rows(std::vector<uint8_t>(24), 24, 1, 8); }),
            "interleave_gate_up_rows: 24 bytes are not 24 rows of 1 (n must be a multiple of 16)");
}

TEST(ScaledGemmNames, InterleavingRejectsOddOrMismatchedRows) {
  const std::vector<uint8_t> six(6);
  EXPECT_EQ(testing::error_of([&] { interleave_gate_up_rows(six, 3, 2); }),
            "interleave_gate_up_rows: 6 bytes are not 3 rows of 2 (n must be even)");
  EXPECT_EQ(testing::error_of([&] { interleave_gate_up_rows(six, 4, 2); }),
            "interleave_gate_up_rows: 6 bytes are not 4 rows of 2 (n must be even)");
}

TEST(SparseScaledGemmNames, EveryTileRoundTripsThroughItsName) {
  ASSERT_EQ(sparse_scaled_gemm_tiles().size(), 4u);
  EXPECT_EQ(sparse_scaled_gemm_tile_name(SparseScaledGemmTile::Coop128x256), "coop-128x256-1x1");
  EXPECT_EQ(sparse_scaled_gemm_tile_name(SparseScaledGemmTile::Coop128x256Cluster2x1), "coop-128x256-2x1");
  EXPECT_EQ(sparse_scaled_gemm_tile_name(SparseScaledGemmTile::Coop128x256Cluster1x2), "coop-128x256-1x2");
  EXPECT_EQ(sparse_scaled_gemm_tile_name(SparseScaledGemmTile::Coop128x128), "coop-128x128-1x1");
  for (SparseScaledGemmTile tile : sparse_scaled_gemm_tiles())
    EXPECT_EQ(parse_sparse_scaled_gemm_tile(sparse_scaled_gemm_tile_name(tile)), tile);
  EXPECT_EQ(testing::error_of([] { parse_sparse_scaled_gemm_tile("coop-128x256"); }),
            "unknown sparse scaled GEMM tile 'coop-128x256' (coop-128x256-1x1, coop-128x256-2x1, coop-128x256-1x2, "
            "coop-128x128-1x1)");
  EXPECT_EQ(sparse_scaled_gemm_kernel_name(3840), "sparse_scaled_gemm_int8_n3840");
}

TEST(SparseScaledGemmNames, OrdersRoundTripAndDescribeTheSchedule) {
  for (SparseTileRaster r : {SparseTileRaster::WeightRows, SparseTileRaster::Tokens})
    EXPECT_EQ(parse_sparse_tile_raster(sparse_tile_raster_name(r)), r);
  EXPECT_EQ(sparse_tile_raster_name(SparseTileRaster::WeightRows), "weight-rows");
  EXPECT_EQ(testing::error_of([] { parse_sparse_tile_raster("columns"); }),
            "unknown sparse scaled GEMM tile order 'columns' (weight-rows, tokens)");
  const SparseScaledGemmSchedule schedule{SparseScaledGemmTile::Coop128x256Cluster2x1, SparseTileRaster::Tokens, 4};
  EXPECT_EQ(describe_sparse_scaled_gemm_schedule(schedule), "coop-128x256-2x1 tokens/4");
  for (int swizzle : {1, 2, 4, 8}) EXPECT_NO_THROW(check_sparse_scaled_gemm_swizzle(swizzle));
  EXPECT_EQ(testing::error_of([] { check_sparse_scaled_gemm_swizzle(3); }),
            "sparse scaled GEMM swizzle must be 1, 2, 4 or 8, got 3");
}

// The 256-token tile once it still gives each of the SMs a tile: n / 128 * ceil(m / 256) >= SMs;
// always walking the weight's rows first.
TEST(SparseScaledGemmNames, DefaultScheduleByTileCount) {
  using T = SparseScaledGemmTile;
  auto tile = [](int64_t m, int64_t n, int sms) {
    const SparseScaledGemmSchedule s = default_sparse_scaled_gemm_schedule(m, n, sms);
    EXPECT_EQ(s.raster, SparseTileRaster::WeightRows);
    EXPECT_EQ(s.swizzle, 1);
    return s.tile;
  };
  EXPECT_EQ(tile(32768, 2560, 132), T::Coop128x256);
  EXPECT_EQ(tile(512, 13824, 132), T::Coop128x256);  // 216 tiles
  EXPECT_EQ(tile(512, 2560, 132), T::Coop128x128);   // 40
  EXPECT_EQ(tile(64, 13824, 132), T::Coop128x128);   // 108
  EXPECT_EQ(tile(64, 13824, 108), T::Coop128x256);
  EXPECT_EQ(tile(64, 13824, 109), T::Coop128x128);
}

// Each tile in the default order; the other five orders only where the tile leaves more output
// tiles than SMs.
TEST(SparseScaledGemmNames, TuneCandidatesAddOrdersOnlyBeyondOneWave) {
  using T = SparseScaledGemmTile;
  const auto decode = sparse_scaled_gemm_candidates(64, 2560, 132);  // 20 output tiles for every tile
  ASSERT_EQ(decode.size(), 4u);
  for (size_t i = 0; i < 4; ++i)
    EXPECT_EQ(decode[i], (SparseScaledGemmSchedule{sparse_scaled_gemm_tiles()[i], SparseTileRaster::WeightRows, 1}));
  // m=1024, n=13824: 108 x 4 = 432 wide tiles, 108 x 8 = 864 narrow ones: all 24.
  EXPECT_EQ(sparse_scaled_gemm_candidates(1024, 13824, 132).size(), 24u);
  // m=512, n=2560: 40 wide tiles (one wave), 80 narrow ones; with 64 SMs only the narrow tile's orders.
  const auto mixed = sparse_scaled_gemm_candidates(512, 2560, 64);
  ASSERT_EQ(mixed.size(), 9u);
  EXPECT_EQ(mixed[3], (SparseScaledGemmSchedule{T::Coop128x128, SparseTileRaster::WeightRows, 1}));
  EXPECT_EQ(mixed[8], (SparseScaledGemmSchedule{T::Coop128x128, SparseTileRaster::Tokens, 4}));
}

TEST(SparseScaledGemmNames, ShapesAndMachinesTheKernelsDoNotTakeAreRejected) {
  EXPECT_EQ(testing::error_of([] { SparseScaledGemm(100, 2560); }),
            "sparse scaled GEMM: N must be a multiple of 64 and K of 128, got N=100 K=2560");
  EXPECT_EQ(testing::error_of([] { SparseScaledGemm(128, 64); }),
            "sparse scaled GEMM: N must be a multiple of 64 and K of 128, got N=128 K=64");
  if (sparse_scaled_gemm_available()) GTEST_SKIP() << "a Hopper GPU is present";
  EXPECT_EQ(testing::error_of([] { SparseScaledGemm(3840, 2560); }),
            "the sparse scaled GEMM needs a Hopper GPU (compute capability 9.0) and a build for sm_90a");
}

}  // namespace
}  // namespace slidesparse
