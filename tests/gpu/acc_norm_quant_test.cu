// The fused norms fed by a GEMM output through an AccView (residual add, relu2 * up, the final norm
// of gathered rows) against the CPU references (math/rmsnorm.h, math/quantize.h) composed with the
// dequantized value and math/activation.h, bit for bit, for every accumulator form the linear layer
// leaves. Outputs are poisoned before every run.
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
#include "acc_forms.h"
#include "gpu_test_util.h"
#include "kernels/norm_quant.cuh"
#include "kernels/norm_quant_registers.cuh"
#include "kernels/norm_quant.h"
#include "math/activation.h"
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
using testing::round_up;
using testing::run_cpu;

using testing::AccForm;
using testing::kBf16BothScales;
using testing::kBf16BothScalesPerPart;
using testing::kBf16Plain;
using testing::kBf16ScaleW;
using testing::kBf16ScaleX;
using testing::kEngineAccForms;
using testing::kFloat32BothScales;
using testing::kInt32BothScales;

struct HostAcc {
  AccForm form;
  int64_t rows = 0, cols = 0, ld = 0;
  std::vector<uint32_t> words;   // int32 / fp32 elements [rows, ld]
  std::vector<uint16_t> halves;  // bf16 elements [rows, ld]
  std::vector<float> scale_x, scale_w;
  int64_t scale_w_run = 0;  // scale_w is constant over runs of this many columns (0: one per column)

  // bf16((float(acc) * scale_x) * scale_w), null scales skipped: the dequantize epilogue's value.
  uint16_t value(int64_t r, int64_t c) const {
    const int64_t i = r * ld + c;
    float y;
    if (form.type == AccumulatorType::Int32)
      y = static_cast<float>(static_cast<int32_t>(words[i]));
    else if (form.type == AccumulatorType::Float32)
      std::memcpy(&y, &words[i], sizeof y);
    else
      y = bf16_to_float(halves[i]);
    if (form.scale_x) y = y * scale_x[r];
    if (form.scale_w) y = y * scale_w[c];
    return float_to_bf16(y);
  }

  std::vector<uint16_t> values() const {
    std::vector<uint16_t> v(static_cast<size_t>(rows * cols));
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c) v[r * cols + c] = value(r, c);
    return v;
  }
};

// Accumulators of GEMM-like size (int32 up to the magnitude of 2560 int8 x ternary products) with
// row scales over decades; every 5th row has an outlier, every 7th (from 2) is zero. Weight scales
// per column, or (scale_w_run > 0) one per run of that many columns, said so in the view.
HostAcc random_acc(AccForm form, int64_t rows, int64_t cols, int64_t ld, uint32_t seed, int64_t scale_w_run = 0) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> decades(-3.0f, 1.0f), unit(0.5f, 1.5f);
  std::uniform_int_distribution<int64_t> column(0, cols - 1);
  HostAcc a{form, rows, cols, ld, {}, {}, {}, {}, scale_w_run};
  const size_t n = static_cast<size_t>(rows * ld);
  if (form.type == AccumulatorType::BFloat16)
    a.halves.resize(n);
  else
    a.words.resize(n);
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t outlier = r % 5 == 1 ? column(rng) : -1;
    for (int64_t c = 0; c < ld; ++c) {
      const float v = r % 7 == 2 ? 0.0f : normal(rng) * (c == outlier ? 300.0f : 1.0f);
      const int64_t i = r * ld + c;
      if (form.type == AccumulatorType::Int32)
        a.words[i] = static_cast<uint32_t>(static_cast<int32_t>(std::lround(v * 3e4f)));
      else if (form.type == AccumulatorType::Float32)
        std::memcpy(&a.words[i], &v, sizeof v);
      else
        a.halves[i] = float_to_bf16(v * 20.0f);
    }
    a.scale_x.push_back(std::pow(10.0f, decades(rng)) * (form.type == AccumulatorType::Int32 ? 1e-3f : 1.0f));
  }
  for (int64_t c = 0; c < ld; ++c)
    a.scale_w.push_back(scale_w_run > 0 && c % scale_w_run != 0 ? a.scale_w.back() : 0.05f * unit(rng));
  return a;
}

