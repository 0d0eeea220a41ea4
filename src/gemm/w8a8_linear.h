// The W8A8 linear operator: bf16 activations [M, K] -> bf16 output [M, N] with INT8 or FP8
// weights, on the dense backend (cuBLASLt; INT8 on Hopper our CUTLASS GEMM, which applies both
// scales in its epilogue: gemm/scaled_gemm.h) or the sparse one (cuSPARSELt, SlideSparse 2:L; INT8
// on Hopper, where asked for, our CUTLASS sparse GEMM with the same epilogues:
// gemm/sparse_scaled_gemm.h):
//   quantize (+ slide) -> GEMM -> scales.
// Buffers, descriptors, plans and the compressed weight are created at construction / prepare();
// forward() allocates nothing and only launches, so it can be captured in a CUDA graph once every
// M it will see has been prepared. The pieces are public so the engine can fuse around them.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "gemm/cublaslt_gemm.h"
#include "gemm/scaled_gemm.h"
#include "gemm/cusparselt_gemm.h"
#include "gemm/sparse_scaled_gemm.h"
#include "gemm/gemm_types.h"
#include "gpu/device_buffer.h"
#include "kernels/acc_view.h"
#include "kernels/activation_quant.h"
#include "math/slide.h"
#include "math/sparsity.h"
#include "tuning/tuning_db.h"

namespace slidesparse {

struct LinearConfig {
  QuantKind kind = QuantKind::Int8;
  int64_t n = 0;
  int64_t k = 0;       // original input features
  Sparsity sparsity;   // of the weight: dense, or 2:L (the SlideSparse weight; 2:4 plain)
  GemmOutput output = GemmOutput::Int32;
  ScaleMode scales = ScaleMode::Epilogue;
  int64_t max_m = 0;  // largest M forward() will see
  // Standalone linears own their quantized-activation, scale and accumulator buffers (quantize,
  // forward). The engine turns this off: its fused kernels write the codes into shared buffers and
  // call gemm() with them, so 120 linears do not each hold an M_max-row activation buffer.
  bool standalone = true;
  bool fast_accum = false;  // FP8 cuBLASLt only (GemmShape::fast_accum)
  // BitNet's gate_up on a scaled GEMM only: the weight's rows and scales come interleaved gate_j,
  // up_j (interleave_gate_up_rows, gate_up_block) and the GEMM writes the MLP activation
  // relu2(gate) * up, bf16 [M, n / 2], instead of [M, n] (ScaledGemm::run_relu2_mul): half the
  // output bytes, and the consumer is a plain norm of a tensor.
  bool relu2_mul_epilogue = false;
  // Its weight's interleaving block (interleave_gate_up_rows): 1 for the dense scaled GEMM,
  // kSparseGateUpBlock for the sparse one and for the dense fallback that runs its weight.
  int64_t gate_up_block = 1;
  // BitNet's o_proj and down_proj on a scaled GEMM only: gemm()'s d is the residual stream, bf16
  // [M, n], and the GEMM adds its output to it in place (ScaledGemm::run_residual_add), so the
  // residual norm after it is a plain norm of that tensor.
  bool residual_epilogue = false;

  int64_t output_n() const { return relu2_mul_epilogue ? n / 2 : n; }  // columns the GEMM writes

