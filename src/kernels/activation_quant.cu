// Host launchers of the per-token quantization and the fused quantize + slide. The kernels are in
// quantize_kernels.cuh (design notes there); the dequantization epilogue is in dequantize.cu.
#include "kernels/activation_quant.h"

#include <climits>
#include <cstdint>
#include <string>

#include "core/error.h"
#include "gpu/cuda_check.h"
#include "kernels/quantize_kernels.cuh"
#include "kernels/shared_memory.h"

namespace slidesparse {

namespace {

using quant_kernels::QuantArgs;
using quant_kernels::SuperGroup;

// The kernel's own shared memory, within the 48 KB a block may use without opting in.
constexpr size_t kStaticSharedBytes = 32 * sizeof(float);

void check_config(const QuantLaunchConfig& c) {
  require(c.threads >= 32 && c.threads <= 1024 && c.rows_per_block >= 1 && c.threads % c.rows_per_block == 0 &&
              (c.threads / c.rows_per_block) % 32 == 0,
          "quantize: launch config threads=" + std::to_string(c.threads) +
              " rows_per_block=" + std::to_string(c.rows_per_block) +
              " must give each row a whole number of warps, with at most 1024 threads per block");
}

QuantArgs make_args(const __nv_bfloat16* x, int64_t rows, int64_t k, int64_t rows_padded, int64_t out_cols,
                    uint8_t* out, float* scale) {
  require(rows >= 0 && k >= 1 && rows_padded >= rows && out_cols >= k && out_cols % 16 == 0 && out_cols < INT_MAX,
          "quantize: invalid shape rows=" + std::to_string(rows) + " k=" + std::to_string(k) +
              " rows_padded=" + std::to_string(rows_padded) + " out_cols=" + std::to_string(out_cols) +
              " (need k >= 1, rows_padded >= rows, out_cols >= k and a multiple of 16)");
  require(reinterpret_cast<uintptr_t>(out) % 16 == 0, "quantize: the code buffer must be 16-byte aligned");
  QuantArgs a{};
  a.x = x;
  a.out = out;
  a.scale = scale;
  a.rows = rows;
  a.rows_padded = rows_padded;
  a.k = static_cast<int>(k);
  a.out_cols = static_cast<int>(out_cols);
  a.vector_loads = k % 8 == 0 && reinterpret_cast<uintptr_t>(x) % 16 == 0;
  return a;
}

template <bool kInt8, int kL>
void launch_quantize(QuantArgs a, const QuantLaunchConfig& config, cudaStream_t stream) {
  const auto kernel = quant_kernels::quantize_slide_kernel<kInt8, kL>;
  a.super_groups = (a.k + 4 * kL - 1) / (4 * kL);
  a.row_smem_units = SuperGroup<kL>::smem_units(a.super_groups);
  const size_t row_bytes = static_cast<size_t>(a.row_smem_units) * sizeof(uint4);
  int rows_per_block = config.rows_per_block;
  size_t smem = row_bytes * rows_per_block;
  if (smem + kStaticSharedBytes > kDefaultBlockSharedBytes) {
    const size_t limit = device_shared_memory_optin() - kStaticSharedBytes;
    if (smem > limit) rows_per_block = 1, smem = row_bytes;  // long rows: one row per block
    require(smem <= limit, "quantize: K=" + std::to_string(a.k) + " needs " + std::to_string(smem) +
                               " bytes of shared memory per row; the device allows " + std::to_string(limit));
    allow_dynamic_shared_memory(reinterpret_cast<const void*>(kernel), smem, kStaticSharedBytes);
  }
  a.team = config.threads / rows_per_block;
  launch_dependent(kernel, quant_kernels::row_blocks(a.rows_padded, rows_per_block, "quantize"),
                   static_cast<unsigned>(config.threads), smem, stream, a);
}

template <int kL>
void launch_kind(QuantKind kind, const QuantArgs& a, const QuantLaunchConfig& config, cudaStream_t stream) {
  if (kind == QuantKind::Int8)
    launch_quantize<true, kL>(a, config, stream);
  else
    launch_quantize<false, kL>(a, config, stream);
}

void launch_group(int group, QuantKind kind, const QuantArgs& a, const QuantLaunchConfig& config,
                  cudaStream_t stream) {
  switch (group) {
    case 4: return launch_kind<4>(kind, a, config, stream);
    case 6: return launch_kind<6>(kind, a, config, stream);
    case 8: return launch_kind<8>(kind, a, config, stream);
    case 10: return launch_kind<10>(kind, a, config, stream);
    case 12: return launch_kind<12>(kind, a, config, stream);
    case 14: return launch_kind<14>(kind, a, config, stream);
    case 16: return launch_kind<16>(kind, a, config, stream);
    default: fail("quantize_slide: no kernel for L=" + std::to_string(group) + " (L must be even, 4..16)");
  }
}

}  // namespace

std::vector<QuantLaunchConfig> quant_launch_candidates() {
  // Small blocks keep many rows in flight per SM (short rows); large teams cover long rows.
  return {{64, 1}, {128, 1}, {256, 1}, {512, 1}, {1024, 1}, {128, 2}, {256, 2}, {512, 2}, {128, 4}, {256, 4}};
}

std::string quant_launch_name(const QuantLaunchConfig& config) {
  return std::to_string(config.threads) + "x" + std::to_string(config.rows_per_block);
}

void quantize_rows_gpu(QuantKind kind, const __nv_bfloat16* x, int64_t rows, int64_t k, int64_t rows_padded,
                       int64_t out_cols, uint8_t* out, float* scale, cudaStream_t stream,
                       const QuantLaunchConfig& config) {
  check_config(config);
  const QuantArgs a = make_args(x, rows, k, rows_padded, out_cols, out, scale);
  if (rows_padded == 0) return;
  launch_group(4, kind, a, config, stream);  // L = 4 is the identity map
}

void quantize_slide_rows_gpu(QuantKind kind, const SlideGeometry& geometry, const __nv_bfloat16* x, int64_t rows,
                             int64_t rows_padded, int64_t out_cols, uint8_t* out, float* scale, cudaStream_t stream,
                             const QuantLaunchConfig& config) {
  check_config(config);
  require(out_cols >= geometry.k_slid, "quantize_slide: out_cols=" + std::to_string(out_cols) + " is below K'=" +
                                           std::to_string(geometry.k_slid));
  const QuantArgs a = make_args(x, rows, geometry.k, rows_padded, out_cols, out, scale);
  if (rows_padded == 0) return;
  launch_group(geometry.group, kind, a, config, stream);
}

}  // namespace slidesparse