// The accumulator on the device, `offset` elements into its buffers (offset 1: unaligned rows).
struct DeviceAcc {
  DeviceBuffer data, scale_x, scale_w;
  AccView view;
};

DeviceAcc upload(const HostAcc& h, int64_t offset = 0) {
  const size_t element = h.form.type == AccumulatorType::BFloat16 ? 2 : 4;
  const size_t n = static_cast<size_t>(h.rows * h.ld);
  DeviceAcc d{DeviceBuffer((n + offset + 1) * element, "accumulator"),
              DeviceBuffer((h.rows + offset + 1) * 4, "scale_x"), DeviceBuffer((h.ld + offset + 1) * 4, "scale_w"),
              {}};
  char* data = d.data.as<char>() + offset * element;
  CUDA_CHECK(cudaMemcpy(data, element == 2 ? static_cast<const void*>(h.halves.data()) : h.words.data(), n * element,
                        cudaMemcpyHostToDevice));
  float* sx = d.scale_x.as<float>() + offset;
  float* sw = d.scale_w.as<float>() + offset;
  CUDA_CHECK(cudaMemcpy(sx, h.scale_x.data(), h.rows * 4, cudaMemcpyHostToDevice));
  CUDA_CHECK(cudaMemcpy(sw, h.scale_w.data(), h.ld * 4, cudaMemcpyHostToDevice));
  d.view = {h.form.type, data, h.ld, h.form.scale_x ? sx : nullptr, h.form.scale_w ? sw : nullptr, h.scale_w_run};
  return d;
}

std::vector<uint16_t> random_bf16(int64_t n, float sigma, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, sigma);
  std::vector<uint16_t> v;
  for (int64_t i = 0; i < n; ++i) v.push_back(float_to_bf16(normal(rng)));
  return v;
}

// A residual stream [rows, k]: every 7th row (from 2) zero, matching random_acc's zero rows.
std::vector<uint16_t> random_residual(int64_t rows, int64_t k, uint32_t seed) {
  std::vector<uint16_t> v = random_bf16(rows * k, 1.0f, seed);
  for (int64_t r = 2; r < rows; r += 7) std::fill_n(v.begin() + r * k, k, uint16_t{0});
  return v;
}

std::vector<uint16_t> norm_weight(int64_t k, uint32_t seed) {
  std::vector<uint16_t> w = random_bf16(k, 0.2f, seed);
  for (uint16_t& v : w) v = float_to_bf16(1.0f + bf16_to_float(v));
  return w;
}

// Poisoned codes and scales, the launch, then the outputs (and the residual, when there is one).
template <typename Launch>
Output run_acc_gpu(int64_t rows_padded, int64_t cols, const __nv_bfloat16* residual, int64_t residual_elements,
                   Launch launch) {
  DeviceBuffer codes(static_cast<size_t>(rows_padded * cols), "codes"), scale(rows_padded * 4 + 4, "scales");
  CUDA_CHECK(cudaMemset(codes.data(), kPoison, codes.bytes()));
  CUDA_CHECK(cudaMemset(scale.data(), kPoison, scale.bytes()));
  launch(codes.as<uint8_t>(), scale.as<float>());
  CUDA_CHECK(cudaDeviceSynchronize());
  Output o{std::vector<uint8_t>(static_cast<size_t>(rows_padded * cols)),
           std::vector<float>(static_cast<size_t>(rows_padded)), {}};
  CUDA_CHECK(cudaMemcpy(o.codes.data(), codes.data(), o.codes.size(), cudaMemcpyDeviceToHost));
  CUDA_CHECK(cudaMemcpy(o.scales.data(), scale.data(), o.scales.size() * 4, cudaMemcpyDeviceToHost));
  if (residual) {
    o.residual_out.resize(static_cast<size_t>(residual_elements));
    CUDA_CHECK(cudaMemcpy(o.residual_out.data(), residual, residual_elements * 2, cudaMemcpyDeviceToHost));
  }
  return o;
}

struct ResidualCase {
  int group = 0;
  int64_t rows = 0, k = 0, ld = 0, rows_padded = 0, offset = 0;
  AccForm form;
  QuantLaunchConfig config;
  int64_t scale_w_run = -1;  // -1: k for a form with a scale per part, else one per column