  // cuBLASLt (or the scaled GEMM) for dense weights, cuSPARSELt for 2:L.
  GemmBackend backend() const { return sparsity.is_dense() ? GemmBackend::CublasLt : GemmBackend::CusparseLt; }
};

// One weight of a linear: device codes row-major, [n, k] for the dense backend, the slid W' [n, K']
// for the sparse one (padded to [n, gemm_k()] and compressed at construction, not needed
// afterwards); and its fp32 scale [n] (kept by the caller), with the length of the runs of columns
// over which it is constant (scale_run(), 0 where not known): the fused consumers of an output that
// still needs the scale then read one value per part (AccView::scale_w_run).
struct LinearWeight {
  const void* codes = nullptr;
  const float* scale = nullptr;
  int64_t scale_run = 0;
};

// The length r of the first run of equal values of `scale` when every run [i*r, (i+1)*r) is
// constant (the last may be shorter), else 0: N for one scale per tensor, the part's width for a
// fused linear of equal parts with a scale each (gate_up), 0 or 1 for per-channel scales and for
// unequal parts with different scales (qkv).
int64_t scale_run(std::span<const float> scale);

// What a caller may ask of the default configuration.
struct LinearPreferences {
  bool fp8_fast_accum = false;  // FP8 dense: the tensor core's fast accumulation (GemmShape::fast_accum)
  bool scaled_gemm = true;      // INT8 dense: the scaled GEMM where it runs (Hopper)
  // INT8 2:L: the sparse scaled GEMM (CUTLASS, both scales and the fused epilogues) where it runs
  // (Hopper), instead of cuSPARSELt.
  bool sparse_scaled_gemm = false;
};

// The fastest correct configuration we measured for each backend and type (docs/PERF.md): the
// dense backend for dense weights, cuSPARSELt for 2:L ones (a finite L).
LinearConfig default_linear_config(QuantKind kind, int64_t n, int64_t k, Sparsity sparsity, int64_t max_m,
                                   const LinearPreferences& preferences = {});

// Both latencies `tune` measured at the same rows for a 2:L linear's GEMM and its dense fallback's.
struct TunedLatencies {
  double dense_us = 0, sparse_us = 0;
};

// A 2:L linear's dense configuration and the weights it runs: the same pruned weights, [n, k]. A 2:4
// weight whose slid form has K' = K is the pruned weight itself, so `weights` stays empty and the
// fallback runs the linear's own; a wider slid weight is returned to [n, k] by unslide_weight_rows.
struct DenseFallback {
  LinearConfig config;
  std::vector<LinearWeight> weights;
  // Run at every row count, the sparse GEMM never built (no compressed copy, no plans): where the
  // database timed the dense GEMM faster at every row count it timed both at
  // (dense_fallback_always_runs). Measured on an H100 at prefill M=32768, a 2:8 model whose every
  // linear ran its fallback there ran 4% slower with the sparse GEMMs kept than without them, at the
  // same kernels and a 4% lower clock under the power cap (docs/PERF.md).
  bool every_row_count = false;
};

class W8A8Linear {
 public:
  // weight: device codes row-major, [n, k] (dense) or the slid W' [n, K'] (sparse: padded to
  // gemm_k() columns and compressed here, so the caller need not keep it); scale_w: device fp32
  // [n] (kept by caller).
  W8A8Linear(const LinearConfig& config, const void* weight, const float* scale_w, cudaStream_t stream);
  // Several weights of the same shape (e.g. one linear slot of every layer) sharing descriptors and
  // plans; `index` in gemm() / output_view() picks one.
  // dense_fallback: a dense configuration of the same layer on the same pruned weights, whose GEMM
  // runs instead of the sparse one at the row counts where the tuning database timed it faster
  // (prepare()), on plain activations of K codes (input_slide(), input_k()), in its own fused form
  // (running_config(): its epilogues may differ from the sparse GEMM's; on the linear's own weights
  // it must take their gate_up row order). Its output may not be wider than the sparse one's
  // (callers size the GEMM output for config.output). The codes it runs stay the caller's to keep,
  // as for a dense linear. A fallback for every row count takes no sparse weights when it has its
  // own (`weights` empty: the un-slid weights stand in for them).
  W8A8Linear(const LinearConfig& config, const std::vector<LinearWeight>& weights, cudaStream_t stream,
             const std::optional<DenseFallback>& dense_fallback = std::nullopt);

  const LinearConfig& config() const { return config_; }
  int64_t gemm_k() const { return gemm_k_; }
  std::string describe() const;  // "cusparselt 2:8 int8 -> bf16 (weight-in-gemm) N=3840 K=2560 K'=3840"

