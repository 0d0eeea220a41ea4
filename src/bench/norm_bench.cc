#include "bench/norm_bench.h"

#include <algorithm>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include "bench/gpu_timer.h"
#include "bench/kernel_bench.h"
#include "bench/random_fill.h"
#include "core/error.h"
#include "gemm/gemm_types.h"
#include "gemm/w8a8_linear.h"
#include "gpu/cuda_check.h"
#include "gpu/device_buffer.h"
#include "kernels/norm_quant.h"

namespace slidesparse {

namespace {

// As in quant_bench.cc: the rotation defeats the 50 MB L2 of H100 / H200.
constexpr size_t kRotationBytes = size_t{256} << 20;
constexpr int kMaxSets = 4096;
constexpr float kEps = 1e-5f;

struct NormOperands {
  Sparsity sparsity;
  int64_t m, k, rows, out_cols;
  int sets;
  SlideGeometry geometry;
  DeviceBuffer x, residual, weight, out, scale;

  int64_t activation_bytes() const { return m * k * 2; }
  // with_residual: x and the residual read, the residual written; without, x read.
  double bytes_moved(bool with_residual) const {
    return double((with_residual ? 3 : 1) * activation_bytes() + rows * out_cols + rows * 4);
  }
};

NormOperands make_operands(Sparsity sparsity, int64_t m, int64_t k, cudaStream_t stream) {
  NormOperands o{sparsity, m, k, padded_rows(m), 0, 1, make_slide_geometry(k, sparsity.slide_group()), {}, {}, {}, {}, {}};
  o.out_cols = sparsity.is_dense() ? (k + 31) / 32 * 32 : sparse_gemm_k(o.geometry.k_slid);
  const size_t set_bytes = static_cast<size_t>(3 * o.activation_bytes() + o.rows * o.out_cols + o.rows * 4);
  o.sets = static_cast<int>(std::clamp<size_t>((kRotationBytes + set_bytes - 1) / set_bytes, 1, kMaxSets));
  o.x = DeviceBuffer(static_cast<size_t>(o.sets * o.activation_bytes()), "norm benchmark input");
  // residual_out is written in place over residual_in, as the engine does.
  o.residual = DeviceBuffer(static_cast<size_t>(o.sets * o.activation_bytes()), "norm benchmark residual");
  o.weight = DeviceBuffer(static_cast<size_t>(k * 2), "norm benchmark weight");
  o.out = DeviceBuffer(static_cast<size_t>(o.sets) * o.rows * o.out_cols, "norm benchmark codes");
  o.scale = DeviceBuffer(static_cast<size_t>(o.sets) * o.rows * 4, "norm benchmark scales");
  fill_random_bf16_gpu(o.x.data(), o.sets * m * k, 99, stream);
  fill_random_bf16_gpu(o.residual.data(), o.sets * m * k, 98, stream);
  fill_random_bf16_gpu(o.weight.data(), k, 97, stream);
  return o;
}

// with_residual: the residual is added and written back (the bytes bench_rmsnorm_quantize counts);
// without, x alone is normalized (the engine's attn_sub_norm).
// in_graph: the launches replayed from a CUDA graph (time_graph_us), as the engine's decode steps
// run them; at decode row counts these kernels are shorter than an eager launch.
double time_norm(QuantKind kind, NormOperands& o, const QuantLaunchConfig& config, int warmup, int repeat,
                 cudaStream_t stream, bool with_residual = true, bool in_graph = false) {
  int set = 0;
  return (in_graph ? time_graph_us : time_launches_us)(
      [&] {
        const int64_t offset = int64_t{set} * o.m * o.k;
        auto* residual = with_residual ? o.residual.as<__nv_bfloat16>() + offset : nullptr;
        const QuantizedRows out{kind, o.sparsity.is_dense() ? nullptr : &o.geometry, o.rows, o.out_cols,
                                o.out.as<uint8_t>() + int64_t{set} * o.rows * o.out_cols,
                                o.scale.as<float>() + int64_t{set} * o.rows};
        rmsnorm_quantize_gpu({o.x.as<__nv_bfloat16>() + offset, residual, residual}, {o.m, o.k},
                             {o.weight.as<__nv_bfloat16>(), kEps}, out, stream, config);
        set = (set + 1) % o.sets;
      },
      warmup, repeat, stream);
}


// ---- accumulator-fed norms ---------------------------------------------------------------------

enum class FusedNorm { Residual, Relu2Mul, Rows };

// The AccView form of a linear layer's output.
struct AccForm {
  AccumulatorType type;
  bool scale_x, scale_w;
  std::string name;          // "int32+sx+sw", "bf16+sx", "bf16": accumulator_form(), the tuning entries' form
  bool scale_w_per_part;     // one weight scale per part (gate, up) rather than per column