  int64_t weight_scale_run() const { return scale_w_run >= 0 ? scale_w_run : form.scale_w_per_part ? k : 0; }
};

// residual_rmsnorm_quantize_gpu on `acc` and in.residual (in.x is not read), as `c` launches it.
Output run_residual_gpu(QuantKind kind, const ResidualCase& c, const HostAcc& acc, const Inputs& in) {
  const int64_t cols = out_cols(c.group, c.k), n = c.rows * c.k;
  const DeviceAcc d = upload(acc, c.offset);
  DeviceBuffer res((n + c.offset + 1) * 2, "residual"), w((c.k + c.offset + 1) * 2, "weight");
  auto* rv = res.as<__nv_bfloat16>() + c.offset;
  auto* wv = w.as<__nv_bfloat16>() + c.offset;
  CUDA_CHECK(cudaMemcpy(rv, in.residual.data(), n * 2, cudaMemcpyHostToDevice));
  CUDA_CHECK(cudaMemcpy(wv, in.weight.data(), c.k * 2, cudaMemcpyHostToDevice));
  const SlideGeometry g = make_slide_geometry(c.k, c.group ? c.group : 4);
  return run_acc_gpu(c.rows_padded, cols, rv, n, [&](uint8_t* codes, float* scale) {
    residual_rmsnorm_quantize_gpu(d.view, rv, {c.rows, c.k}, {wv, kEps},
                                  {kind, c.group ? &g : nullptr, c.rows_padded, cols, codes, scale}, nullptr, c.config);
  });
}

// residual_rmsnorm_quantize_gpu against value(delta) -> add_rows_bf16 -> rmsnorm_quantize_rows.
void check_residual_case(QuantKind kind, const ResidualCase& c, uint32_t seed) {
  const HostAcc acc = random_acc(c.form, c.rows, c.k, c.ld, seed, c.weight_scale_run());
  const Inputs in{c.rows, c.k, acc.values(), random_residual(c.rows, c.k, seed + 1), norm_weight(c.k, seed + 2)};
  const int64_t cols = out_cols(c.group, c.k);
  expect_identical(run_residual_gpu(kind, c, acc, in), run_cpu(kind, c.group, in, true, c.rows_padded, cols), cols);
}

// relu2_mul_rmsnorm_quantize_gpu on the gate_up accumulator `acc` (c.k = the intermediate size).
Output run_relu2_gpu(QuantKind kind, const ResidualCase& c, const HostAcc& acc, const std::vector<uint16_t>& weight) {
  const int64_t inter = c.k, cols = out_cols(c.group, inter);
  const DeviceAcc d = upload(acc, c.offset);
  DeviceBuffer w((inter + c.offset + 1) * 2, "weight");
  auto* wv = w.as<__nv_bfloat16>() + c.offset;
  CUDA_CHECK(cudaMemcpy(wv, weight.data(), inter * 2, cudaMemcpyHostToDevice));
  const SlideGeometry g = make_slide_geometry(inter, c.group ? c.group : 4);
  return run_acc_gpu(c.rows_padded, cols, nullptr, 0, [&](uint8_t* codes, float* scale) {
    relu2_mul_rmsnorm_quantize_gpu(d.view, {c.rows, inter}, {wv, kEps},
                                   {kind, c.group ? &g : nullptr, c.rows_padded, cols, codes, scale}, nullptr,
                                   c.config);
  });
}

// relu2_mul_rmsnorm_quantize_gpu against value(gate_up) -> relu2_mul_rows_bf16 -> rmsnorm_quantize_rows.
void check_relu2_case(QuantKind kind, const ResidualCase& c, uint32_t seed) {
  const int64_t inter = c.k;
  const HostAcc acc = random_acc(c.form, c.rows, 2 * inter, c.ld, seed, c.weight_scale_run());
  Inputs in{c.rows, inter, std::vector<uint16_t>(static_cast<size_t>(c.rows * inter)), {},
            norm_weight(inter, seed + 2)};
  relu2_mul_rows_bf16(acc.values().data(), c.rows, inter, in.x.data());
  const int64_t cols = out_cols(c.group, inter);
  expect_identical(run_relu2_gpu(kind, c, acc, in.weight), run_cpu(kind, c.group, in, false, c.rows_padded, cols),
                   cols);
}

