// Host launcher of the quantizing norms with each row in registers (device code in
// norm_quant_registers.cuh): which rows they take, and one kernel per chunk count.
#include <string>
#include <utility>

#include "core/error.h"
#include "kernels/norm_quant_registers.cuh"

namespace slidesparse {

namespace {

using quant_kernels::NormArgs;

template <bool kInt8, int kChunks, typename Rows>
void launch_registers(NormArgs a, const QuantLaunchConfig& config, cudaStream_t stream) {
  a.q.team = config.threads / config.rows_per_block;
  launch_dependent(quant_kernels::register_norm_kernel<kInt8, kChunks, Rows>,
                   quant_kernels::row_blocks(a.q.rows_padded, config.rows_per_block),
                   static_cast<unsigned>(config.threads), 0, stream, a);
}

template <bool kInt8, typename Rows, int... kChunks>
void launch_chunks(int chunks, const NormArgs& a, const QuantLaunchConfig& config, cudaStream_t stream,
                   std::integer_sequence<int, kChunks...>) {
  const bool launched =
      ((chunks == kChunks + 1 ? (launch_registers<kInt8, kChunks + 1, Rows>(a, config, stream), true) : false) || ...);
  if (!launched) fail("rmsnorm: no register kernel for " + std::to_string(chunks) + " chunks per thread");
}

// false where the team's chunk count has no kernel compiled for blocks of config.threads.
template <typename Rows>
bool launch_rows(QuantKind kind, int chunks, const NormArgs& a, const QuantLaunchConfig& config, cudaStream_t stream) {
  if (chunks > quant_kernels::kMaxRegisterChunks ||
      config.threads > quant_kernels::register_norm_max_threads(chunks, Rows::kLoadsPerChunk))
    return false;
  constexpr auto kCounts = std::make_integer_sequence<int, quant_kernels::kMaxRegisterChunks>();
  if (kind == QuantKind::Int8)
    launch_chunks<true, Rows>(chunks, a, config, stream, kCounts);
  else
    launch_chunks<false, Rows>(chunks, a, config, stream, kCounts);
  return true;
}

// Whether the row source of `norm` can read these rows by 16-byte chunks. The accumulator-fed
// sources take bf16 accumulators only: 4-byte ones would not leave the registers for the row. The
// tensor norm with a residual (which the engine does not run) stays on the shared-memory kernel.
bool rows_fit(FusedNormKernel norm, const NormArgs& a) {
  if (a.row_index) return false;
  if (norm == FusedNormKernel::Tensor) return a.q.vector_loads && !a.residual_in;
  return a.acc_vector_loads && a.acc.type == AccumulatorType::BFloat16 &&
         (norm == FusedNormKernel::Relu2Mul || a.residual_in);
}

}  // namespace

bool launch_norm_in_registers(FusedNormKernel norm, QuantKind kind, const SlideGeometry* slide, const NormArgs& a,
                              const QuantLaunchConfig& config, cudaStream_t stream) {
  if ((slide && slide->group != 4) || !rows_fit(norm, a)) return false;
  const int team = config.threads / config.rows_per_block, chunks = (a.q.k / 8 + team - 1) / team;
  switch (norm) {
    case FusedNormKernel::Tensor: return launch_rows<quant_kernels::TensorRows>(kind, chunks, a, config, stream);
    case FusedNormKernel::Residual: return launch_rows<quant_kernels::AccResidualRows>(kind, chunks, a, config, stream);
    case FusedNormKernel::Relu2Mul: return launch_rows<quant_kernels::Relu2MulRows>(kind, chunks, a, config, stream);
  }
  return false;
}

}  // namespace slidesparse