  std::string label() const { return scale_w && scale_w_per_part ? name + "/part" : name; }
};

// The form the engine's linears of this type and backend write on this GPU (their default
// configuration, FP8 with the engine's fast accumulation), with the engine's checkpoints' weight
// scales: one per tensor, so one per part of a fused linear.
AccForm engine_form(QuantKind kind, Sparsity sparsity) {
  const LinearConfig c = default_linear_config(kind, 2560, 2560, sparsity, 4096, {.fp8_fast_accum = true});
  return {accumulator_type(c.output), c.scales != ScaleMode::BothInGemm, c.scales == ScaleMode::Epilogue,
          accumulator_form(c), true};
}

int64_t element_bytes(AccumulatorType type) { return type == AccumulatorType::BFloat16 ? 2 : 4; }

// k is the norm's width (hidden or intermediate); the accumulator has ld = k, or 2k for gate_up.
struct FusedOperands {
  FusedNorm norm;
  AccForm form;
  Sparsity sparsity;
  int64_t m, k, ld, rows, out_cols;
  int sets;
  SlideGeometry geometry;
  DeviceBuffer acc, scale_x, scale_w, residual, weight, codes, scales, out, row_index;

  double bytes_moved() const {
    const double acc_read = double(m * ld * element_bytes(form.type) + (form.scale_x ? m * 4 : 0));
    switch (norm) {
      case FusedNorm::Residual: return acc_read + double(4 * m * k + rows * (out_cols + 4));
      case FusedNorm::Relu2Mul: return acc_read + double(rows * (out_cols + 4));
      case FusedNorm::Rows: return acc_read + double(m * 4 + 4 * m * k);
    }
    return 0;
  }
};

FusedOperands make_fused_operands(FusedNorm norm, AccForm form, Sparsity sparsity, int64_t m, int64_t k,
                                  cudaStream_t stream) {
  const bool quantizes = norm != FusedNorm::Rows;
  FusedOperands o{norm, form, sparsity, m, k, norm == FusedNorm::Relu2Mul ? 2 * k : k, padded_rows(m), 0, 1,
                  make_slide_geometry(k, sparsity.slide_group()), {}, {}, {}, {}, {}, {}, {}, {}, {}};
  o.out_cols = sparsity.is_dense() ? (k + 31) / 32 * 32 : sparse_gemm_k(o.geometry.k_slid);
  o.sets = static_cast<int>(std::clamp<size_t>(
      static_cast<size_t>((double(kRotationBytes) + o.bytes_moved() - 1) / o.bytes_moved()), 1, kMaxSets));
  const size_t sets = static_cast<size_t>(o.sets);
  const size_t acc_bytes = sets * static_cast<size_t>(m * o.ld * element_bytes(form.type));
  o.acc = DeviceBuffer(acc_bytes, "fused norm benchmark accumulator");
  o.scale_x = DeviceBuffer(sets * m * 4, "fused norm benchmark scale_x");
  o.scale_w = DeviceBuffer(static_cast<size_t>(o.ld * 4), "fused norm benchmark scale_w");
  o.weight = DeviceBuffer(static_cast<size_t>(k * 2), "fused norm benchmark weight");
  if (norm != FusedNorm::Relu2Mul)
    o.residual = DeviceBuffer(sets * static_cast<size_t>(m * k * 2), "fused norm benchmark residual");
  if (quantizes) {
    o.codes = DeviceBuffer(sets * static_cast<size_t>(o.rows * o.out_cols), "fused norm benchmark codes");
    o.scales = DeviceBuffer(sets * static_cast<size_t>(o.rows * 4), "fused norm benchmark scales");
  } else {
    o.out = DeviceBuffer(sets * static_cast<size_t>(m * k * 2), "fused norm benchmark output");
    // Gathered rows in reverse order: every row once, none adjacent to its neighbour's read.
    std::vector<int32_t> index(static_cast<size_t>(m));
    std::iota(index.rbegin(), index.rend(), 0);
    o.row_index = DeviceBuffer(index.size() * 4, "fused norm benchmark row index");
    CUDA_CHECK(cudaMemcpy(o.row_index.data(), index.data(), index.size() * 4, cudaMemcpyHostToDevice));
  }
  // int32 accumulators are random nonzero 32-bit words (the int8 code filler, 4 codes per word):
  // their values do not change the kernel's work.
  if (form.type == AccumulatorType::BFloat16)
    fill_random_bf16_gpu(o.acc.data(), static_cast<int64_t>(acc_bytes / 2), 96, stream);
  else
    fill_random_codes_gpu(QuantKind::Int8, o.acc.as<uint8_t>(), static_cast<int64_t>(sets) * m, o.ld * 4, false, 96,
                          stream);
  fill_random_f32_gpu(o.scale_x.as<float>(), static_cast<int64_t>(sets) * m, 1e-7f, 1e-6f, 95, stream);
  if (form.scale_w_per_part) {  // part j, columns [j k, (j + 1) k), has one scale of the same range
    std::vector<float> scale_w(static_cast<size_t>(o.ld));
    for (int64_t c = 0; c < o.ld; ++c) scale_w[static_cast<size_t>(c)] = 1e-3f * float(2 + c / k);
    CUDA_CHECK(cudaMemcpy(o.scale_w.data(), scale_w.data(), scale_w.size() * 4, cudaMemcpyHostToDevice));
  } else {
    fill_random_f32_gpu(o.scale_w.as<float>(), o.ld, 1e-3f, 1e-2f, 94, stream);
  }
  fill_random_bf16_gpu(o.weight.data(), k, 97, stream);
  if (norm != FusedNorm::Relu2Mul)
    fill_random_bf16_gpu(o.residual.data(), static_cast<int64_t>(sets) * m * k, 98, stream);
  return o;
}

void launch_fused(QuantKind kind, FusedOperands& o, int set, const QuantLaunchConfig& config, cudaStream_t stream) {
  const int64_t s = set;
  const AccView view{o.form.type, o.acc.as<char>() + s * o.m * o.ld * element_bytes(o.form.type), o.ld,
                     o.form.scale_x ? o.scale_x.as<float>() + s * o.m : nullptr,
                     o.form.scale_w ? o.scale_w.as<float>() : nullptr, o.form.scale_w_per_part ? o.k : 0};
  auto* residual = o.residual.as<__nv_bfloat16>() + s * o.m * o.k;
  const auto* weight = o.weight.as<__nv_bfloat16>();
  const QuantizedRows out{kind, o.sparsity.is_dense() ? nullptr : &o.geometry, o.rows, o.out_cols,
                          o.codes.as<uint8_t>() + s * o.rows * o.out_cols, o.scales.as<float>() + s * o.rows};
  switch (o.norm) {
    case FusedNorm::Residual:
      return residual_rmsnorm_quantize_gpu(view, residual, {o.m, o.k}, {weight, kEps}, out, stream, config);
    case FusedNorm::Relu2Mul:
      return relu2_mul_rmsnorm_quantize_gpu(view, {o.m, o.k}, {weight, kEps}, out, stream, config);
    case FusedNorm::Rows:
      return residual_rmsnorm_rows_gpu(view, residual, o.row_index.as<int32_t>(), {o.m, o.k}, {weight, kEps},
                                       o.out.as<__nv_bfloat16>() + s * o.m * o.k, stream);
  }
}

double time_fused(QuantKind kind, FusedOperands& o, const QuantLaunchConfig& config, int warmup, int repeat,
                  cudaStream_t stream, bool in_graph = false) {
  int set = 0;
  return (in_graph ? time_graph_us : time_launches_us)(
      [&] {
        launch_fused(kind, o, set, config, stream);
        set = (set + 1) % o.sets;
      },
      warmup, repeat, stream);
}

// The launch shape a row was timed with and the kernel it ran: "128x1 registers:7" (each row in
// registers, 7 chunks per thread) or "128x4 shared" (staged in shared memory). The benchmark's
// buffers are 16-byte aligned with 16-byte rows.
std::string launch_label(FusedNormKernel norm, Sparsity sparsity, const SlideGeometry& geometry, int64_t k,
                         bool with_residual, std::optional<AccumulatorType> accumulator, const QuantLaunchConfig& c) {
  const NormRowsLayout rows{k, sparsity.is_dense() ? 0 : geometry.group, k % 8 == 0, with_residual, accumulator};
  const int chunks = register_norm_chunks(norm, rows, c);
  return quant_launch_name(c) + (chunks ? " registers:" + std::to_string(chunks) : std::string(" shared"));
}

int64_t layer_k(const char* name) {
  for (const LayerShape& s : bitnet_layer_shapes())
    if (s.name == name) return s.k;
  fail(std::string("norm benchmark: no BitNet layer named ") + name);
}

}  // namespace

std::string fused_norm_tuning_name(FusedNormKernel norm, QuantKind kind, Sparsity sparsity) {
  if (norm == FusedNormKernel::Tensor) return fused_norm_kernel_name(norm, kind, sparsity);
  return fused_norm_kernel_name(norm, kind, sparsity, engine_form(kind, sparsity).name);
}

QuantLaunchConfig best_fused_norm_config(FusedNormKernel norm, QuantKind kind, Sparsity sparsity, int64_t m, int64_t k,
                                         int warmup, int repeat, cudaStream_t stream) {
  if (norm == FusedNormKernel::Tensor) {
    NormOperands o = make_operands(sparsity, m, k, stream);
    return fastest_launch_config(
        [&](const QuantLaunchConfig& c) { return time_norm(kind, o, c, warmup, repeat, stream, false, true); });
  }
  const bool relu2 = norm == FusedNormKernel::Relu2Mul;
  FusedOperands o = make_fused_operands(relu2 ? FusedNorm::Relu2Mul : FusedNorm::Residual,
                                        engine_form(kind, sparsity), sparsity, m, k, stream);
  return fastest_launch_config(
      [&](const QuantLaunchConfig& c) { return time_fused(kind, o, c, warmup, repeat, stream, true); });
}

std::vector<BandwidthRow> bench_rmsnorm_quantize(QuantKind kind, const std::vector<int64_t>& ms,
                                                 const std::vector<int64_t>& ks, const std::vector<Sparsity>& sparsities,
                                                 double copy_gbps, int warmup, int repeat, cudaStream_t stream) {
  std::vector<BandwidthRow> rows;
  for (int64_t k : ks)
    for (const Sparsity sparsity : sparsities)
      for (int64_t m : ms) {
        NormOperands o = make_operands(sparsity, m, k, stream);
        for (bool with_residual : {true, false}) {
          const QuantLaunchConfig best = fastest_launch_config([&](const QuantLaunchConfig& c) {
            return time_norm(kind, o, c, std::min(warmup, 5), std::clamp(repeat / 5, 1, 20), stream, with_residual);
          });
          const double us = time_norm(kind, o, best, warmup, repeat, stream, with_residual);
          const double gbps = o.bytes_moved(with_residual) / us / 1e3;
          rows.push_back({std::string(quant_kind_name(kind)) + (with_residual ? "+norm" : "+tensor_norm"), sparsity, m,
                          k, us, gbps, gbps / copy_gbps,
                          launch_label(FusedNormKernel::Tensor, sparsity, o.geometry, k, with_residual, std::nullopt,
                                       best)});
        }
      }
  return rows;
}

std::vector<BandwidthRow> bench_fused_norms(QuantKind kind, const std::vector<int64_t>& ms,
                                            const std::vector<Sparsity>& sparsities, double copy_gbps, int warmup,
                                            int repeat, cudaStream_t stream) {
  const int64_t hidden = layer_k("o"), inter = layer_k("down");  // o_proj's input: hidden; down_proj's: inter
  const std::string prefix = std::string(quant_kind_name(kind)) + "+";
  std::vector<BandwidthRow> rows;
  const auto add = [&](FusedNorm norm, const std::string& name, AccForm form, Sparsity sparsity, int64_t m,
                       int64_t k) {
    FusedOperands o = make_fused_operands(norm, form, sparsity, m, k, stream);
    // The final-norm kernel has a fixed launch shape; the quantizing ones screen the candidates.
    const auto screen = [&](const QuantLaunchConfig& c) {
      return time_fused(kind, o, c, std::min(warmup, 5), std::clamp(repeat / 5, 1, 20), stream);
    };
    const QuantLaunchConfig best = norm == FusedNorm::Rows ? QuantLaunchConfig{} : fastest_launch_config(screen);
    const double us = time_fused(kind, o, best, warmup, repeat, stream);
    const double gbps = o.bytes_moved() / us / 1e3;
    const std::string launch =
        norm == FusedNorm::Rows ? std::string()
                                : launch_label(norm == FusedNorm::Relu2Mul ? FusedNormKernel::Relu2Mul
                                                                           : FusedNormKernel::Residual,
                                               sparsity, o.geometry, k, false, form.type, best);
    rows.push_back({name + "[" + form.label() + "]", sparsity, m, k, us, gbps, gbps / copy_gbps, launch});
  };
  for (const Sparsity sparsity : sparsities)
    for (int64_t m : ms) {
      const AccForm form = engine_form(kind, sparsity);
      add(FusedNorm::Residual, prefix + "residual_norm", form, sparsity, m, hidden);
      add(FusedNorm::Relu2Mul, prefix + "relu2_norm", form, sparsity, m, inter);
      if (form.scale_w) {  // and with a weight scale per column, as a general W8A8 checkpoint may have them
        AccForm per_column = form;
        per_column.scale_w_per_part = false;
        add(FusedNorm::Residual, prefix + "residual_norm", per_column, sparsity, m, hidden);
        add(FusedNorm::Relu2Mul, prefix + "relu2_norm", per_column, sparsity, m, inter);
      }
    }
  // The final norm does not quantize (its rows have no slide): one row per accumulator form the
  // kind's layers leave, dense and sparse.
  for (const Sparsity weights : {Sparsity::dense(), Sparsity::two_of(4)})
    for (int64_t m : ms)
      add(FusedNorm::Rows, "residual_norm_rows", engine_form(kind, weights), Sparsity::dense(), m, hidden);
  return rows;
}

}  // namespace slidesparse