std::string case_name(const ResidualCase& c) {
  return std::string(c.form.name) + " run=" + std::to_string(c.weight_scale_run()) + " L=" + std::to_string(c.group) +
         " K=" + std::to_string(c.k) + " rows=" + std::to_string(c.rows) + " ld=" + std::to_string(c.ld) +
         " offset=" + std::to_string(c.offset) +
         " threads=" + std::to_string(c.config.threads) + " rows_per_block=" + std::to_string(c.config.rows_per_block);
}

class AccNormQuant : public ::testing::TestWithParam<QuantKind> {};

TEST_P(AccNormQuant, ResidualMatchesCpuForEveryLFormAndShape) {
  SKIP_WITHOUT_GPU();
  for (const AccForm& form : kEngineAccForms)
    for (int group : {0, 4, 6, 8, 10, 16})
      for (int64_t k : {30, 2560})
        for (int64_t rows : {1, 7, 100}) {
          const ResidualCase c{group, rows, k, k, round_up(rows, 16), 0, form, {}};
          SCOPED_TRACE(case_name(c));
          check_residual_case(GetParam(), c, static_cast<uint32_t>(group * 7919 + k * 13 + rows));
        }
}

TEST_P(AccNormQuant, Relu2MulMatchesCpuForEveryLFormAndShape) {
  SKIP_WITHOUT_GPU();
  for (const AccForm& form : kEngineAccForms)
    for (int group : {0, 4, 6, 8, 10, 16})
      for (int64_t inter : {6912, 40, 30})
        for (int64_t rows : {1, 7, 100}) {
          const ResidualCase c{group, rows, inter, 2 * inter, round_up(rows, 16), 0, form, {}};
          SCOPED_TRACE(case_name(c));
          check_relu2_case(GetParam(), c, static_cast<uint32_t>(group * 7919 + inter * 13 + rows));
        }
}

TEST_P(AccNormQuant, EveryLaunchCandidateGivesTheSameOutput) {
  SKIP_WITHOUT_GPU();
  for (const QuantLaunchConfig& config : quant_launch_candidates())
    for (int group : {0, 6, 16}) {
      const ResidualCase residual{group, 77, 2560, 2560, 80, 0, kInt32BothScales, config};
      SCOPED_TRACE(case_name(residual));
      check_residual_case(GetParam(), residual, static_cast<uint32_t>(group + config.threads));
      const ResidualCase relu2{group, 77, 6912, 13824, 80, 0, kBf16ScaleX, config};
      SCOPED_TRACE(case_name(relu2));
      check_relu2_case(GetParam(), relu2, static_cast<uint32_t>(group + config.threads));
    }
}

// Strided views (ld > cols: 16-byte loads), unaligned ones (odd ld or offset 1: the scalar path),
// fp32 accumulators, and padding-only launches (rows 0).
TEST_P(AccNormQuant, StridedUnalignedFloat32AndEmptyViews) {
  SKIP_WITHOUT_GPU();
  for (const AccForm& form : {kInt32BothScales, kBf16BothScales, kBf16Plain, kFloat32BothScales})
    for (int group : {0, 10})
      for (const auto& [extra, offset] : {std::pair<int64_t, int64_t>{8, 0}, {1, 0}, {0, 1}}) {
        const ResidualCase residual{group, 33, 2560, 2560 + extra, 48, offset, form, {}};
        SCOPED_TRACE(case_name(residual));
        check_residual_case(GetParam(), residual, static_cast<uint32_t>(700 + group + extra + offset));
        const ResidualCase relu2{group, 33, 6912, 13824 + extra, 48, offset, form, {}};
        SCOPED_TRACE(case_name(relu2));
        check_relu2_case(GetParam(), relu2, static_cast<uint32_t>(800 + group + extra + offset));
      }
  for (int group : {0, 8}) {
    check_residual_case(GetParam(), {group, 0, 2560, 2560, 16, 0, kInt32BothScales, {}}, 5);
    check_relu2_case(GetParam(), {group, 0, 6912, 13824, 16, 0, kBf16ScaleX, {}}, 6);
  }
}

