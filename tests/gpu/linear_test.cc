// The W8A8 linear operator on the GPU against the CPU reference: the sparse backend on slid weights
// must equal the dense backend on the pruned weights (INT8 bit-identical with exact epilogues, FP8
// within accumulation-order tolerance), for every L in 4..16 and M in {1, 7, 16, 63, 64, 100, 1000, 4096}.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <random>

#include "core/error.h"
#include "gemm/w8a8_linear.h"
#include "gpu/cuda_check.h"
#include "gpu/device_buffer.h"
#include "gpu/device_info.h"
#include "gpu_test_util.h"
#include "math/numeric_formats.h"
#include "math/prune.h"
#include "math/quantize.h"
#include "math/reference_linear.h"
#include "math/slide.h"
#include "test_support.h"

namespace slidesparse {
namespace {

using testing::download;
using testing::upload;

constexpr int64_t kN = 128, kK = 256;

double relative_error(const std::vector<uint16_t>& got, const std::vector<uint16_t>& want) {
  double diff = 0, norm = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    const double g = bf16_to_float(got[i]), w = bf16_to_float(want[i]);
    if (std::isnan(g)) return INFINITY;
    diff += (g - w) * (g - w);
    norm += w * w;
  }
  return std::sqrt(diff / norm);
}

struct Problem {
  QuantKind kind;
  int group;
  std::vector<uint8_t> pruned, slid;
  std::vector<float> scale_w;
  SlideGeometry geometry;
};

Problem make_problem(QuantKind kind, int group, uint32_t seed) {
  std::mt19937 rng(seed);
  Problem p{kind, group, {}, {}, {}, make_slide_geometry(kK, group)};
  p.pruned.resize(kN * kK);
  std::uniform_int_distribution<int> int8(-127, 127);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  for (auto& c : p.pruned)
    c = kind == QuantKind::Int8 ? static_cast<uint8_t>(static_cast<int8_t>(int8(rng))) : float_to_e4m3(normal(rng));
  PruneOptions options;
  options.group = group;
  prune_rows(kind, p.pruned.data(), kN, kK, options);
  p.slid.resize(static_cast<size_t>(kN * p.geometry.k_slid));
  slide_weight_rows(kind, p.geometry, p.pruned.data(), kN, p.slid.data());
  std::uniform_real_distribution<float> scale(0.005f, 0.02f);
  for (int64_t n = 0; n < kN; ++n) p.scale_w.push_back(scale(rng));
  return p;
}

// bf16 activations with per-row magnitudes spanning a few decades.
std::vector<uint16_t> make_activations(int64_t m, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<uint16_t> x(static_cast<size_t>(m * kK));
  for (int64_t r = 0; r < m; ++r) {
    const float magnitude = std::pow(10.0f, static_cast<float>(r % 5) - 2.0f);
    for (int64_t c = 0; c < kK; ++c) x[r * kK + c] = float_to_bf16(normal(rng) * magnitude);
  }
  return x;
}

std::vector<uint16_t> cpu_reference(const Problem& p, const std::vector<uint16_t>& x, int64_t m) {
  std::vector<float> xf(x.size());
  for (size_t i = 0; i < x.size(); ++i) xf[i] = bf16_to_float(x[i]);
  std::vector<uint8_t> xq(x.size());
  std::vector<float> sx(static_cast<size_t>(m)), y(static_cast<size_t>(m * kN));
  quantize_rows(p.kind, xf.data(), m, kK, xq.data(), sx.data());
  reference_linear_w8a8(p.kind, xq.data(), sx.data(), p.pruned.data(), p.scale_w.data(), m, kN, kK, y.data());
  std::vector<uint16_t> out(y.size());
  for (size_t i = 0; i < y.size(); ++i) out[i] = float_to_bf16(y[i]);
  return out;
}

std::vector<uint16_t> run_linear(const LinearConfig& config, const void* weight, const float* scale_w,
                                 const DeviceBuffer& x, int64_t m) {
  W8A8Linear linear(config, weight, scale_w, nullptr);
  linear.prepare(m, nullptr);
  DeviceBuffer y(static_cast<size_t>(padded_rows(m) * kN * 2), "test output");
  CUDA_CHECK(cudaMemset(y.data(), 0xFF, y.bytes()));  // poison: bf16 0xFFFF is NaN
  DeviceBuffer workspace(size_t{64} << 20, "workspace");
  linear.forward(static_cast<const __nv_bfloat16*>(x.data()), m, static_cast<__nv_bfloat16*>(y.data()),
                 workspace.data(), workspace.bytes(), nullptr);
  CUDA_CHECK(cudaDeviceSynchronize());
  return download<uint16_t>(y, static_cast<size_t>(m * kN));
}

class SparseEqualsDense : public ::testing::TestWithParam<std::tuple<QuantKind, int>> {};

TEST_P(SparseEqualsDense, EveryM) {
  SKIP_WITHOUT_GPU();
  const auto [kind, group] = GetParam();
  if (kind == QuantKind::Fp8E4M3 && !query_device().supports_fp8()) GTEST_SKIP() << "FP8 needs cc >= 8.9";
  const Problem p = make_problem(kind, group, 1000 + group);
  const DeviceBuffer pruned = upload(p.pruned, "pruned weight"), slid = upload(p.slid, "slid weight");
  const DeviceBuffer scale_w = upload(p.scale_w, "weight scales");
  const bool int8 = kind == QuantKind::Int8;
  const GemmOutput exact_output = int8 ? GemmOutput::Int32 : GemmOutput::Float32;
  for (int64_t m : {1, 7, 16, 63, 64, 100, 1000, 4096}) {
    SCOPED_TRACE("L=" + std::to_string(group) + " M=" + std::to_string(m));
    const auto x_host = make_activations(m, static_cast<uint32_t>(m * 31 + group));
    const DeviceBuffer x = upload(x_host, "activations");
    const auto want = cpu_reference(p, x_host, m);

    LinearConfig dense{kind, kN, kK, Sparsity::dense(), exact_output, ScaleMode::Epilogue, m};
    LinearConfig sparse{kind, kN, kK, Sparsity::two_of(group), exact_output, ScaleMode::Epilogue, m};
    const auto dense_y = run_linear(dense, pruned.data(), scale_w.as<float>(), x, m);
    const auto sparse_y = run_linear(sparse, slid.data(), scale_w.as<float>(), x, m);
    if (int8) {
      ASSERT_EQ(sparse_y, dense_y);  // bit-identical
      ASSERT_EQ(dense_y, want);      // and equal to the CPU reference
    } else {
      ASSERT_LT(relative_error(sparse_y, dense_y), 2e-3);
      ASSERT_LT(relative_error(dense_y, want), 2e-3);
    }
    // The fast configurations (scales inside the GEMM, bf16 outputs) round twice: bf16-level error,
    // except INT8 dense on Hopper (the scaled GEMM, one rounding after both scales).
    const auto fast_dense =
        run_linear(default_linear_config(kind, kN, kK, Sparsity::dense(), m), pruned.data(), scale_w.as<float>(), x, m);
    const auto fast_sparse = run_linear(default_linear_config(kind, kN, kK, Sparsity::two_of(group), m),
                                        slid.data(), scale_w.as<float>(), x, m);
    if (int8 && scaled_gemm_available()) {
      ASSERT_EQ(fast_dense, want);  // the scaled GEMM applies both scales the way the exact epilogue does
    }
    EXPECT_LT(relative_error(fast_dense, want), 8e-3);
    // With the engine's preference for fast FP8 accumulation (cuBLASLt).
    const auto fast_accum_dense = run_linear(
        default_linear_config(kind, kN, kK, Sparsity::dense(), m, {.fp8_fast_accum = true}), pruned.data(),
        scale_w.as<float>(), x, m);
    EXPECT_LT(relative_error(fast_accum_dense, want), 8e-3);
    EXPECT_LT(relative_error(fast_sparse, want), 8e-3);
  }
}

INSTANTIATE_TEST_SUITE_P(AllPatterns, SparseEqualsDense,
                         ::testing::Combine(::testing::Values(QuantKind::Int8, QuantKind::Fp8E4M3),
                                            ::testing::Values(4, 6, 8, 10, 12, 14, 16)));

// A 2:L linear with a dense fallback runs the dense GEMM on its pruned weight (2:4: the slid weight
// itself; 2:8: its un-slid copy, on plain activations) at the row counts where the database timed
// that faster, and cuSPARSELt elsewhere; each gives the output of its own backend.
TEST(LinearGpu, DenseFallbackRunsWhereTheDatabaseTimedItFaster) {
  SKIP_WITHOUT_GPU();
  for (const auto& [kind, group] : {std::pair{QuantKind::Int8, 4}, std::pair{QuantKind::Fp8E4M3, 4},
                                    std::pair{QuantKind::Int8, 8}, std::pair{QuantKind::Fp8E4M3, 8}}) {
    if (kind == QuantKind::Fp8E4M3 && !query_device().supports_fp8()) continue;
    SCOPED_TRACE(std::string(quant_kind_name(kind)) + " 2:" + std::to_string(group));
    const Problem p = make_problem(kind, group, 4242);
    // 2:4: the slid weight holds the pruned weight's values (FP8 zeros may change sign); 2:8: the
    // fallback's weight is the slid one un-slid, which is the pruned one up to those signs.
    std::vector<uint8_t> unslid(p.pruned.size());
    unslide_weight_rows(p.geometry, p.slid.data(), p.geometry.k_slid, kN, unslid.data());
    if (kind == QuantKind::Int8) {
      ASSERT_EQ(unslid, p.pruned);
    }
    const DeviceBuffer w = upload(p.slid, "slid weight"), plain = upload(unslid, "un-slid weight"),
                       scale_w = upload(p.scale_w, "weight scales");
    const void* dense_weight = group == 4 ? w.data() : plain.data();
    constexpr int64_t kMaxM = 128;
    const LinearPreferences preferences{.fp8_fast_accum = true};
    const LinearConfig sparse = default_linear_config(kind, kN, kK, Sparsity::two_of(group), kMaxM, preferences);
    const LinearConfig dense = default_linear_config(kind, kN, kK, Sparsity::dense(), kMaxM, preferences);
    TuningDatabase db(HardwareTag{"test", 90, 1, 1, 1, 1});
    auto record = [&](const LinearConfig& c, int64_t rows, double us) {
      if (runs_scaled_gemm(c))
        db.record_kernel(scaled_gemm_kernel_name(kN), kK, rows,
                         {{"tile", std::string(scaled_gemm_tile_name(default_scaled_gemm_tile(rows)))},
                          {"latency_us", us}});
      else {
        GemmChoice choice;
        choice.latency_us = us;
        db.record_gemm(linear_tuning_key(c, linear_gemm_k(kK, c.sparsity)), rows, choice);
      }
    };
    record(sparse, 64, 10.0), record(dense, 64, 5.0);    // dense faster at 64 rows
    record(sparse, 128, 10.0), record(dense, 128, 20.0);  // cuSPARSELt faster at 128
    std::vector<LinearWeight> fallback_weights;
    if (group != 4) fallback_weights.push_back({plain.data(), scale_w.as<float>()});
    W8A8Linear linear(sparse, {{w.data(), scale_w.as<float>()}}, nullptr, DenseFallback{dense, fallback_weights});
    ASSERT_TRUE(linear.has_dense_fallback());
    linear.prepare(64, &db);
    linear.prepare(128, &db);
    EXPECT_TRUE(linear.runs_dense_fallback(64));
    EXPECT_TRUE(linear.runs_dense_fallback(50));  // padded to 64 rows
    EXPECT_FALSE(linear.runs_dense_fallback(128));
    EXPECT_NE(linear.describe_plan(64).find(" on the 2:" + std::to_string(group) +
                                            " weight (tuned 5.0 us, cuSPARSELt 10.0 us)"),
              std::string::npos)
        << linear.describe_plan(64);
    EXPECT_EQ(linear.input_slide(50), nullptr);
    EXPECT_EQ(linear.input_k(50), kK);
    EXPECT_EQ(linear.input_slide(128), &linear.slide_geometry());
    EXPECT_EQ(linear.input_k(128), linear.gemm_k());
    EXPECT_EQ(linear.running_config(50).sparsity, Sparsity::dense());
    DeviceBuffer workspace(size_t{64} << 20, "workspace");
    for (int64_t m : {50, 128}) {
      SCOPED_TRACE("M=" + std::to_string(m));
      const DeviceBuffer x = upload(make_activations(m, static_cast<uint32_t>(m + 9)), "activations");
      DeviceBuffer y(static_cast<size_t>(padded_rows(m) * kN * 2), "output");
      CUDA_CHECK(cudaMemset(y.data(), 0xFF, y.bytes()));  // poison: bf16 0xFFFF is NaN
      linear.forward(x.as<__nv_bfloat16>(), m, y.as<__nv_bfloat16>(), workspace.data(), workspace.bytes(), nullptr);
      CUDA_CHECK(cudaDeviceSynchronize());
      const auto got = download<uint16_t>(y, static_cast<size_t>(m * kN));
      const bool fell_back = m == 50;
      const auto want = run_linear(fell_back ? dense : sparse, fell_back ? dense_weight : w.data(), scale_w.as<float>(),
                                   x, m);
      EXPECT_EQ(got, want);  // the same GEMM on the same codes: the same bits
      // The fused consumers' view follows the GEMM that ran: both scales applied in the dense GEMM
      // (INT8 scaled GEMM, FP8 cuBLASLt outer vectors where offered), none of them in cuSPARSELt FP8.
      const AccView view = linear.output_view(m, y.data(), linear.activation_scales());
      const LinearConfig& ran = m == 50 ? dense : sparse;
      EXPECT_EQ(view.scale_x != nullptr, ran.scales != ScaleMode::BothInGemm);
      EXPECT_EQ(view.scale_w != nullptr, ran.scales == ScaleMode::Epilogue);
    }
  }
}

// A dense fallback for every row count (the database timed the dense GEMM faster at every row count
// it searched): the sparse GEMM is never built, a 2:8 linear takes only its un-slid weights, and the
// dense GEMM runs at rows the database timed and at rows it did not, with the dense GEMM's bits.
TEST(LinearGpu, DenseFallbackForEveryRowCountRunsTheDenseGemmEverywhere) {
  SKIP_WITHOUT_GPU();
  for (const auto& [kind, group] : {std::pair{QuantKind::Int8, 4}, std::pair{QuantKind::Int8, 8},
                                    std::pair{QuantKind::Fp8E4M3, 8}}) {
    if (kind == QuantKind::Fp8E4M3 && !query_device().supports_fp8()) continue;
    SCOPED_TRACE(std::string(quant_kind_name(kind)) + " 2:" + std::to_string(group));
    const Problem p = make_problem(kind, group, 5151);
    std::vector<uint8_t> unslid(p.pruned.size());
    unslide_weight_rows(p.geometry, p.slid.data(), p.geometry.k_slid, kN, unslid.data());
    const DeviceBuffer w = upload(p.slid, "slid weight"), plain = upload(unslid, "un-slid weight"),
                       scale_w = upload(p.scale_w, "weight scales");
    constexpr int64_t kMaxM = 128;
    const LinearPreferences preferences{.fp8_fast_accum = true};
    const LinearConfig sparse = default_linear_config(kind, kN, kK, Sparsity::two_of(group), kMaxM, preferences);
    const LinearConfig dense = default_linear_config(kind, kN, kK, Sparsity::dense(), kMaxM, preferences);
    TuningDatabase db(HardwareTag{"test", 90, 1, 1, 1, 1});
    GemmChoice sparse_choice;
    sparse_choice.latency_us = 10.0;
    db.record_gemm(linear_tuning_key(sparse, linear_gemm_k(kK, sparse.sparsity)), 64, sparse_choice);
    if (runs_scaled_gemm(dense)) {
      db.record_kernel(scaled_gemm_kernel_name(kN), kK, 64,
                       {{"tile", std::string(scaled_gemm_tile_name(default_scaled_gemm_tile(64)))},
                        {"latency_us", 5.0}});
    } else {
      GemmChoice dense_choice;
      dense_choice.latency_us = 5.0;
      db.record_gemm(linear_tuning_key(dense, kK), 64, dense_choice);
    }
    ASSERT_TRUE(dense_fallback_always_runs(db, sparse, dense));
    // 2:4 (K' = K): the fallback runs the linear's own weight; 2:8: it is given only the un-slid one.
    const bool own = group == 4;
    const std::vector<LinearWeight> weights = own ? std::vector<LinearWeight>{{w.data(), scale_w.as<float>()}}
                                                  : std::vector<LinearWeight>{};
    const std::vector<LinearWeight> fallback_weights =
        own ? std::vector<LinearWeight>{} : std::vector<LinearWeight>{{plain.data(), scale_w.as<float>()}};
    W8A8Linear linear(sparse, weights, nullptr, DenseFallback{dense, fallback_weights, true});
    EXPECT_TRUE(linear.runs_dense_fallback_only());
    EXPECT_NE(linear.describe().find(", runs its dense fallback at every row count"), std::string::npos)
        << linear.describe();
    linear.prepare(64, &db);
    linear.prepare(128, &db);  // not timed at 128 rows
    EXPECT_NE(linear.describe_plan(64).find(" weight (tuned 5.0 us, cuSPARSELt 10.0 us)"), std::string::npos)
        << linear.describe_plan(64);
    EXPECT_NE(linear.describe_plan(128).find(" weight (not timed at these rows: the dense GEMM won wherever both "
                                             "were timed)"),
              std::string::npos)
        << linear.describe_plan(128);
    DeviceBuffer workspace(size_t{64} << 20, "workspace");
    for (int64_t m : {50, 128}) {
      SCOPED_TRACE("M=" + std::to_string(m));
      EXPECT_TRUE(linear.runs_dense_fallback(m));
      EXPECT_EQ(linear.input_slide(m), nullptr);
      EXPECT_EQ(linear.input_k(m), kK);
      const DeviceBuffer x = upload(make_activations(m, static_cast<uint32_t>(m + 29)), "activations");
      DeviceBuffer y(static_cast<size_t>(padded_rows(m) * kN * 2), "output");
      CUDA_CHECK(cudaMemset(y.data(), 0xFF, y.bytes()));  // poison: bf16 0xFFFF is NaN
      linear.forward(x.as<__nv_bfloat16>(), m, y.as<__nv_bfloat16>(), workspace.data(), workspace.bytes(), nullptr);
      CUDA_CHECK(cudaDeviceSynchronize());
      EXPECT_EQ(download<uint16_t>(y, static_cast<size_t>(m * kN)),
                run_linear(dense, own ? w.data() : plain.data(), scale_w.as<float>(), x, m));
    }
  }
}

// On the sparse scaled GEMM, a 2:4 linear's dense fallback is the dense scaled GEMM in the same
// fused form: here gate_up's relu2 * up on the sparse GEMM's blocked row order. Wherever each runs,
// the same bits; a fallback on the same weights in another row order is refused.
TEST(LinearGpu, SparseScaledGemmFallsBackToTheDenseScaledGemmInItsForm) {
  SKIP_WITHOUT_GPU();
  if (!scaled_gemm_available() || !sparse_scaled_gemm_available())
    GTEST_SKIP() << "the scaled GEMMs need a Hopper GPU and an sm_90a build";
  const Problem p = make_problem(QuantKind::Int8, 4, 4343);
  const auto scale_bytes = interleave_gate_up_rows(
      {reinterpret_cast<const uint8_t*>(p.scale_w.data()), p.scale_w.size() * sizeof(float)}, kN, sizeof(float),
      kSparseGateUpBlock);
  const DeviceBuffer w = upload(interleave_gate_up_rows(p.slid, kN, kK, kSparseGateUpBlock), "blocked 2:4 weight"),
                     scale_w = upload(scale_bytes, "blocked weight scales");
  constexpr int64_t kMaxM = 128;
  LinearConfig sparse = default_linear_config(QuantKind::Int8, kN, kK, Sparsity::two_of(4), kMaxM,
                                              {.sparse_scaled_gemm = true});
  LinearConfig dense = default_linear_config(QuantKind::Int8, kN, kK, Sparsity::dense(), kMaxM);
  ASSERT_TRUE(runs_scaled_gemm(sparse) && runs_scaled_gemm(dense));
  for (LinearConfig* c : {&sparse, &dense}) {
    c->relu2_mul_epilogue = true;
    c->gate_up_block = kSparseGateUpBlock;
  }
  TuningDatabase db(HardwareTag{"test", 90, 1, 1, 1, 1});
  auto record = [&](const std::string& name, const char* tile, int64_t rows, double us) {
    db.record_kernel(name, kK, rows, {{"tile", tile}, {"latency_us", us}});
  };
  record(sparse_scaled_gemm_kernel_name(kN), "coop-128x128-1x1", 64, 10.0);
  record(scaled_gemm_kernel_name(kN), "pingpong-64x128", 64, 5.0);  // dense faster at 64 rows
  db.record_kernel(sparse_scaled_gemm_kernel_name(kN), kK, 128,
                   {{"tile", "coop-128x256-2x1"}, {"raster", "tokens"}, {"swizzle", 2}, {"latency_us", 10.0}});
  record(scaled_gemm_kernel_name(kN), "coop-128x128", 128, 20.0);
  W8A8Linear with_fallback(sparse, {{w.data(), scale_w.as<float>()}}, nullptr, DenseFallback{dense, {}});
  W8A8Linear alone(sparse, {{w.data(), scale_w.as<float>()}}, nullptr);
  for (int64_t m : {64, 128}) with_fallback.prepare(m, &db), alone.prepare(m, &db);
  EXPECT_TRUE(with_fallback.runs_dense_fallback(50));
  EXPECT_FALSE(with_fallback.runs_dense_fallback(128));
  EXPECT_EQ(alone.describe_plan(128), "CUTLASS sparse coop-128x256-2x1 tokens/2 + relu2*up");
  // A database naming a tile this build does not have: one error that says where and what to do.
  TuningDatabase stale(HardwareTag{"test", 90, 1, 1, 1, 1});
  stale.record_kernel(sparse_scaled_gemm_kernel_name(kN), kK, 64, {{"tile", "coop-128x256"}, {"latency_us", 10.0}});
  W8A8Linear from_stale(sparse, {{w.data(), scale_w.as<float>()}}, nullptr);
  EXPECT_EQ(testing::error_of([&] { from_stale.prepare(64, &stale); }),
            "unknown sparse scaled GEMM tile 'coop-128x256' (coop-128x256-1x1, coop-128x256-2x1, coop-128x256-1x2, "
            "coop-128x128-1x1) in the tuning database's sparse_scaled_gemm_int8_n128 entry for M=64 (written by "
            "another build: run tune again)");
  DeviceBuffer workspace(size_t{1} << 20, "workspace");
  for (int64_t m : {50, 128}) {
    SCOPED_TRACE("M=" + std::to_string(m));
    const DeviceBuffer x = upload(make_activations(m, static_cast<uint32_t>(m + 19)), "activations");
    const size_t values = static_cast<size_t>(m * kN / 2);
    std::vector<uint16_t> outputs[2];
    for (int which = 0; which < 2; ++which) {
      DeviceBuffer y(static_cast<size_t>(padded_rows(m) * kN), "relu2*up output");  // n / 2 bf16 per row
      CUDA_CHECK(cudaMemset(y.data(), 0xFF, y.bytes()));
      (which == 0 ? with_fallback : alone)
          .forward(x.as<__nv_bfloat16>(), m, y.as<__nv_bfloat16>(), workspace.data(), workspace.bytes(), nullptr);
      CUDA_CHECK(cudaDeviceSynchronize());
      outputs[which] = download<uint16_t>(y, values);
    }
    EXPECT_EQ(outputs[0], outputs[1]);
    EXPECT_GT(std::count_if(outputs[1].begin(), outputs[1].end(), [](uint16_t v) { return (v & 0x7FFF) != 0; }),
              static_cast<std::ptrdiff_t>(values / 8));
  }
  LinearConfig other_form = dense;
  other_form.gate_up_block = 1;
  try {
    W8A8Linear refused(sparse, {{w.data(), scale_w.as<float>()}}, nullptr, DenseFallback{other_form, {}});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "a dense fallback on the linear's own weights must take their gate_up row order");
  }
}

