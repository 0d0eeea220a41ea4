// Fused (residual add +) RMSNorm (+ per-token quantization + slide): what the BitNet forward runs
// in front of every linear layer (input_layernorm -> qkv, attn_sub_norm -> o_proj,
// post_attention_layernorm -> gate_up, ffn_sub_norm -> down_proj), and the plain RMSNorm of
// model.norm. The math is exactly src/math/rmsnorm.h (with math/activation.h for the MLP) followed
// by src/math/quantize.h; GEMM outputs are read through an AccView (kernels/acc_view.h), so the
// values are the bf16 the unfused dequantize epilogue would write. Host launchers take an explicit
// stream, allocate nothing and are safe inside CUDA graph capture.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "kernels/acc_view.h"
#include "kernels/activation_quant.h"
#include "math/slide.h"
#include "math/sparsity.h"
#include "math/weight_code.h"

namespace slidesparse {

// The three quantizing norms of the engine's forward, by what feeds them: a bf16 tensor
// (rmsnorm_quantize_gpu: the first input norm, attn_sub_norm), a GEMM accumulator plus the residual
// (residual_rmsnorm_quantize_gpu), the gate_up accumulator (relu2_mul_rmsnorm_quantize_gpu). Their
// best launch shapes differ from the plain quantizer's (other bytes per row), so `slidesparse tune`
// records each under its own name.
enum class FusedNormKernel { Tensor, Residual, Relu2Mul };
// The name of one kernel and its input: "norm_quant_int8_L0", "relu2_norm_quant_fp8_L8_bf16+sx+sw".
// 2:4 codes are laid out as plain ones, so a 2:4 norm runs the dense norm's kernel and shares its
// name (L0), and with it its tuned launch: the two models then differ only in their GEMMs. The
// accumulator-fed norms also name the form of the accumulator they read (accumulator_form, e.g.
// "bf16+sx": gemm/w8a8_linear.h), which selects the kernel compiled for it; the tensor norm has none.
std::string fused_norm_kernel_name(FusedNormKernel norm, QuantKind kind, Sparsity sparsity,
                                   std::string_view accumulator_form = {});

// What decides how a quantizing norm runs, besides its launch shape.
struct NormRowsLayout {
  int64_t k = 0;                                // row width
  int slide_group = 0;                          // 0: plain codes, else the L of 2:L codes
  bool vector_rows = false;                     // 16-byte chunks: k % 8 == 0, every row pointer aligned
  bool with_residual = false;                   // the tensor norm adds a residual
  std::optional<AccumulatorType> accumulator;   // accumulator-fed norms: the GEMM output's element type
};

// The 16-byte chunks per thread with which `norm` holds each row in registers in this launch shape
// (kernels/norm_quant_registers), or 0 where it stages rows in shared memory instead. Registers
// take 16-byte rows into plain or 2:4 codes, of x alone (at most 16 chunks per thread) or of a bf16
// accumulator (two loads per chunk, at most 8), in blocks no larger than that chunk count is
// compiled for (1024 threads up to 8 loads in flight per thread, 512 up to 8 chunks, else 256).
int register_norm_chunks(FusedNormKernel norm, const NormRowsLayout& rows, const QuantLaunchConfig& config);

// The launchers' parameter groups, in the same order in each: what is normalized (rows x k), the
// norm's own parameters, where its result goes.
struct NormRows {
  int64_t rows = 0;  // rows normalized (real rows; the quantized output may have padding rows)
  int64_t k = 0;     // their width (hidden size, or the MLP's intermediate size)
};

struct RmsNormWeight {
  const __nv_bfloat16* weight = nullptr;  // [k]
  float eps = 0;
};

// A bf16 tensor input: h = residual_in ? bf16(x + residual_in) : x, row by row ([rows, k]);
// residual_out (nullable, only with residual_in) receives h and may alias x or residual_in.
struct TensorNormInput {
  const __nv_bfloat16* x = nullptr;
  const __nv_bfloat16* residual_in = nullptr;
  __nv_bfloat16* residual_out = nullptr;
};

// Where a quantizing norm writes: what quantize_rows_gpu (slide == nullptr: codes [rows_padded,
// out_cols], out_cols >= k, a multiple of 16) or quantize_slide_rows_gpu (out_cols >= slide->k_slid)
// would produce from the normalized rows: padding rows get zero codes and scale 1, padding columns
// zeros, nothing needs clearing beforehand.
struct QuantizedRows {
  QuantKind kind = QuantKind::Int8;
  const SlideGeometry* slide = nullptr;  // null: plain quantization
  int64_t rows_padded = 0, out_cols = 0;
  uint8_t* codes = nullptr;  // 16-byte aligned
  float* scale = nullptr;    // [rows_padded]
};

// n = RMSNorm(h) * weight (bf16) of a tensor input, quantized (+ slid) into `out`. k <= kRmsNormMaxK.
void rmsnorm_quantize_gpu(const TensorNormInput& in, const NormRows& shape, const RmsNormWeight& norm,
                          const QuantizedRows& out, cudaStream_t stream, const QuantLaunchConfig& config = {});

// The same without quantization: y [rows, k] = RMSNorm(h) * weight in bf16 (y may alias x).
void rmsnorm_gpu(const TensorNormInput& in, const NormRows& shape, const RmsNormWeight& norm, __nv_bfloat16* y,
                 cudaStream_t stream, const QuantLaunchConfig& config = {});

// h = bf16(residual + value(delta)) row by row; residual := h (in place); then exactly
// rmsnorm_quantize_gpu on h. delta holds >= k columns per row.
void residual_rmsnorm_quantize_gpu(const AccView& delta, __nv_bfloat16* residual, const NormRows& shape,
                                   const RmsNormWeight& norm, const QuantizedRows& out, cudaStream_t stream,
                                   const QuantLaunchConfig& config = {});

// a = relu2_mul(gate_up) per math/activation.h (gate_up [rows, 2 * k] through the AccView: gate
// columns then up; k is the MLP's intermediate size), then RMSNorm(a) * weight quantized (+ slide)
// into `out` for down_proj: BitNet's MLP middle in one pass, a never stored.
void relu2_mul_rmsnorm_quantize_gpu(const AccView& gate_up, const NormRows& shape, const RmsNormWeight& norm,
                                    const QuantizedRows& out, cudaStream_t stream, const QuantLaunchConfig& config = {});

// The final norm for the rows that sample: out[i] = RMSNorm(bf16(residual[r] + value(delta, r))) *
// weight with r = row_index[i] (device int32, each a valid row of delta and residual) for i <
// shape.rows; out bf16 [shape.rows, k]. The residual is not written.
void residual_rmsnorm_rows_gpu(const AccView& delta, const __nv_bfloat16* residual, const int32_t* row_index,
                               const NormRows& shape, const RmsNormWeight& norm, __nv_bfloat16* out,
                               cudaStream_t stream);
// The same where the residual already holds the sum (the GEMM added its output in its epilogue):
// out[i] = RMSNorm(x[row_index[i]]) * weight.
void rmsnorm_rows_gpu(const __nv_bfloat16* x, const int32_t* row_index, const NormRows& shape,
                      const RmsNormWeight& norm, __nv_bfloat16* out, cudaStream_t stream);

}  // namespace slidesparse