// The register kernels of the accumulator-fed norms (bf16 accumulators in each form the engine
// leaves: plain, with scale_x, with both scales; and weight scales alone) for every chunk count
// they are compiled for, whole and partial last chunks of the team, in one-warp teams.
TEST_P(AccNormQuant, RowsInRegistersForEveryChunkCount) {
  SKIP_WITHOUT_GPU();
  for (int chunks = 1; chunks <= quant_kernels::kMaxTwoLoadRegisterChunks; ++chunks)
    for (int64_t k : {int64_t{8} * 32 * chunks, int64_t{8} * (32 * chunks - 5)})
      for (const AccForm& form : {kBf16Plain, kBf16ScaleX, kBf16ScaleW, kBf16BothScales, kBf16BothScalesPerPart})
        for (int group : {0, 4})
          for (const QuantLaunchConfig config : {QuantLaunchConfig{32, 1}, QuantLaunchConfig{128, 4}}) {
            const uint32_t seed = static_cast<uint32_t>(chunks * 131 + k + group + config.threads);
            const ResidualCase residual{group, 21, k, k, 32, 0, form, config};
            SCOPED_TRACE("chunks=" + std::to_string(chunks) + " " + case_name(residual));
            check_residual_case(GetParam(), residual, seed);
            check_relu2_case(GetParam(), {group, 21, k, 2 * k, 32, 0, form, config}, seed);
          }
}

// bf16 accumulators with NaN, +-Inf, values near the bf16 maximum and subnormal-only rows (in the
// gate and the up half for relu2 * up): the register kernels (teams of 256 and of 32) and the
// shared-memory kernel (1024-thread blocks of 32-thread teams) give the same codes, scales and
// residual.
TEST_P(AccNormQuant, RowsInRegistersMatchTheSharedMemoryKernelOnSpecialValues) {
  SKIP_WITHOUT_GPU();
  const QuantKind kind = GetParam();
  const auto poison = [](HostAcc& acc, int64_t begin, int64_t k) {
    put_special_values(acc.halves.data() + begin, acc.rows, acc.ld, k, begin);
  };
  const std::vector<QuantLaunchConfig> configs{{1024, 32}, {256, 1}, {128, 4}};
  for (const AccForm& form : {kBf16Plain, kBf16ScaleX, kBf16ScaleW, kBf16BothScales, kBf16BothScalesPerPart})
    for (int group : {0, 4}) {
      const uint32_t seed = static_cast<uint32_t>(group * 31 + form.scale_x + 2 * form.scale_w);
      HostAcc delta = random_acc(form, 60, 2560, 2560, seed, form.scale_w_per_part ? 2560 : 0);
      poison(delta, 0, 2560);
      const Inputs in{60, 2560, {}, random_residual(60, 2560, seed + 1), norm_weight(2560, seed + 2)};
      HostAcc gate_up = random_acc(form, 60, 13824, 13824, seed + 3, form.scale_w_per_part ? 6912 : 0);
      poison(gate_up, 0, 6912);
      poison(gate_up, 6912, 6912);
      const std::vector<uint16_t> weight = norm_weight(6912, seed + 4);
      std::vector<Output> residual_out, relu2_out;
      for (const QuantLaunchConfig& config : configs) {
        residual_out.push_back(run_residual_gpu(kind, {group, 60, 2560, 2560, 64, 0, form, config}, delta, in));
        relu2_out.push_back(run_relu2_gpu(kind, {group, 60, 6912, 13824, 64, 0, form, config}, gate_up, weight));
      }
      for (size_t i = 1; i < configs.size(); ++i) {
        SCOPED_TRACE(std::string(form.name) + " L=" + std::to_string(group) +
                     " threads=" + std::to_string(configs[i].threads) +
                     " rows_per_block=" + std::to_string(configs[i].rows_per_block));
        expect_identical(residual_out[i], residual_out[0], out_cols(group, 2560));
        expect_identical(relu2_out[i], relu2_out[0], out_cols(group, 6912));
      }
    }
}