TEST(LinearGpu, DenseFallbackOfAWiderSlidWeightNeedsItUnslid) {
  SKIP_WITHOUT_GPU();
  const Problem p = make_problem(QuantKind::Int8, 8, 99);
  const DeviceBuffer w = upload(p.slid, "2:8 weight"), scale_w = upload(p.scale_w, "weight scales");
  const LinearConfig sparse = default_linear_config(QuantKind::Int8, kN, kK, Sparsity::two_of(8), 64);
  const LinearConfig dense = default_linear_config(QuantKind::Int8, kN, kK, Sparsity::dense(), 64);
  EXPECT_EQ(testing::error_of([&] {
              W8A8Linear linear(sparse, {{w.data(), scale_w.as<float>()}}, nullptr, DenseFallback{dense, {}});
            }),
            "a dense fallback of a 2:8 linear with K=256 (K'=384) runs its pruned weights un-slid to [n, K] "
            "(unslide_weight_rows), which it was not given");
  EXPECT_EQ(testing::error_of([&] {
              const LinearWeight plain{w.data(), scale_w.as<float>()};
              W8A8Linear linear(sparse, {plain}, nullptr, DenseFallback{dense, {plain, plain}});
            }),
            "a dense fallback needs one un-slid weight per weight of the linear (2 for 1)");
  EXPECT_EQ(testing::error_of([&] {
              W8A8Linear linear(dense, {{w.data(), scale_w.as<float>()}}, nullptr, DenseFallback{dense, {}});
            }),
            "a dense fallback belongs to a 2:L linear, not to a dense one");
}

