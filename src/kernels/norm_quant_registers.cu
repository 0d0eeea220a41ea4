// Host launcher of the quantizing norms with each row in registers (device code in
// norm_quant_registers.cuh): which rows they take, and one kernel per chunk count.
#include <optional>
#include <string>
#include <utility>

#include "core/error.h"
#include "kernels/norm_quant_registers.cuh"
#include "kernels/shared_memory.h"

namespace slidesparse {

namespace {

using quant_kernels::NormArgs;

template <bool kInt8, int kChunks, typename Rows>
void launch_registers(NormArgs a, const QuantLaunchConfig& config, cudaStream_t stream) {
  a.q.team = config.threads / config.rows_per_block;
  const auto kernel = quant_kernels::register_norm_kernel<kInt8, kChunks, Rows>;
  const size_t smem = quant_kernels::register_norm_shared_bytes<kChunks, Rows>(a.q.k);
  allow_dynamic_shared_memory(reinterpret_cast<const void*>(kernel), smem, quant_kernels::kNormPartialsSharedBytes);
  launch_dependent(kernel, quant_kernels::row_blocks(a.q.rows_padded, config.rows_per_block, "rmsnorm"),
                   static_cast<unsigned>(config.threads), smem, stream, a);
}

template <bool kInt8, typename Rows, int... kChunks>
void launch_chunks(int chunks, const NormArgs& a, const QuantLaunchConfig& config, cudaStream_t stream,
                   std::integer_sequence<int, kChunks...>) {
  const bool launched =
      ((chunks == kChunks + 1 ? (launch_registers<kInt8, kChunks + 1, Rows>(a, config, stream), true) : false) || ...);
  if (!launched) fail("rmsnorm: no register kernel for " + std::to_string(chunks) + " chunks per thread");
}

template <typename Rows>
void launch_rows(QuantKind kind, int chunks, const NormArgs& a, const QuantLaunchConfig& config, cudaStream_t stream) {
  constexpr auto kCounts =
      std::make_integer_sequence<int, quant_kernels::register_norm_max_chunks(Rows::kLoadsPerChunk)>();
  if (kind == QuantKind::Int8)
    launch_chunks<true, Rows>(chunks, a, config, stream, kCounts);
  else
    launch_chunks<false, Rows>(chunks, a, config, stream, kCounts);
}

// Whether the weight scale is one value per part the norm reads: delta, or gate and up, each k wide
// and starting at a multiple of k.
bool weight_scale_per_part(const NormArgs& a) { return a.acc.scale_w_run > 0 && a.acc.scale_w_run % a.q.k == 0; }

// An accumulator-fed source, compiled per form of the accumulator's scales.
template <template <AccScales> typename Rows>
void launch_acc_rows(QuantKind kind, int chunks, const NormArgs& a, const QuantLaunchConfig& config,
                     cudaStream_t stream) {
  switch (acc_scales(a.acc)) {
    case AccScales::None: return launch_rows<Rows<AccScales::None>>(kind, chunks, a, config, stream);
    case AccScales::X: return launch_rows<Rows<AccScales::X>>(kind, chunks, a, config, stream);
    case AccScales::XW:
      if (weight_scale_per_part(a)) return launch_rows<Rows<AccScales::XWPart>>(kind, chunks, a, config, stream);
      return launch_rows<Rows<AccScales::XW>>(kind, chunks, a, config, stream);
    case AccScales::XWPart: fail("rmsnorm: XWPart is chosen from XW and the view's scale_w_run");
  }
}

int loads_per_chunk(FusedNormKernel norm) {
  switch (norm) {
    case FusedNormKernel::Tensor: return quant_kernels::TensorRows::kLoadsPerChunk;
    case FusedNormKernel::Residual: return quant_kernels::AccResidualRows<AccScales::None>::kLoadsPerChunk;
    case FusedNormKernel::Relu2Mul: return quant_kernels::Relu2MulRows<AccScales::None>::kLoadsPerChunk;
  }
  return 0;
}

}  // namespace

int register_norm_chunks(FusedNormKernel norm, const NormRowsLayout& rows, const QuantLaunchConfig& config) {
  // The accumulator-fed sources take bf16 accumulators only (4-byte ones would not leave the
  // registers for the row); the tensor norm with a residual, which the engine does not run, stays
  // on the shared-memory kernel.
  const bool source = norm == FusedNormKernel::Tensor ? !rows.with_residual
                                                      : rows.accumulator == AccumulatorType::BFloat16;
  if (!source || !rows.vector_rows || (rows.slide_group != 0 && rows.slide_group != 4) || rows.k < 1 ||
      config.threads < 1 || config.rows_per_block < 1)
    return 0;
  const int64_t team = config.threads / config.rows_per_block, chunks = (rows.k / 8 + team - 1) / team;
  const int loads = loads_per_chunk(norm);
  if (chunks > quant_kernels::register_norm_max_chunks(loads) ||
      config.threads > quant_kernels::register_norm_max_threads(static_cast<int>(chunks), loads))
    return 0;
  return static_cast<int>(chunks);
}

bool launch_norm_in_registers(FusedNormKernel norm, QuantKind kind, const SlideGeometry* slide, const NormArgs& a,
                              const QuantLaunchConfig& config, cudaStream_t stream) {
  const bool tensor = norm == FusedNormKernel::Tensor;
  const NormRowsLayout rows{a.q.k, slide ? slide->group : 0, tensor ? a.q.vector_loads : a.acc_vector_loads,
                            a.residual_in != nullptr,
                            tensor ? std::nullopt : std::optional<AccumulatorType>(a.acc.type)};
  const int chunks = register_norm_chunks(norm, rows, config);
  if (chunks == 0) return false;
  switch (norm) {
    case FusedNormKernel::Tensor: launch_rows<quant_kernels::TensorRows>(kind, chunks, a, config, stream); break;
    case FusedNormKernel::Residual:
      launch_acc_rows<quant_kernels::AccResidualRows>(kind, chunks, a, config, stream);
      break;
    case FusedNormKernel::Relu2Mul:
      launch_acc_rows<quant_kernels::Relu2MulRows>(kind, chunks, a, config, stream);
      break;
  }
  return true;
}

}  // namespace slidesparse