  // Builds the GEMM plan for m rows (padded) with the algorithm `db` holds for exactly those rows
  // (searched and checked there by `tune`), else the library default; picks the tuned
  // quantization launch config (its M bucket). With a dense fallback, the GEMM `db` timed faster
  // at those rows is the one prepared and run.
  void prepare(int64_t m, const TuningDatabase* db);
  bool has_dense_fallback() const { return dense_fallback_ != nullptr; }
  // Whether the dense fallback's GEMM runs at m rows (as prepared; at every row count for a fallback
  // built for every row count).
  bool runs_dense_fallback(int64_t m) const;
  bool runs_dense_fallback_only() const { return fallback_only_; }
  size_t workspace_bytes(int64_t m) const;
  // The sparse backend's plan for m rows as the library reports it ("alg 7 split-k 1 (mode 0)");
  // "cuBLASLt", or "CUTLASS coop-128x256" and its tile, for the dense backend; "CUTLASS sparse
  // coop-128x256-1x1 weight-rows/1" (tile and order) on the sparse scaled GEMM; a dense fallback's
  // with both tuned latencies ("cuBLASLt on the 2:4 weight (tuned 28.1 us, cuSPARSELt 31.0 us)"), or,
  // for a fallback run at every row count at rows the database did not time, that it runs there.
  std::string describe_plan(int64_t m) const;

  // y: bf16 with room for padded_rows(m) rows of n (the GEMM writes whole padded tiles); it holds
  // running_config(m).output_n() columns.
  void forward(const __nv_bfloat16* x, int64_t m, __nv_bfloat16* y, void* workspace, size_t workspace_size,
               cudaStream_t stream);

  // Pieces, in order: quantize x into activation_codes()/activation_scales(); run the GEMM into d
  // (an accumulator or y, per scale mode); apply what remains of the scales.
  void quantize(const __nv_bfloat16* x, int64_t m, cudaStream_t stream);
  void gemm(int64_t m, void* d, void* workspace, size_t workspace_size, cudaStream_t stream);
  void finish_scales(const void* d, int64_t m, __nv_bfloat16* y, cudaStream_t stream);
  const uint8_t* activation_codes() const { return codes_.as<uint8_t>(); }

  // The GEMM on caller-provided activations: codes [padded_rows(m), input_k(m)] and scales
  // [padded_rows(m)] as the quantizing kernels write them; d receives padded_rows(m) x
  // config().output_n() values of output_type(). Allocates nothing.
  void gemm(int64_t m, const uint8_t* codes, const float* scale_x, void* d, void* workspace, size_t workspace_size,
            cudaStream_t stream, int index = 0) const;
  AccumulatorType output_type() const;  // of config().output (a dense fallback's is no wider)
  // How a fused consumer reads d, written by gemm() for m rows, as the finished bf16 output
  // (kernels/acc_view.h); a dense fallback writes its own form.
  AccView output_view(int64_t m, const void* d, const float* scale_x, int index = 0) const;
  QuantLaunchConfig quant_launch_config(int64_t m) const;
  const SlideGeometry& slide_geometry() const { return geometry_; }
  // What the GEMM that runs at m rows reads: codes slid by this geometry (null: plain codes, for a
  // dense linear and where the dense fallback runs) in rows of input_k(m) codes.
  const SlideGeometry* input_slide(int64_t m) const;
  int64_t input_k(int64_t m) const;
  // The configuration of the GEMM that runs at m rows, this linear's or its dense fallback's: what
  // gemm() writes there (its epilogues, output_n()).
  const LinearConfig& running_config(int64_t m) const { return runner(m).config_; }
  const float* activation_scales() const { return scale_x_.as<float>(); }