// Weight scales constant over runs of columns: runs that are multiples of the part width (one
// scale per part, read once per row: gate and up with their own, or sharing one) and runs that are
// not (half a part, an odd run: read per column) give the CPU's bits, in the register kernels
// (one-warp and 128-thread teams) and the shared-memory one.
TEST_P(AccNormQuant, WeightScalesOnePerPartOrPerColumn) {
  SKIP_WITHOUT_GPU();
  const QuantLaunchConfig configs[] = {{32, 1}, {128, 4}, {1024, 32}};
  for (const QuantLaunchConfig& config : configs)
    for (int group : {0, 4, 8})
      for (int64_t run_parts_x2 : {2, 4, 1}) {  // run = k, 2k, k / 2
        const ResidualCase residual{group, 37, 2560, 2560, 48, 0, kBf16BothScales, config, 2560 * run_parts_x2 / 2};
        SCOPED_TRACE(case_name(residual));
        check_residual_case(GetParam(), residual, static_cast<uint32_t>(900 + group + run_parts_x2));
        const ResidualCase relu2{group, 37, 6912, 13824, 48, 0, kBf16BothScales, config, 6912 * run_parts_x2 / 2};
        SCOPED_TRACE(case_name(relu2));
        check_relu2_case(GetParam(), relu2, static_cast<uint32_t>(950 + group + run_parts_x2));
      }
  check_relu2_case(GetParam(), {0, 37, 6912, 13824, 48, 0, kBf16BothScales, {128, 4}, 6911}, 999);
}

INSTANTIATE_TEST_SUITE_P(Kinds, AccNormQuant, ::testing::Values(QuantKind::Int8, QuantKind::Fp8E4M3),
                         [](const auto& info) { return std::string(quant_kind_name(info.param)); });

// The rows of a 50-row batch that the final-norm tests gather: out of order, repeated, skipping.
std::vector<int32_t> gathered_rows() {
  std::vector<int32_t> index = {49, 0, 3, 3, 17, 2, 48};
  for (int32_t r = 40; r >= 5; r -= 3) index.push_back(r);
  return index;
}

// residual_rmsnorm_rows_gpu: gathered rows (reversed, repeated, skipping) of bf16(residual + value),
// normalized, against rmsnorm_rows_bf16; the residual is left untouched.
TEST(ResidualRmsNormRows, MatchesCpu) {
  SKIP_WITHOUT_GPU();
  const AccForm forms[] = {kBf16Plain, kInt32BothScales, kBf16ScaleX, kBf16BothScales, kFloat32BothScales};
  for (const AccForm& form : forms)
    for (int64_t k : {30, 2560})
      for (int64_t offset : {0, 1}) {
        SCOPED_TRACE(std::string(form.name) + " K=" + std::to_string(k) + " offset=" + std::to_string(offset));
        constexpr int64_t kRows = 50;
        const HostAcc acc = random_acc(form, kRows, k, k, static_cast<uint32_t>(k + offset));
        const std::vector<uint16_t> residual = random_residual(kRows, k, static_cast<uint32_t>(k + 1));
        const std::vector<uint16_t> weight = norm_weight(k, static_cast<uint32_t>(k + 2));
        const std::vector<int32_t> index = gathered_rows();
        const int64_t count = static_cast<int64_t>(index.size()), n = kRows * k;

        const DeviceAcc d = upload(acc, offset);
        DeviceBuffer res((n + offset + 1) * 2, "residual"), w((k + offset + 1) * 2, "weight"),
            out((count * k + offset + 1) * 2, "out"), idx(index.size() * 4, "row index");
        auto* rv = res.as<__nv_bfloat16>() + offset;
        auto* wv = w.as<__nv_bfloat16>() + offset;
        auto* ov = out.as<__nv_bfloat16>() + offset;
        CUDA_CHECK(cudaMemcpy(rv, residual.data(), n * 2, cudaMemcpyHostToDevice));
        CUDA_CHECK(cudaMemcpy(wv, weight.data(), k * 2, cudaMemcpyHostToDevice));
        CUDA_CHECK(cudaMemcpy(idx.data(), index.data(), index.size() * 4, cudaMemcpyHostToDevice));
        CUDA_CHECK(cudaMemset(out.data(), kPoison, out.bytes()));
        residual_rmsnorm_rows_gpu(d.view, rv, idx.as<int32_t>(), {count, k}, {wv, kEps}, ov, nullptr);
        CUDA_CHECK(cudaDeviceSynchronize());
        std::vector<uint16_t> got(static_cast<size_t>(count * k)), got_residual(static_cast<size_t>(n));
        CUDA_CHECK(cudaMemcpy(got.data(), ov, got.size() * 2, cudaMemcpyDeviceToHost));
        CUDA_CHECK(cudaMemcpy(got_residual.data(), rv, n * 2, cudaMemcpyDeviceToHost));

        const std::vector<uint16_t> values = acc.values();
        std::vector<uint16_t> h(static_cast<size_t>(count * k)), want(h.size());
        for (int64_t i = 0; i < count; ++i)
          add_rows_bf16(residual.data() + index[i] * k, values.data() + index[i] * k, k, h.data() + i * k);
        rmsnorm_rows_bf16(h.data(), weight.data(), count, k, kEps, want.data());
        ASSERT_EQ(got, want);
        ASSERT_EQ(got_residual, residual);
      }
}

