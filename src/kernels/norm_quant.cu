// Host launchers of the fused RMSNorm kernels (device code and design notes in norm_quant.cuh).
#include "kernels/norm_quant.h"

#include <climits>
#include <cstdint>
#include <string>

#include "core/error.h"
#include "gpu/cuda_check.h"
#include "kernels/norm_quant.cuh"
#include "kernels/norm_quant_registers.cuh"
#include "kernels/shared_memory.h"
#include "math/rmsnorm.h"

namespace slidesparse {

namespace {

using quant_kernels::AccResidualStage;
using quant_kernels::NormArgs;
using quant_kernels::Relu2MulStage;
using quant_kernels::SuperGroup;
using quant_kernels::TensorStage;
using quant_kernels::kNormPartialsSharedBytes;

// The final norm runs on the few rows that sample: one row per block, a team wide enough that each
// thread handles about one 16-byte chunk of a K = 2560 row.
constexpr QuantLaunchConfig kRowsConfig{256, 1};

bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

NormArgs make_args(const __nv_bfloat16* x, const __nv_bfloat16* residual_in, __nv_bfloat16* residual_out,
                   const __nv_bfloat16* weight, int64_t rows, int64_t k, float eps, const QuantLaunchConfig& c) {
  // Four times per layer of every eager step: messages are built only on failure.
  if (!(c.threads >= 32 && c.threads <= 1024 && c.rows_per_block >= 1 && c.threads % c.rows_per_block == 0 &&
        (c.threads / c.rows_per_block) % 32 == 0))
    fail("rmsnorm: launch config threads=" + std::to_string(c.threads) + " rows_per_block=" +
         std::to_string(c.rows_per_block) + " must give each row a whole number of warps, with at most 1024 threads per block");
  if (rows < 0 || k < 1 || k > kRmsNormMaxK)
    fail("rmsnorm: invalid shape rows=" + std::to_string(rows) + " k=" + std::to_string(k) + " (need 1 <= k <= " +
         std::to_string(kRmsNormMaxK) + ")");
  require(residual_in || !residual_out, "rmsnorm: residual_out is written only together with residual_in");
  NormArgs a{};
  a.q.x = x;
  a.q.rows = a.q.rows_padded = rows;
  a.q.k = static_cast<int>(k);
  a.q.vector_loads = k % 8 == 0 && aligned16(x) && aligned16(residual_in) && aligned16(residual_out) &&
                     aligned16(weight);
  a.residual_in = residual_in;
  a.residual_out = residual_out;
  a.weight = weight;
  a.eps = eps;
  return a;
}

// The non-quantizing kernels write y: bf16 rows, 16-byte loads and stores only where y allows them.
void set_bf16_output(NormArgs& a, __nv_bfloat16* y) {
  a.q.vector_loads = a.q.vector_loads && aligned16(y);
  a.y = y;
}

template <bool kQuantize, bool kInt8, int kL, typename Stage>
void launch(NormArgs a, const QuantLaunchConfig& config, cudaStream_t stream) {
  const auto kernel = quant_kernels::rmsnorm_kernel<kQuantize, kInt8, kL, Stage>;
  a.q.super_groups = (a.q.k + 4 * kL - 1) / (4 * kL);
  a.q.row_smem_units = kQuantize ? SuperGroup<kL>::smem_units(a.q.super_groups)
                                 : a.q.super_groups * SuperGroup<kL>::kInStride;
  const size_t row_bytes = static_cast<size_t>(a.q.row_smem_units) * sizeof(uint4);
  int rows_per_block = config.rows_per_block;
  size_t smem = row_bytes * rows_per_block;
  if (smem + kNormPartialsSharedBytes > kDefaultBlockSharedBytes) {
    const size_t limit = device_shared_memory_optin() - kNormPartialsSharedBytes;
    if (smem > limit) rows_per_block = 1, smem = row_bytes;  // long rows: one row per block
    require(smem <= limit, "rmsnorm: K=" + std::to_string(a.q.k) + " needs " + std::to_string(smem) +
                               " bytes of shared memory per row; the device allows " + std::to_string(limit));
    allow_dynamic_shared_memory(reinterpret_cast<const void*>(kernel), smem, kNormPartialsSharedBytes);
  }
  a.q.team = config.threads / rows_per_block;
  launch_dependent(kernel, quant_kernels::row_blocks(a.q.rows_padded, rows_per_block, "rmsnorm"),
                   static_cast<unsigned>(config.threads), smem, stream, a);
}

template <int kL, typename Stage>
void launch_kind(QuantKind kind, const NormArgs& a, const QuantLaunchConfig& config, cudaStream_t stream) {
  if (kind == QuantKind::Int8)
    launch<true, true, kL, Stage>(a, config, stream);
  else
    launch<true, false, kL, Stage>(a, config, stream);
}

template <typename Stage>
void launch_quantize(QuantKind kind, const SlideGeometry* slide, const NormArgs& a, const QuantLaunchConfig& config,
                     cudaStream_t stream) {
  switch (slide ? slide->group : 4) {  // L = 4 is the identity map: plain quantization
    case 4: return launch_kind<4, Stage>(kind, a, config, stream);
    case 6: return launch_kind<6, Stage>(kind, a, config, stream);
    case 8: return launch_kind<8, Stage>(kind, a, config, stream);
    case 10: return launch_kind<10, Stage>(kind, a, config, stream);
    case 12: return launch_kind<12, Stage>(kind, a, config, stream);
    case 14: return launch_kind<14, Stage>(kind, a, config, stream);
    case 16: return launch_kind<16, Stage>(kind, a, config, stream);
    default: fail("rmsnorm_quantize: no kernel for L=" + std::to_string(slide->group) + " (L must be even, 4..16)");
  }
}

// Accumulator stages are compiled per element type: the chunk loads differ in width.
template <template <AccumulatorType> class Stage>
void launch_acc_quantize(QuantKind kind, const SlideGeometry* slide, const NormArgs& a,
                         const QuantLaunchConfig& config, cudaStream_t stream) {
  switch (a.acc.type) {
    case AccumulatorType::Int32: return launch_quantize<Stage<AccumulatorType::Int32>>(kind, slide, a, config, stream);
    case AccumulatorType::Float32:
      return launch_quantize<Stage<AccumulatorType::Float32>>(kind, slide, a, config, stream);
    case AccumulatorType::BFloat16:
      return launch_quantize<Stage<AccumulatorType::BFloat16>>(kind, slide, a, config, stream);
  }
  fail("rmsnorm: unknown accumulator type");
}

// The checks and fields every quantizing entry point shares.
void set_quantize_output(NormArgs& a, const char* name, const QuantizedRows& out) {
  const int64_t rows = a.q.rows, k = a.q.k;
  const SlideGeometry* slide = out.slide;
  const int64_t rows_padded = out.rows_padded, out_cols = out.out_cols;
  uint8_t* codes = out.codes;
  require(rows_padded >= rows && out_cols >= k && out_cols % 16 == 0 && out_cols < INT_MAX,
          std::string(name) + ": invalid shape rows=" + std::to_string(rows) + " k=" + std::to_string(k) +
              " rows_padded=" + std::to_string(rows_padded) + " out_cols=" + std::to_string(out_cols) +
              " (need rows_padded >= rows, out_cols >= k and a multiple of 16)");
  require(!slide || (slide->k == k && out_cols >= slide->k_slid),
          std::string(name) + ": slide geometry (K=" + std::to_string(slide ? slide->k : 0) +
              ", K'=" + std::to_string(slide ? slide->k_slid : 0) + ") does not match k=" + std::to_string(k) +
              " out_cols=" + std::to_string(out_cols));
  require(aligned16(codes), std::string(name) + ": the code buffer must be 16-byte aligned");
  a.q.rows_padded = rows_padded;
  a.q.out = codes;
  a.q.scale = out.scale;
  a.q.out_cols = static_cast<int>(out_cols);
}

// Checks the accumulator covers `cols` columns and decides whether its rows take 16-byte loads:
// 8-column chunks must start 16-byte aligned (in acc, scale_w and the residual) and k cover whole
// chunks; the gate_up stage's up half starts at column k, aligned when k is a multiple of 8.
void set_accumulator(NormArgs& a, const char* name, const AccView& acc, int64_t cols) {
  require(acc.ld >= cols && (acc.data || a.q.rows == 0),
          std::string(name) + ": the accumulator view (ld=" + std::to_string(acc.ld) + ") must hold " +
              std::to_string(cols) + " columns per row");
  const int64_t element_bytes = acc.type == AccumulatorType::BFloat16 ? 2 : 4;
  a.acc = acc;
  a.acc_vector_loads = a.q.k % 8 == 0 && acc.ld * element_bytes % 16 == 0 && aligned16(acc.data) &&
                       aligned16(acc.scale_w) && aligned16(a.residual_in) && aligned16(a.residual_out);
}

}  // namespace

void rmsnorm_quantize_gpu(const TensorNormInput& in, const NormRows& shape, const RmsNormWeight& norm,
                          const QuantizedRows& out, cudaStream_t stream, const QuantLaunchConfig& config) {
  NormArgs a = make_args(in.x, in.residual_in, in.residual_out, norm.weight, shape.rows, shape.k, norm.eps, config);
  set_quantize_output(a, "rmsnorm_quantize", out);
  if (out.rows_padded == 0) return;
  if (launch_norm_in_registers(FusedNormKernel::Tensor, out.kind, out.slide, a, config, stream)) return;
  launch_quantize<TensorStage>(out.kind, out.slide, a, config, stream);
}

void rmsnorm_gpu(const TensorNormInput& in, const NormRows& shape, const RmsNormWeight& norm, __nv_bfloat16* y,
                 cudaStream_t stream, const QuantLaunchConfig& config) {
  NormArgs a = make_args(in.x, in.residual_in, in.residual_out, norm.weight, shape.rows, shape.k, norm.eps, config);
  set_bf16_output(a, y);
  if (shape.rows == 0) return;
  launch<false, true, 4, TensorStage>(a, config, stream);
}

void residual_rmsnorm_quantize_gpu(const AccView& delta, __nv_bfloat16* residual, const NormRows& shape,
                                   const RmsNormWeight& norm, const QuantizedRows& out, cudaStream_t stream,
                                   const QuantLaunchConfig& config) {
  require(residual || shape.rows == 0, "residual_rmsnorm_quantize: the residual stream is required");
  NormArgs a = make_args(nullptr, residual, residual, norm.weight, shape.rows, shape.k, norm.eps, config);
  set_quantize_output(a, "residual_rmsnorm_quantize", out);
  set_accumulator(a, "residual_rmsnorm_quantize", delta, shape.k);
  if (out.rows_padded == 0) return;
  if (launch_norm_in_registers(FusedNormKernel::Residual, out.kind, out.slide, a, config, stream)) return;
  launch_acc_quantize<AccResidualStage>(out.kind, out.slide, a, config, stream);
}

void relu2_mul_rmsnorm_quantize_gpu(const AccView& gate_up, const NormRows& shape, const RmsNormWeight& norm,
                                    const QuantizedRows& out, cudaStream_t stream, const QuantLaunchConfig& config) {
  NormArgs a = make_args(nullptr, nullptr, nullptr, norm.weight, shape.rows, shape.k, norm.eps, config);
  set_quantize_output(a, "relu2_mul_rmsnorm_quantize", out);
  set_accumulator(a, "relu2_mul_rmsnorm_quantize", gate_up, 2 * shape.k);
  if (out.rows_padded == 0) return;
  if (launch_norm_in_registers(FusedNormKernel::Relu2Mul, out.kind, out.slide, a, config, stream)) return;
  launch_acc_quantize<Relu2MulStage>(out.kind, out.slide, a, config, stream);
}

void residual_rmsnorm_rows_gpu(const AccView& delta, const __nv_bfloat16* residual, const int32_t* row_index,
                               const NormRows& shape, const RmsNormWeight& norm, __nv_bfloat16* out,
                               cudaStream_t stream) {
  const int64_t count = shape.rows;
  require((residual && row_index) || count == 0, "residual_rmsnorm_rows: residual and row_index are required");
  NormArgs a = make_args(nullptr, residual, nullptr, norm.weight, count, shape.k, norm.eps, kRowsConfig);
  set_bf16_output(a, out);
  a.row_index = row_index;
  set_accumulator(a, "residual_rmsnorm_rows", delta, shape.k);
  if (count == 0) return;
  switch (delta.type) {
    case AccumulatorType::Int32:
      return launch<false, true, 4, AccResidualStage<AccumulatorType::Int32>>(a, kRowsConfig, stream);
    case AccumulatorType::Float32:
      return launch<false, true, 4, AccResidualStage<AccumulatorType::Float32>>(a, kRowsConfig, stream);
    case AccumulatorType::BFloat16:
      return launch<false, true, 4, AccResidualStage<AccumulatorType::BFloat16>>(a, kRowsConfig, stream);
  }
  fail("residual_rmsnorm_rows: unknown accumulator type");
}

void rmsnorm_rows_gpu(const __nv_bfloat16* x, const int32_t* row_index, const NormRows& shape,
                      const RmsNormWeight& norm, __nv_bfloat16* out, cudaStream_t stream) {
  const int64_t count = shape.rows;
  require((x && row_index) || count == 0, "rmsnorm_rows: x and row_index are required");
  NormArgs a = make_args(x, nullptr, nullptr, norm.weight, count, shape.k, norm.eps, kRowsConfig);
  set_bf16_output(a, out);
  a.row_index = row_index;
  if (count == 0) return;
  launch<false, true, 4, TensorStage>(a, kRowsConfig, stream);
}

std::string fused_norm_kernel_name(FusedNormKernel norm, QuantKind kind, Sparsity sparsity,
                                   std::string_view accumulator_form) {
  require((norm == FusedNormKernel::Tensor) == accumulator_form.empty(),
          "fused_norm_kernel_name: the accumulator-fed norms, and only they, name an accumulator form");
  const char* base = norm == FusedNormKernel::Tensor     ? "norm_quant_"
                     : norm == FusedNormKernel::Residual ? "residual_norm_quant_"
                                                         : "relu2_norm_quant_";
  const bool plain_layout = sparsity.is_dense() || sparsity == Sparsity::two_of(4);
  std::string name =
      base + std::string(quant_kind_name(kind)) + "_L" + std::to_string(plain_layout ? 0 : sparsity.group());
  if (!accumulator_form.empty()) name += "_" + std::string(accumulator_form);
  return name;
}

}  // namespace slidesparse
