// Activation quantization kernels against the CPU reference (math/quantize.h), bit for bit: codes
// and scales for INT8 and FP8, every 2:L, every launch candidate, aligned and unaligned rows.
// Inputs are fresh random rows with magnitudes over many decades (plus an outlier row, an all-zero
// row, a row below the 1e-12 absmax floor, signed zeros); outputs are poisoned before every run so
// an element the kernel forgot to write cannot pass.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "gemm/gemm_types.h"
#include "gpu/cuda_check.h"
#include "gpu/device_buffer.h"
#include "gpu/device_info.h"
#include "gpu_test_util.h"
#include "kernels/activation_quant.h"
#include "math/numeric_formats.h"
#include "math/quantize.h"
#include "math/slide.h"

namespace slidesparse {
namespace {

constexpr uint8_t kPoison = 0xA5;

int64_t round_up(int64_t v, int64_t a) { return (v + a - 1) / a * a; }

struct Rows {
  int64_t rows = 0, k = 0;
  std::vector<uint16_t> bf16;  // what the GPU reads
  std::vector<float> f32;      // the same values, exactly, for the CPU reference
};

Rows random_rows(int64_t rows, int64_t k, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> decades(-4.0f, 4.0f);
  std::uniform_int_distribution<int64_t> column(0, k - 1);
  Rows r{rows, k, {}, {}};
  for (int64_t row = 0; row < rows; ++row) {
    float magnitude = std::pow(10.0f, decades(rng));
    if (row % 5 == 3) magnitude = 1e-14f;  // absmax below the 1e-12 floor of inv
    std::vector<float> values(static_cast<size_t>(k));
    for (float& v : values) v = normal(rng) * magnitude;
    if (row % 5 == 1) values[column(rng)] = 3e5f * magnitude;     // one huge outlier: most codes tiny
    if (row % 7 == 2) std::fill(values.begin(), values.end(), 0.0f);  // all-zero row
    values[column(rng)] = -0.0f;
    values[column(rng)] = 0.0f;
    for (float v : values) r.bf16.push_back(float_to_bf16(v));
  }
  for (uint16_t b : r.bf16) r.f32.push_back(bf16_to_float(b));
  return r;
}

struct Quantized {
  std::vector<uint8_t> codes;  // [rows_padded, cols]
  std::vector<float> scales;   // [rows_padded]
};

// group 0: quantize_rows_gpu into `cols` columns; else quantize_slide_rows_gpu for 2:group.
// `offset` shifts x by that many elements inside its buffer (an unaligned row start).
Quantized run_gpu(QuantKind kind, int group, const Rows& in, int64_t rows_padded, int64_t cols,
                  const QuantLaunchConfig& config, int64_t offset = 0) {
  DeviceBuffer x((in.bf16.size() + offset + 1) * 2, "test activations");
  DeviceBuffer out(static_cast<size_t>(rows_padded * cols), "test codes");
  DeviceBuffer scale(static_cast<size_t>(rows_padded) * 4, "test scales");
  __nv_bfloat16* x_view = x.as<__nv_bfloat16>() + offset;
  CUDA_CHECK(cudaMemcpy(x_view, in.bf16.data(), in.bf16.size() * 2, cudaMemcpyHostToDevice));
  CUDA_CHECK(cudaMemset(out.data(), kPoison, out.bytes()));
  CUDA_CHECK(cudaMemset(scale.data(), kPoison, scale.bytes()));
  if (group)
    quantize_slide_rows_gpu(kind, make_slide_geometry(in.k, group), x_view, in.rows, rows_padded, cols,
                            out.as<uint8_t>(), scale.as<float>(), nullptr, config);
  else
    quantize_rows_gpu(kind, x_view, in.rows, in.k, rows_padded, cols, out.as<uint8_t>(), scale.as<float>(), nullptr,
                      config);
  CUDA_CHECK(cudaDeviceSynchronize());
  Quantized q{std::vector<uint8_t>(out.bytes()), std::vector<float>(static_cast<size_t>(rows_padded))};
  CUDA_CHECK(cudaMemcpy(q.codes.data(), out.data(), out.bytes(), cudaMemcpyDeviceToHost));
  CUDA_CHECK(cudaMemcpy(q.scales.data(), scale.data(), scale.bytes(), cudaMemcpyDeviceToHost));
  return q;
}

// The CPU reference in the GPU's padded layout: padding rows are zero codes with scale 1, padding
// columns are zero.
Quantized run_cpu(QuantKind kind, int group, const Rows& in, int64_t rows_padded, int64_t cols) {
  Quantized q{std::vector<uint8_t>(static_cast<size_t>(rows_padded * cols), 0),
              std::vector<float>(static_cast<size_t>(rows_padded), 1.0f)};
  if (group) {
    const SlideGeometry g = make_slide_geometry(in.k, group);
    std::vector<uint8_t> slid(static_cast<size_t>(in.rows * g.k_slid));
    quantize_slide_rows(kind, g, in.f32.data(), in.rows, slid.data(), q.scales.data());
    for (int64_t row = 0; row < in.rows; ++row)
      std::copy_n(slid.begin() + row * g.k_slid, g.k_slid, q.codes.begin() + row * cols);
  } else {
    std::vector<uint8_t> dense(static_cast<size_t>(in.rows * in.k));
    quantize_rows(kind, in.f32.data(), in.rows, in.k, dense.data(), q.scales.data());
    for (int64_t row = 0; row < in.rows; ++row)
      std::copy_n(dense.begin() + row * in.k, in.k, q.codes.begin() + row * cols);
  }
  return q;
}

void expect_identical(const Quantized& gpu, const Quantized& cpu, int64_t cols) {
  testing::expect_same_codes(gpu.codes, gpu.scales, cpu.codes, cpu.scales, cols);
}

std::string config_name(const QuantLaunchConfig& c) {
  return "threads=" + std::to_string(c.threads) + " rows_per_block=" + std::to_string(c.rows_per_block);
}

class ActivationQuant : public ::testing::TestWithParam<QuantKind> {};

TEST_P(ActivationQuant, QuantizeRowsMatchesCpu) {
  SKIP_WITHOUT_GPU();
  const QuantKind kind = GetParam();
  for (int64_t k : {7, 30, 256, 2560, 6912})
    for (int64_t rows : {1, 7, 16, 63, 100, 1000}) {
      SCOPED_TRACE("K=" + std::to_string(k) + " rows=" + std::to_string(rows));
      const Rows in = random_rows(rows, k, static_cast<uint32_t>(k * 131 + rows));
      const int64_t rows_padded = round_up(rows, 16), cols = round_up(k, 32);
      expect_identical(run_gpu(kind, 0, in, rows_padded, cols, {}), run_cpu(kind, 0, in, rows_padded, cols), cols);
    }
}

TEST_P(ActivationQuant, QuantizeRowsWritesWideZeroPadding) {
  SKIP_WITHOUT_GPU();
  const QuantKind kind = GetParam();
  const Rows in = random_rows(21, 100, 77);
  const int64_t rows_padded = 48, cols = 208;  // many more padding rows and columns than usual
  expect_identical(run_gpu(kind, 0, in, rows_padded, cols, {}), run_cpu(kind, 0, in, rows_padded, cols), cols);
}

TEST_P(ActivationQuant, QuantizeSlideMatchesCpuForEveryL) {
  SKIP_WITHOUT_GPU();
  const QuantKind kind = GetParam();
  for (int group = 4; group <= 16; group += 2)
    for (int64_t k : {30, 97, 2560, 6912})
      for (int64_t rows : {1, 16, 63, 300}) {
        SCOPED_TRACE("L=" + std::to_string(group) + " K=" + std::to_string(k) + " rows=" + std::to_string(rows));
        const Rows in = random_rows(rows, k, static_cast<uint32_t>(group * 7919 + k * 13 + rows));
        const int64_t rows_padded = round_up(rows, 16), cols = make_slide_geometry(k, group).k_slid;
        expect_identical(run_gpu(kind, group, in, rows_padded, cols, {}),
                         run_cpu(kind, group, in, rows_padded, cols), cols);
      }
}

// The sparse GEMM's K (K' rounded up to cuSPARSELt's K tile) and more: zeros past K'.
TEST_P(ActivationQuant, QuantizeSlideWritesZerosUpToTheGemmK) {
  SKIP_WITHOUT_GPU();
  const QuantKind kind = GetParam();
  for (int group : {6, 10})
    for (int64_t k : {256, 2560, 6912}) {
      SCOPED_TRACE("L=" + std::to_string(group) + " K=" + std::to_string(k));
      const int64_t k_slid = make_slide_geometry(k, group).k_slid;
      const int64_t cols = sparse_gemm_k(k_slid) + 128;
      ASSERT_GE(cols, k_slid + 128);
      const Rows in = random_rows(37, k, static_cast<uint32_t>(group * 17 + k));
      expect_identical(run_gpu(kind, group, in, 48, cols, {}), run_cpu(kind, group, in, 48, cols), cols);
    }
}

TEST_P(ActivationQuant, EveryLaunchCandidateGivesTheSameOutput) {
  SKIP_WITHOUT_GPU();
  const QuantKind kind = GetParam();
  for (int group : {0, 6, 8, 16})
    for (int64_t k : {97, 2560, 6912}) {
      const Rows in = random_rows(77, k, static_cast<uint32_t>(group * 31 + k));
      const int64_t rows_padded = 80, cols = group ? make_slide_geometry(k, group).k_slid : round_up(k, 32);
      const Quantized want = run_cpu(kind, group, in, rows_padded, cols);
      for (const QuantLaunchConfig& c : quant_launch_candidates()) {
        SCOPED_TRACE("L=" + std::to_string(group) + " K=" + std::to_string(k) + " " + config_name(c));
        expect_identical(run_gpu(kind, group, in, rows_padded, cols, c), want, cols);
      }
    }
}

TEST_P(ActivationQuant, UnalignedRowStartUsesTheScalarPath) {
  SKIP_WITHOUT_GPU();
  const QuantKind kind = GetParam();
  for (int group : {0, 4, 10}) {
    SCOPED_TRACE("L=" + std::to_string(group));
    const Rows in = random_rows(33, 2560, static_cast<uint32_t>(500 + group));
    const int64_t rows_padded = 48, cols = group ? make_slide_geometry(2560, group).k_slid : 2560;
    expect_identical(run_gpu(kind, group, in, rows_padded, cols, {}, /*offset=*/1),
                     run_cpu(kind, group, in, rows_padded, cols), cols);
  }
}

TEST_P(ActivationQuant, LongRowsUseLargeSharedMemory) {
  SKIP_WITHOUT_GPU();
  const QuantKind kind = GetParam();
  for (int group : {4, 16})
    for (const QuantLaunchConfig c : {QuantLaunchConfig{256, 1}, QuantLaunchConfig{1024, 1}, QuantLaunchConfig{256, 4}}) {
      SCOPED_TRACE("L=" + std::to_string(group) + " " + config_name(c));
      const Rows in = random_rows(9, 16384, static_cast<uint32_t>(group));
      const int64_t cols = make_slide_geometry(16384, group).k_slid;
      expect_identical(run_gpu(kind, group, in, 16, cols, c), run_cpu(kind, group, in, 16, cols), cols);
    }
}

TEST_P(ActivationQuant, OnlyPaddingRows) {
  SKIP_WITHOUT_GPU();
  const Rows in = random_rows(0, 64, 1);
  const Quantized q = run_gpu(GetParam(), 8, in, 16, make_slide_geometry(64, 8).k_slid, {});
  for (uint8_t c : q.codes) ASSERT_EQ(c, 0);
  for (float s : q.scales) ASSERT_EQ(s, 1.0f);
}

TEST(ActivationQuantConfig, InvalidLaunchConfigIsAnError) {
  SKIP_WITHOUT_GPU();
  EXPECT_THROW(quantize_rows_gpu(QuantKind::Int8, nullptr, 0, 32, 16, 32, nullptr, nullptr, nullptr, {96, 2}),
               Error);
  EXPECT_THROW(quantize_slide_rows_gpu(QuantKind::Int8, make_slide_geometry(64, 18), nullptr, 0, 16, 64, nullptr,
                                       nullptr, nullptr, {}),
               Error);
}

INSTANTIATE_TEST_SUITE_P(Kinds, ActivationQuant, ::testing::Values(QuantKind::Int8, QuantKind::Fp8E4M3),
                         [](const auto& info) { return std::string(quant_kind_name(info.param)); });

// ---- dequantization -------------------------------------------------------------------------

struct Accumulators {
  std::vector<int32_t> i32;
  std::vector<float> f32;
  std::vector<uint16_t> bf16;
  std::vector<float> as_float;  // the value the kernel converts to float, per element
};

Accumulators random_accumulators(AccumulatorType type, int64_t count, std::mt19937& rng) {
  std::uniform_int_distribution<int32_t> ints(-(1 << 28), 1 << 28);  // past 2^24: int -> float rounds
  std::normal_distribution<float> reals(0.0f, 300.0f);
  Accumulators a;
  for (int64_t i = 0; i < count; ++i) {
    if (type == AccumulatorType::Int32) {
      a.i32.push_back(ints(rng));
      a.as_float.push_back(static_cast<float>(a.i32.back()));
    } else if (type == AccumulatorType::Float32) {
      a.f32.push_back(reals(rng));
      a.as_float.push_back(a.f32.back());
    } else {
      a.bf16.push_back(float_to_bf16(reals(rng)));
      a.as_float.push_back(bf16_to_float(a.bf16.back()));
    }
  }
  return a;
}

TEST(Dequantize, EveryAccumulatorTypeMatchesCpu) {
  SKIP_WITHOUT_GPU();
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> scales(1e-5f, 1e-2f);
  constexpr int64_t kRows = 37, kAllocatedRows = 40;  // rows past kRows must stay untouched
  for (int64_t n : {8, 13, 3840})
    for (AccumulatorType type : {AccumulatorType::Int32, AccumulatorType::Float32, AccumulatorType::BFloat16})
      for (bool with_w : {true, false})
        for (bool in_place : {false, true}) {
          if (in_place && type != AccumulatorType::BFloat16) continue;
          SCOPED_TRACE("n=" + std::to_string(n) + " type=" + std::to_string(static_cast<int>(type)) +
                       (with_w ? " with scale_w" : " row scale only") + (in_place ? " in place" : ""));
          const Accumulators a = random_accumulators(type, kAllocatedRows * n, rng);
          std::vector<float> sx(kRows), sw(static_cast<size_t>(n));
          for (float& s : sx) s = scales(rng);
          for (float& s : sw) s = scales(rng);
          const void* host = type == AccumulatorType::Int32     ? static_cast<const void*>(a.i32.data())
                             : type == AccumulatorType::Float32 ? static_cast<const void*>(a.f32.data())
                                                                : static_cast<const void*>(a.bf16.data());
          const size_t bytes = a.as_float.size() * (type == AccumulatorType::BFloat16 ? 2 : 4);
          DeviceBuffer acc(bytes, "test accumulators"), dsx(sx.size() * 4, "test scale_x"),
              dsw(sw.size() * 4, "test scale_w"), y(a.as_float.size() * 2, "test outputs");
          CUDA_CHECK(cudaMemcpy(acc.data(), host, bytes, cudaMemcpyHostToDevice));
          CUDA_CHECK(cudaMemcpy(dsx.data(), sx.data(), dsx.bytes(), cudaMemcpyHostToDevice));
          CUDA_CHECK(cudaMemcpy(dsw.data(), sw.data(), dsw.bytes(), cudaMemcpyHostToDevice));
          CUDA_CHECK(cudaMemset(y.data(), kPoison, y.bytes()));
          __nv_bfloat16* out = in_place ? acc.as<__nv_bfloat16>() : y.as<__nv_bfloat16>();
          dequantize_rows_gpu(type, acc.data(), kRows, n, dsx.as<float>(), with_w ? dsw.as<float>() : nullptr, out,
                              nullptr);
          CUDA_CHECK(cudaDeviceSynchronize());
          std::vector<uint16_t> got(a.as_float.size());
          CUDA_CHECK(cudaMemcpy(got.data(), out, got.size() * 2, cudaMemcpyDeviceToHost));
          for (int64_t m = 0; m < kAllocatedRows; ++m)
            for (int64_t c = 0; c < n; ++c) {
              const size_t i = static_cast<size_t>(m * n + c);
              uint16_t want = in_place ? a.bf16[i] : uint16_t{kPoison * 0x101};
              if (m < kRows) {
                float v = a.as_float[i] * sx[m];
                if (with_w) v = v * sw[c];
                want = float_to_bf16(v);
              }
              ASSERT_EQ(got[i], want) << "row " << m << " column " << c;
            }
        }
}

}  // namespace
}  // namespace slidesparse