 private:
  LinearConfig config_;
  SlideGeometry geometry_;
  int64_t gemm_k_ = 0;
  std::vector<LinearWeight> weights_;  // dense backend: the caller's codes; both: the scales
  std::unique_ptr<CublasLtGemm> dense_;
  std::unique_ptr<CusparseLtGemm> sparse_;
  std::unique_ptr<ScaledGemm> scaled_;
  std::unique_ptr<SparseScaledGemm> sparse_scaled_;
  DeviceBuffer codes_, scale_x_, accumulator_;
  std::map<int64_t, QuantLaunchConfig> quant_configs_;
  std::unique_ptr<W8A8Linear> dense_fallback_;
  bool fallback_only_ = false;  // dense_fallback_ runs at every row count; no sparse GEMM was built
  // Padded rows at which dense_fallback_ runs, with both tuned latencies (none: rows the database
  // did not time, run by a fallback for every row count).
  std::map<int64_t, std::optional<TunedLatencies>> fallback_rows_;

  // What runs at m rows: this linear, or its dense fallback.
  const W8A8Linear& runner(int64_t m) const { return runs_dense_fallback(m) ? *dense_fallback_ : *this; }
};

// How a fused consumer reads a GEMM output of this type (kernels/acc_view.h).
AccumulatorType accumulator_type(GemmOutput output);

// Whether a configuration runs on an INT8 scaled GEMM (both scales in its epilogue, Hopper): the
// dense one for a dense weight, the sparse one for a 2:L weight.
bool runs_scaled_gemm(const LinearConfig& config);
// The block of gate rows, then up rows, in which a relu2 * up epilogue's weight comes
// (interleave_gate_up_rows) for the GEMM the configuration runs: 1 on the dense scaled GEMM,
// kSparseGateUpBlock on the sparse one (LinearConfig::gate_up_block).
int64_t native_gate_up_block(const LinearConfig& config);

// The latency `tune` measured for this configuration's GEMM at exactly `rows` (padded): the scaled
// GEMM's tile entry, else the cuBLASLt / cuSPARSELt entry under linear_tuning_key; nullopt when
// none was searched there.
std::optional<double> tuned_gemm_latency_us(const TuningDatabase& db, const LinearConfig& config, int64_t gemm_k,
                                            int64_t rows);

// Whether the dense fallback runs at `rows` (padded): only when both GEMMs were timed there and the
// dense one was strictly faster (a tie keeps cuSPARSELt, the checkpoint's own backend).
std::optional<TunedLatencies> dense_fallback_choice(const TuningDatabase& db, const LinearConfig& sparse,
                                                    const LinearConfig& dense, int64_t rows);
// Whether that choice falls on the dense GEMM at any row count the database searched the sparse
// GEMM at (else a dense fallback would only hold its weight).
bool dense_fallback_ever_runs(const TuningDatabase& db, const LinearConfig& sparse, const LinearConfig& dense);
// Whether it falls on the dense GEMM at every row count the database timed both GEMMs at (at least
// one): the fallback then runs at every row count (DenseFallback::every_row_count). Row counts only
// the sparse GEMM was timed at (databases of older `tune` runs) decide nothing.
bool dense_fallback_always_runs(const TuningDatabase& db, const LinearConfig& sparse, const LinearConfig& dense);

// The K a linear's GEMM runs on: K (dense), or K' rounded up to the sparse GEMM's K tile (2:L; for
// the kernel benchmarks' 2:inf, K' = 2K rounded up to 32 first).
int64_t linear_gemm_k(int64_t k, Sparsity sparsity);

// The tuning database key of a linear's GEMM (gemm_k: K, or K' rounded up to the sparse GEMM's K tile): what
// `tune` records under and prepare() looks up.
GemmKey linear_tuning_key(const LinearConfig& config, int64_t gemm_k);

// Name under which `tune` stores the quantization kernel's launch config: "quantize_int8" (dense),
// "quantize_slide_int8_L8" (2:8).
std::string quant_kernel_name(QuantKind kind, Sparsity sparsity);

// The form of what the linear's GEMM leaves for the next kernel: its output type and the scales
// still to apply, "bf16" (both applied), "bf16+sx", "bf16+sx+sw", "int32+sx+sw". The accumulator-fed
// norms are compiled per form and tuned under it (fused_norm_kernel_name).
std::string accumulator_form(const LinearConfig& c);

}  // namespace slidesparse