TEST(LinearGpu, ForwardReplaysInsideACudaGraph) {
  SKIP_WITHOUT_GPU();
  const Problem p = make_problem(QuantKind::Int8, 8, 77);
  const DeviceBuffer slid = upload(p.slid, "slid weight"), scale_w = upload(p.scale_w, "weight scales");
  constexpr int64_t m = 64;
  const DeviceBuffer x = upload(make_activations(m, 5), "activations");
  W8A8Linear linear(default_linear_config(QuantKind::Int8, kN, kK, Sparsity::two_of(8), m), slid.data(),
                    scale_w.as<float>(), nullptr);
  linear.prepare(m, nullptr);
  DeviceBuffer eager(static_cast<size_t>(padded_rows(m) * kN * 2), "eager"), graphed(eager.bytes(), "graphed");
  DeviceBuffer workspace(size_t{64} << 20, "workspace");
  cudaStream_t stream;
  CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  auto forward = [&](DeviceBuffer& y) {
    linear.forward(static_cast<const __nv_bfloat16*>(x.data()), m, y.as<__nv_bfloat16>(), workspace.data(),
                   workspace.bytes(), stream);
  };
  forward(eager);
  CUDA_CHECK(cudaMemsetAsync(graphed.data(), 0xFF, graphed.bytes(), stream));
  cudaGraph_t graph;
  cudaGraphExec_t exec;
  CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeGlobal));
  forward(graphed);
  CUDA_CHECK(cudaStreamEndCapture(stream, &graph));
  CUDA_CHECK(cudaGraphInstantiate(&exec, graph, 0));
  CUDA_CHECK(cudaGraphLaunch(exec, stream));
  CUDA_CHECK(cudaStreamSynchronize(stream));
  const auto outputs = static_cast<size_t>(m * kN);
  EXPECT_EQ(download<uint16_t>(graphed, outputs), download<uint16_t>(eager, outputs));
  cudaGraphExecDestroy(exec);
  cudaGraphDestroy(graph);
  cudaStreamDestroy(stream);
}

