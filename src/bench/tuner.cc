#include "bench/tuner.h"

#include <algorithm>
#include <cstdio>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "bench/attention_prefill_bench.h"
#include "bench/isolated_gemm_search.h"
#include "bench/kernel_bench.h"
#include "bench/norm_bench.h"
#include "bench/quant_bench.h"
#include "bench/scaled_gemm_search.h"
#include "core/error.h"
#include "core/interrupt.h"
#include "core/progress.h"
#include "gemm/hardware_tag.h"
#include "gemm/w8a8_linear.h"
#include "gpu/cuda_check.h"
#include "gpu/device_info.h"
#include "kernels/attention_prefill_tuning.h"
#include "runtime/model_runner.h"

namespace slidesparse {

namespace {

std::vector<int64_t> sorted_union(std::vector<int64_t> a, const std::vector<int64_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  std::sort(a.begin(), a.end());
  a.erase(std::unique(a.begin(), a.end()), a.end());
  return a;
}

}  // namespace

std::vector<int64_t> engine_step_ms(const TuneOptions& o) { return sorted_union(o.coarse_ms, o.decode_ms); }

std::vector<int64_t> sparse_search_ms(const TuneOptions& o) { return sorted_union(o.fine_ms, o.decode_ms); }

std::vector<int64_t> dense_gemm_search_ms(const TuneOptions& o) {
  return o.sparse && !o.sparsities.empty() ? sorted_union(engine_step_ms(o), sparse_search_ms(o)) : engine_step_ms(o);
}

void run_tune(const TuneOptions& o) {
  const HardwareTag tag = current_hardware_tag();
  TuningDatabase db = TuningDatabase::load(o.db_path, tag);
  const bool fp8_ok = query_device().supports_fp8();

  cudaStream_t stream;
  CUDA_CHECK(cudaStreamCreate(&stream));
  struct Job {
    QuantKind kind;
    LayerShape shape;
    Sparsity sparsity;  // dense: cuBLASLt; 2:L: cuSPARSELt
  };
  std::vector<Job> jobs;
  for (QuantKind kind : o.kinds) {
    if (kind == QuantKind::Fp8E4M3 && !fp8_ok) {
      std::fprintf(stderr, "slidesparse: FP8 tuning skipped: needs compute capability 8.9 or newer\n");
      continue;
    }
    for (const auto& shape : bitnet_layer_shapes()) {
      if (o.dense) jobs.push_back({kind, shape, Sparsity::dense()});
      if (o.sparse)
        for (const Sparsity s : o.sparsities) jobs.push_back({kind, shape, s});
    }
  }
  const std::vector<int64_t> dense_ms = engine_step_ms(o), sparse_ms = sparse_search_ms(o),
                             dense_gemm_ms = dense_gemm_search_ms(o);
  int64_t max_m = 0;
  for (int64_t m : dense_gemm_ms) max_m = std::max(max_m, m);
  for (int64_t m : sparse_ms) max_m = std::max(max_m, m);
  long steps = 0;
  for (const auto& j : jobs) steps += long(j.sparsity.is_dense() ? dense_gemm_ms.size() : sparse_ms.size());
  ProgressBar progress("tune gemm", steps);
  int rejected = 0;
  for (const auto& j : jobs) {
    throw_if_interrupted();  // between shapes: the finished ones are already saved
    // cuBLASLt's and cuSPARSELt's plans as the engine uses them where the INT8 scaled GEMMs (searched
    // below) do not run: FP8 (in the accumulation mode asked for), --cublaslt-dense,
    // --exact-scales (INT8 int32), GPUs without them (the sparse one only with --cutlass-sparse).
    LinearConfig c =
        default_linear_config(j.kind, j.shape.n, j.shape.k, j.sparsity, max_m,
                              {.fp8_fast_accum = o.fp8_fast_accum, .scaled_gemm = false, .sparse_scaled_gemm = false});
    const int64_t gemm_k = linear_gemm_k(j.shape.k, j.sparsity);
    const GemmKey key = linear_tuning_key(c, gemm_k);
    GemmSearchJob job;
    job.backend = c.backend();
    job.shape = {j.kind, c.output, c.scales, j.shape.n, gemm_k, c.fast_accum};
    job.max_m = max_m;
    job.ms = j.sparsity.is_dense() ? dense_gemm_ms : sparse_ms;
    job.protocol = o.protocol;
    search_gemm_isolated(job, [&](const GemmSearchOutcome& r) {
      db.record_gemm(key, r.m, r.best, r.rejected);
      rejected += static_cast<int>(r.rejected.size());
      progress.step(key.str() + " M=" + std::to_string(r.m));
    });
    db.save(o.db_path);  // a finished shape survives an interruption
  }
  progress.finish();
  const bool int8 = std::find(o.kinds.begin(), o.kinds.end(), QuantKind::Int8) != o.kinds.end();
  if (o.dense && int8 && scaled_gemm_available()) {
    // The INT8 scaled GEMM's tile per row count, timed with the epilogue the engine runs on the shape
    // (the recorded latency is that form's, which a 2:L linear's dense fallback also runs).
    const auto shapes = bitnet_layer_shapes();
    ProgressBar scaled_progress("tune scaled gemm", long(shapes.size() * dense_gemm_ms.size()));
    for (const auto& shape : shapes) {
      for (int64_t m : dense_gemm_ms) {
        throw_if_interrupted();
        const int64_t rows = padded_rows(m);
        const ScaledGemmTileChoice best =
            fastest_scaled_gemm_tile(shape.n, shape.k, rows, o.protocol.screen_warmup, o.protocol.screen_repeat, stream,
                                     bitnet_engine_epilogue(shape.name));
        // The latency lets a 2:L linear compare this GEMM with its sparse GEMM at the same rows.
        db.record_kernel(scaled_gemm_kernel_name(shape.n), shape.k, rows,
                         {{"tile", std::string(scaled_gemm_tile_name(best.tile))}, {"latency_us", best.latency_us}});
        scaled_progress.step(scaled_gemm_kernel_name(shape.n) + " M=" + std::to_string(rows));
      }
    }
    scaled_progress.finish();
    db.save(o.db_path);
  }
  if (o.sparse && o.sparse_scaled_gemm && int8 && sparse_scaled_gemm_available()) {
    // The sparse scaled GEMM's tile and order per row count and slide, timed with the engine's
    // epilogue on the shape; the latency also decides a 2:L linear's dense fallback (the dense
    // scaled GEMM in the dense model's form).
    const auto shapes = bitnet_layer_shapes();
    ProgressBar sparse_progress("tune sparse scaled gemm",
                                long(shapes.size() * o.sparsities.size() * sparse_ms.size()));
    for (const Sparsity s : o.sparsities) {
      for (const auto& shape : shapes) {
        const int64_t gemm_k = linear_gemm_k(shape.k, s);
        const std::string name = sparse_scaled_gemm_kernel_name(shape.n);
        for (int64_t m : sparse_ms) {
          throw_if_interrupted();
          const int64_t rows = padded_rows(m);
          if (sparse_scaled_gemm_takes(shape.n, gemm_k)) {
            const SparseScaledGemmChoice best = fastest_sparse_scaled_gemm_schedule(
                shape.n, gemm_k, rows, o.protocol.screen_warmup, o.protocol.screen_repeat, stream,
                bitnet_engine_epilogue(shape.name));
            db.record_kernel(name, gemm_k, rows,
                             {{"tile", std::string(sparse_scaled_gemm_tile_name(best.schedule.tile))},
                              {"raster", std::string(sparse_tile_raster_name(best.schedule.raster))},
                              {"swizzle", best.schedule.swizzle},
                              {"latency_us", best.latency_us}});
          }
          sparse_progress.step(name + " K'=" + std::to_string(gemm_k) + " M=" + std::to_string(rows));
        }
      }
      db.save(o.db_path);
    }
    sparse_progress.finish();
  }
  if (rejected > 0)
    std::printf("tune: %d GEMM candidates dropped (refused, failed, wrong or crashed; listed per M in %s)\n", rejected,
                o.db_path.c_str());

  if (o.kernels) {
    std::vector<std::pair<QuantKind, Sparsity>> kernels;
    for (QuantKind kind : o.kinds) {
      if (kind == QuantKind::Fp8E4M3 && !fp8_ok) continue;
      if (o.dense) kernels.push_back({kind, Sparsity::dense()});
      if (o.sparse)
        for (const Sparsity s : o.sparsities) kernels.push_back({kind, s});
    }
    long kernel_steps = 0;
    for (const auto& [kind, sparsity] : kernels)
      kernel_steps += long(2 * (sparsity.is_dense() ? o.coarse_ms.size() : sparse_ms.size()));
    ProgressBar kernel_progress("tune kernels", kernel_steps);
    for (const auto& [kind, sparsity] : kernels)
      for (int64_t k : {int64_t{2560}, int64_t{6912}})
        for (int64_t m : sparsity.is_dense() ? o.coarse_ms : sparse_ms) {
          throw_if_interrupted();
          const QuantLaunchConfig best = best_quant_config(kind, sparsity, m, k, o.protocol.screen_warmup,
                                                           o.protocol.repeat, stream);
          const std::string name = quant_kernel_name(kind, sparsity);
          db.record_kernel(name, k, m, {{"threads", best.threads}, {"rows_per_block", best.rows_per_block}});
          kernel_progress.step(name + " K=" + std::to_string(k) + " M=" + std::to_string(m));
        }
    kernel_progress.finish();
    db.save(o.db_path);

    // The engine's fused norms at the coarse and decode Ms (they feed every linear layer; their
    // launch shape is worth as much as the plain quantizer's, and a different one: more bytes per row).
    // Each norm at the widths it runs on; the tensor norm also feeds down_proj where gate_up's
    // epilogue computes relu2*up (INT8 dense on the scaled GEMM).
    // A kernel that two patterns share (dense and 2:4 run the same norms, the accumulator-fed ones
    // where their GEMMs leave the same form) is tuned once.
    std::vector<std::tuple<QuantKind, Sparsity, FusedNormKernel, int64_t, std::string>> norm_shapes;
    std::set<std::pair<std::string, int64_t>> named;
    auto add_norm = [&](QuantKind kind, Sparsity sparsity, FusedNormKernel norm, int64_t k) {
      std::string name = fused_norm_tuning_name(norm, kind, sparsity);
      if (named.emplace(name, k).second) norm_shapes.emplace_back(kind, sparsity, norm, k, std::move(name));
    };
    for (const auto& [kind, sparsity] : kernels) {
      add_norm(kind, sparsity, FusedNormKernel::Tensor, 2560);
      add_norm(kind, sparsity, FusedNormKernel::Residual, 2560);
      add_norm(kind, sparsity, FusedNormKernel::Relu2Mul, 6912);
      if (kind == QuantKind::Int8 && sparsity.is_dense()) add_norm(kind, sparsity, FusedNormKernel::Tensor, 6912);
    }
    ProgressBar norm_progress("tune fused norms", long(norm_shapes.size() * dense_ms.size()));
    for (const auto& [kind, sparsity, norm, k, name] : norm_shapes)
      for (int64_t m : dense_ms) {
        throw_if_interrupted();
        const QuantLaunchConfig best = best_fused_norm_config(norm, kind, sparsity, m, k, o.protocol.screen_warmup,
                                                              2 * o.protocol.screen_repeat, stream);
        db.record_kernel(name, k, m, {{"threads", best.threads}, {"rows_per_block", best.rows_per_block}});
        norm_progress.step(name + " K=" + std::to_string(k) + " M=" + std::to_string(m));
      }
    norm_progress.finish();
    db.save(o.db_path);

    // Prefill attention (dtype-independent, so with the dense pass): the fastest kernel variant per
    // step size at the benchmark protocol's shapes (one prompt up to 1024 tokens, else 1024-token
    // prompts), in the engine's KV-cache layout.
    if (o.dense) {
      ProgressBar attention_progress("tune attention", long(o.coarse_ms.size()));
      for (int64_t m : o.coarse_ms) {
        throw_if_interrupted();
        const int len = static_cast<int>(std::min<int64_t>(m, 1024)), seqs = static_cast<int>(std::max<int64_t>(1, m / 1024));
        const AttentionPrefillChoice best = fastest_attention_prefill(
            seqs, len, RunnerOptions{}.block_size, o.protocol.screen_warmup, o.protocol.screen_repeat,
            /*with_cudnn=*/RunnerOptions{}.cudnn_attention, stream);
        db.record_kernel(kAttentionPrefillKernelName, kBitnetAttentionHeadDim, m,
                         attention_prefill_config_json(best.kernel, best.cudnn));
        attention_progress.step("attention M=" + std::to_string(m));
      }
      attention_progress.finish();
      db.save(o.db_path);
    }
  }
  cudaStreamDestroy(stream);
  std::printf("tune: database %s (%s)\n", o.db_path.c_str(), tag.describe().c_str());
}

}  // namespace slidesparse
