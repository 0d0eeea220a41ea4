// Quantization kernels against the CPU reference, bit for bit: fresh random inputs (row magnitudes
// over decades, an outlier row, an all-zero row), outputs poisoned before every run.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "gpu/cuda_check.h"
#include "gpu/device_buffer.h"
#include "gpu/device_info.h"
#include "kernels/activation_quant.h"
#include "math/numeric_formats.h"
#include "math/quantize.h"
#include "math/slide.h"

namespace slidesparse {
namespace {

#define SKIP_WITHOUT_GPU() \
  if (!cuda_device_available()) GTEST_SKIP() << "no CUDA device"

int64_t ceil_to(int64_t v, int64_t a) { return (v + a - 1) / a * a; }

struct Input {
  std::vector<uint16_t> bf16;
  std::vector<float> f32;
};

Input make_input(int64_t rows, int64_t k, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  Input in;
  for (int64_t r = 0; r < rows; ++r) {
    const float magnitude = std::pow(10.0f, static_cast<float>(r % 7) - 3.0f);
    for (int64_t c = 0; c < k; ++c) {
      float v = normal(rng) * magnitude;
      if (r == 1 && c == k / 2) v = 3e4f;  // an outlier
      if (r == 2 && rows > 3) v = 0.0f;    // an all-zero row
      in.bf16.push_back(float_to_bf16(v));
    }
  }
  for (uint16_t b : in.bf16) in.f32.push_back(bf16_to_float(b));
  return in;
}

struct GpuResult {
  std::vector<uint8_t> codes;
  std::vector<float> scales;
};

GpuResult run_gpu(QuantKind kind, int group, const Input& in, int64_t rows, int64_t k, const QuantLaunchConfig& config) {
  const SlideGeometry g = make_slide_geometry(k, group ? group : 4);
  const int64_t rows_padded = ceil_to(std::max<int64_t>(rows, 1), 16);
  const int64_t cols = group ? g.k_slid : ceil_to(k, 32);
  DeviceBuffer x(in.bf16.size() * 2, "x"), out(static_cast<size_t>(rows_padded * cols), "codes"),
      scale(static_cast<size_t>(rows_padded) * 4, "scales");
  CUDA_CHECK(cudaMemcpy(x.data(), in.bf16.data(), in.bf16.size() * 2, cudaMemcpyHostToDevice));
  CUDA_CHECK(cudaMemset(out.data(), 0xA5, out.bytes()));
  CUDA_CHECK(cudaMemset(scale.data(), 0xA5, scale.bytes()));
  if (group)
    quantize_slide_rows_gpu(kind, g, x.as<__nv_bfloat16>(), rows, rows_padded, out.as<uint8_t>(), scale.as<float>(),
                            nullptr, config);
  else
    quantize_rows_gpu(kind, x.as<__nv_bfloat16>(), rows, k, rows_padded, cols, out.as<uint8_t>(), scale.as<float>(),
                      nullptr, config);
  CUDA_CHECK(cudaDeviceSynchronize());
  GpuResult r{std::vector<uint8_t>(out.bytes()), std::vector<float>(static_cast<size_t>(rows_padded))};
  CUDA_CHECK(cudaMemcpy(r.codes.data(), out.data(), out.bytes(), cudaMemcpyDeviceToHost));
  CUDA_CHECK(cudaMemcpy(r.scales.data(), scale.data(), scale.bytes(), cudaMemcpyDeviceToHost));
  return r;
}

// CPU reference with the GPU's padded layout: padding rows zero with scale 1, padding columns zero.
GpuResult run_cpu(QuantKind kind, int group, const Input& in, int64_t rows, int64_t k) {
  const SlideGeometry g = make_slide_geometry(k, group ? group : 4);
  const int64_t rows_padded = ceil_to(std::max<int64_t>(rows, 1), 16);
  const int64_t cols = group ? g.k_slid : ceil_to(k, 32);
  GpuResult r{std::vector<uint8_t>(static_cast<size_t>(rows_padded * cols), 0), std::vector<float>(static_cast<size_t>(rows_padded), 1.0f)};
  if (group) {
    quantize_slide_rows(kind, g, in.f32.data(), rows, r.codes.data(), r.scales.data());
  } else {
    std::vector<uint8_t> dense(static_cast<size_t>(rows * k));
    quantize_rows(kind, in.f32.data(), rows, k, dense.data(), r.scales.data());
    for (int64_t row = 0; row < rows; ++row)
      std::copy(dense.begin() + row * k, dense.begin() + (row + 1) * k, r.codes.begin() + row * cols);
  }
  return r;
}

void expect_equal(const GpuResult& gpu, const GpuResult& cpu) {
  ASSERT_EQ(gpu.codes.size(), cpu.codes.size());
  for (size_t i = 0; i < cpu.codes.size(); ++i) ASSERT_EQ(gpu.codes[i], cpu.codes[i]) << "code " << i;
  for (size_t i = 0; i < cpu.scales.size(); ++i) ASSERT_EQ(gpu.scales[i], cpu.scales[i]) << "scale " << i;
}

class QuantKernel : public ::testing::TestWithParam<QuantKind> {};

TEST_P(QuantKernel, QuantizeRowsMatchesCpu) {
  SKIP_WITHOUT_GPU();
  const QuantKind kind = GetParam();
  for (int64_t k : {7, 30, 256, 2560, 6912})
    for (int64_t rows : {1, 7, 16, 63, 100, 1000}) {
      SCOPED_TRACE("K=" + std::to_string(k) + " rows=" + std::to_string(rows));
      const Input in = make_input(rows, k, static_cast<uint32_t>(k * 131 + rows));
      expect_equal(run_gpu(kind, 0, in, rows, k, {}), run_cpu(kind, 0, in, rows, k));
    }
}

TEST_P(QuantKernel, QuantizeSlideMatchesCpuForEveryL) {
  SKIP_WITHOUT_GPU();
  const QuantKind kind = GetParam();
  for (int group = 4; group <= 16; group += 2)
    for (int64_t k : {30, 97, 2560, 6912})
      for (int64_t rows : {1, 63, 300}) {
        SCOPED_TRACE("L=" + std::to_string(group) + " K=" + std::to_string(k) + " rows=" + std::to_string(rows));
        const Input in = make_input(rows, k, static_cast<uint32_t>(group * 7919 + k + rows));
        expect_equal(run_gpu(kind, group, in, rows, k, {}), run_cpu(kind, group, in, rows, k));
      }
}

TEST_P(QuantKernel, EveryLaunchConfigGivesTheSameOutput) {
  SKIP_WITHOUT_GPU();
  const QuantKind kind = GetParam();
  const Input in = make_input(77, 2560, 4242);
  const GpuResult want = run_cpu(kind, 8, in, 77, 2560);
  for (const auto& c : quant_launch_candidates()) {
    SCOPED_TRACE("threads=" + std::to_string(c.threads) + " rows_per_block=" + std::to_string(c.rows_per_block));
    expect_equal(run_gpu(kind, 8, in, 77, 2560, c), want);
  }
}

INSTANTIATE_TEST_SUITE_P(Kinds, QuantKernel, ::testing::Values(QuantKind::Int8, QuantKind::Fp8E4M3),
                         [](const auto& info) { return std::string(quant_kind_name(info.param)); });

TEST(DequantKernel, AllAccumulatorTypesMatchCpu) {
  SKIP_WITHOUT_GPU();
  std::mt19937 rng(5);
  std::uniform_int_distribution<int32_t> ints(-400000, 400000);
  std::uniform_real_distribution<float> reals(-1000.0f, 1000.0f), scales(0.0001f, 0.01f);
  for (int64_t n : {8, 13, 3840})
    for (AccumulatorType type : {AccumulatorType::Int32, AccumulatorType::Float32, AccumulatorType::BFloat16})
      for (bool with_w : {true, false}) {
        constexpr int64_t rows = 37;
        std::vector<float> acc_f(rows * n), sx(rows), sw(n);
        std::vector<int32_t> acc_i(rows * n);
        std::vector<uint16_t> acc_b(rows * n);
        for (int64_t i = 0; i < rows * n; ++i) {
          acc_i[i] = ints(rng);
          acc_b[i] = float_to_bf16(reals(rng));
          acc_f[i] = type == AccumulatorType::Int32 ? float(acc_i[i])
                     : type == AccumulatorType::BFloat16 ? bf16_to_float(acc_b[i]) : reals(rng);
        }
        for (auto& s : sx) s = scales(rng);
        for (auto& s : sw) s = scales(rng);
        const void* host_acc = type == AccumulatorType::Int32 ? static_cast<const void*>(acc_i.data())
                               : type == AccumulatorType::BFloat16 ? static_cast<const void*>(acc_b.data())
                                                                   : static_cast<const void*>(acc_f.data());
        const size_t acc_bytes = static_cast<size_t>(rows * n) * (type == AccumulatorType::BFloat16 ? 2 : 4);
        DeviceBuffer acc(acc_bytes, "acc"), dsx(rows * 4, "sx"), dsw(n * 4, "sw"), y(rows * n * 2, "y");
        CUDA_CHECK(cudaMemcpy(acc.data(), host_acc, acc_bytes, cudaMemcpyHostToDevice));
        CUDA_CHECK(cudaMemcpy(dsx.data(), sx.data(), rows * 4, cudaMemcpyHostToDevice));
        CUDA_CHECK(cudaMemcpy(dsw.data(), sw.data(), n * 4, cudaMemcpyHostToDevice));
        CUDA_CHECK(cudaMemset(y.data(), 0xFF, y.bytes()));
        dequantize_rows_gpu(type, acc.data(), rows, n, dsx.as<float>(), with_w ? dsw.as<float>() : nullptr,
                            y.as<__nv_bfloat16>(), nullptr);
        std::vector<uint16_t> got(rows * n);
        CUDA_CHECK(cudaMemcpy(got.data(), y.data(), y.bytes(), cudaMemcpyDeviceToHost));
        for (int64_t m = 0; m < rows; ++m)
          for (int64_t c = 0; c < n; ++c) {
            float v = acc_f[m * n + c] * sx[m];
            if (with_w) v = v * sw[c];
            ASSERT_EQ(got[m * n + c], float_to_bf16(v)) << "n=" << n << " row " << m << " col " << c;
          }
      }
}

}  // namespace
}  // namespace slidesparse