TEST(LinearGpu, OutOfMemoryIsOneClearError) {
  SKIP_WITHOUT_GPU();
  try {
    DeviceBuffer huge(size_t{1} << 50, "a test tensor");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("out of GPU memory allocating 1125899906.8 MB for a test tensor"),
              std::string::npos)
        << e.what();
  }
}

TEST(LinearGpu, SparseWeightThatIsNot2of4IsRejected) {
  SKIP_WITHOUT_GPU();
  std::vector<uint8_t> dense(kN * kK, 1);
  const DeviceBuffer w = upload(dense, "dense weight");
  const std::vector<float> ones(kN, 1.0f);
  const DeviceBuffer s = upload(ones, "scales");
  try {
    W8A8Linear linear(default_linear_config(QuantKind::Int8, kN, kK, Sparsity::two_of(4), 16), w.data(),
                      s.as<float>(), nullptr);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "weight [128, 256] is not 2:4 sparse along K; cuSPARSELt cannot compress it");
  }
}

TEST(LinearGpu, MissingCusparseLtIsOneClearError) {
  SKIP_WITHOUT_GPU();
  ::setenv("SLIDESPARSE_CUSPARSELT_LIB", "/nonexistent/libcusparseLt.so.0", 1);
  const auto r = testing::run_slidesparse({"bench", "kernel", "--dtype", "int8", "--backend", "cusparselt",
                                           "--m-list", "64", "--out", "/tmp/slidesparse-missing-lib"});
  ::unsetenv("SLIDESPARSE_CUSPARSELT_LIB");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err.rfind("slidesparse: error: cannot load cuSPARSELt from SLIDESPARSE_CUSPARSELT_LIB=/nonexistent/", 0), 0u)
      << r.err;
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
}

}  // namespace
}  // namespace slidesparse