// rmsnorm_rows_gpu: the same gathered rows of a residual that already holds the sum (what the
// GEMMs with the residual epilogue leave), normalized, against rmsnorm_rows_bf16; x untouched.
TEST(RmsNormRows, MatchesCpu) {
  SKIP_WITHOUT_GPU();
  for (int64_t k : {30, 2560})
    for (int64_t offset : {0, 1}) {
      SCOPED_TRACE("K=" + std::to_string(k) + " offset=" + std::to_string(offset));
      constexpr int64_t kRows = 50;
      const std::vector<uint16_t> x = random_residual(kRows, k, static_cast<uint32_t>(k + 7 + offset));
      const std::vector<uint16_t> weight = norm_weight(k, static_cast<uint32_t>(k + 8));
      const std::vector<int32_t> index = gathered_rows();
      const int64_t count = static_cast<int64_t>(index.size()), n = kRows * k;
      DeviceBuffer xs((n + offset + 1) * 2, "x"), w((k + offset + 1) * 2, "weight"),
          out((count * k + offset + 1) * 2, "out"), idx(index.size() * 4, "row index");
      auto* xv = xs.as<__nv_bfloat16>() + offset;
      auto* wv = w.as<__nv_bfloat16>() + offset;
      auto* ov = out.as<__nv_bfloat16>() + offset;
      CUDA_CHECK(cudaMemcpy(xv, x.data(), n * 2, cudaMemcpyHostToDevice));
      CUDA_CHECK(cudaMemcpy(wv, weight.data(), k * 2, cudaMemcpyHostToDevice));
      CUDA_CHECK(cudaMemcpy(idx.data(), index.data(), index.size() * 4, cudaMemcpyHostToDevice));
      CUDA_CHECK(cudaMemset(out.data(), kPoison, out.bytes()));
      rmsnorm_rows_gpu(xv, idx.as<int32_t>(), {count, k}, {wv, kEps}, ov, nullptr);
      CUDA_CHECK(cudaDeviceSynchronize());
      std::vector<uint16_t> got(static_cast<size_t>(count * k)), got_x(static_cast<size_t>(n));
      CUDA_CHECK(cudaMemcpy(got.data(), ov, got.size() * 2, cudaMemcpyDeviceToHost));
      CUDA_CHECK(cudaMemcpy(got_x.data(), xv, n * 2, cudaMemcpyDeviceToHost));
      std::vector<uint16_t> rows(static_cast<size_t>(count * k)), want(rows.size());
      for (int64_t i = 0; i < count; ++i)
        std::copy_n(x.data() + index[i] * k, k, rows.data() + i * k);
      rmsnorm_rows_bf16(rows.data(), weight.data(), count, k, kEps, want.data());
      ASSERT_EQ(got, want);
      ASSERT_EQ(got_x, x);
      // The tail past the output stays poisoned.
      std::vector<uint8_t> tail(static_cast<size_t>(out.bytes()));
      CUDA_CHECK(cudaMemcpy(tail.data(), out.data(), tail.size(), cudaMemcpyDeviceToHost));
      for (size_t b = static_cast<size_t>((offset + count * k) * 2); b < tail.size(); ++b) ASSERT_EQ(tail[b], kPoison);
    }
}

}  // namespace
}  // namespace slidesparse
