// Measures CUTLASS's Hopper structured-sparse INT8 GEMM (both scales in its epilogue, bf16 out:
// tools/sparse_gemm_probe_kernels.cuh) against cuSPARSELt on the same 2:4 ternary weights, for the
// four BitNet-2B linear shapes and a list of row counts. cuSPARSELt runs as the engine runs it (bf16
// out, weight scale in the GEMM) with every algorithm and split-K mode it offers tried, the fastest
// reported; each CUTLASS tile is checked bit for bit against the dense scaled GEMM on the pruned
// weight (expected: no differing output; the tiles with the engine's fused epilogues, relu2 * up
// on gate_up and the residual add on o and down, are timed only) and, at M >= 4096, timed in each
// order of the persistent scheduler (raster along the weight's rows or the tokens, swizzle 1-8).
// Times in us, dense-equivalent TOPS (2*M*N*K / t) next to the dense INT8 peak of the GPU.
//
// Under tools/kernel_trace the fastest cuSPARSELt plan of each point runs once more right after a
// 7-byte memset, so the trace names its kernel (tile and cluster are in the name).
//
//   sparse_gemm_probe [--m-list 512,4096,32768] [--shape gate_up] [--tile NAME] [--no-cusparselt]
#include <cuda_bf16.h>

#include <cstdio>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "bench/device_ceilings.h"
#include "bench/gpu_timer.h"
#include "bench/kernel_bench.h"
#include "bench/random_fill.h"
#include "core/error.h"
#include "gemm/cusparselt_gemm.h"
#include "gemm/scaled_gemm.h"
#include "gpu/cuda_check.h"
#include "gpu/device_buffer.h"
#include "gpu/device_info.h"
#include "tools/probe_support.h"
#include "tools/sparse_gemm_probe_tiles.h"

using namespace slidesparse;

namespace {

struct LtBest {
  double us = std::numeric_limits<double>::infinity();
  int algorithm = 0, split_k = 1;
  std::string plan = "none";
};

// The fastest of every cuSPARSELt configuration for m rows.
LtBest best_cusparselt(CusparseLtGemm& gemm, const DeviceBuffer& x, DeviceBuffer& d,
                                               const DeviceBuffer& scale_w, int64_t m, DeviceBuffer& workspace,
                                               cudaStream_t stream) {
  LtBest best;
  const int count = gemm.algorithm_count(m);
  for (int alg = 0; alg < count; ++alg) {
    for (int split_k : {1, -1}) {
      try {
        gemm.set_algorithm(m, alg, split_k);
        if (gemm.workspace_bytes(m) > workspace.bytes()) continue;
        auto run = [&] {
          gemm.run(x.data(), d.data(), m, scale_w.as<float>(), workspace.data(), workspace.bytes(), stream);
        };
        const double us = time_launches_us(run, 2, 10, stream);
        if (us < best.us) best = {us, alg, split_k, gemm.describe_plan(m)};
      } catch (const Error&) {
        // a configuration this shape does not support: skip it
      }
    }
  }
  return best;
}

std::string order_name(const sparse_probe::TileOrder& o) {
  using R = sparse_probe::TileOrder::Raster;
  const char* raster = o.raster == R::Heuristic ? "auto" : o.raster == R::AlongWeightRows ? "rows" : "tokens";
  return std::string(raster) + "/" + std::to_string(o.swizzle);
}

// The scheduler orders timed at large M: CUTLASS's default first.
std::vector<sparse_probe::TileOrder> tile_orders() {
  using R = sparse_probe::TileOrder::Raster;
  std::vector<sparse_probe::TileOrder> orders{{R::Heuristic, 1}};
  for (R r : {R::AlongWeightRows, R::AlongTokens})
    for (int swizzle : {1, 2, 4, 8}) orders.push_back({r, swizzle});
  return orders;
}

// The command line: row counts, and what to narrow the run to (one shape, one tile, no cuSPARSELt
// search), so that a profiler can take the first launch of one kernel.
struct Options {
  std::vector<int64_t> ms;
  std::string shape, tile;  // empty: every shape, every tile
  bool cusparselt = true;
};

Options parse_options(int argc, char** argv) {
  const char* usage =
      "usage: sparse_gemm_probe [--m-list 512,4096,32768] [--shape qkv|o|gate_up|down] [--tile NAME] "
      "[--no-cusparselt]";
  Options o;
  std::vector<char*> m_list{argv[0]};
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--m-list" && has_value) {
      m_list.push_back(argv[i]), m_list.push_back(argv[i + 1]), ++i;
    } else if (arg == "--shape" && has_value) {
      o.shape = argv[++i];
    } else if (arg == "--tile" && has_value) {
      o.tile = argv[++i];
    } else if (arg == "--no-cusparselt") {
      o.cusparselt = false;
    } else {
      fail(usage);
    }
  }
  o.ms = probe::parse_m_list(static_cast<int>(m_list.size()), m_list.data(), "512,4096,32768", usage);
  if (!o.shape.empty()) {
    bool known = false;
    for (const LayerShape& s : bitnet_layer_shapes()) known = known || s.name == o.shape;
    require(known, "unknown shape '" + o.shape + "' (" + usage + ")");
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) try {
  const Options options = parse_options(argc, argv);
  const std::vector<int64_t>& ms = options.ms;
  std::vector<std::unique_ptr<sparse_probe::SparseTile>> tiles;
  sparse_probe::add_cooperative_tiles(tiles);
  sparse_probe::add_cluster_tiles(tiles);
  sparse_probe::add_shape_tiles(tiles);
  sparse_probe::add_pingpong_tiles(tiles);
  sparse_probe::add_relu2_mul_tiles(tiles);
  sparse_probe::add_residual_tiles(tiles);
  if (!options.tile.empty()) {
    std::erase_if(tiles, [&](const auto& t) { return t->name() != options.tile; });
    require(!tiles.empty(), "no tile named '" + options.tile + "'");
  }
  cudaStream_t stream;
  CUDA_CHECK(cudaStreamCreate(&stream));
  const double peak_tops = device_ceilings(stream).peaks.int8_tops;
  const int sm_count = current_device_sm_count();
  const std::vector<sparse_probe::TileOrder> orders = tile_orders();
  DeviceBuffer workspace(size_t{256} << 20, "workspace"), marker(16, "trace marker");
  std::printf("us, dense-equivalent TOPS of %.0f dense peak; differing outputs against the dense scaled GEMM\n",
              peak_tops);
  for (const LayerShape& s : bitnet_layer_shapes()) {
    if (!options.shape.empty() && s.name != options.shape) continue;
    DeviceBuffer w(size_t(s.n * s.k), "w"), sw(size_t(s.n) * 4, "sw");
    fill_ternary_codes_gpu(QuantKind::Int8, w.as<uint8_t>(), s.n, s.k, true, 2, stream);
    fill_random_f32_gpu(sw.as<float>(), s.n, 0.5f, 2.0f, 4, stream);
    CusparseLtGemm lt(GemmShape{QuantKind::Int8, GemmOutput::BFloat16, ScaleMode::WeightInGemm, s.n, s.k});
    lt.compress(w.data(), stream);
    for (const auto& t : tiles) t->compress(w.data(), s.n, s.k, sm_count, stream);
    ScaledGemm dense(s.n, s.k);
    for (int64_t m : ms) {
      const probe::Activations in(QuantKind::Int8, m, s.k, stream);
      const DeviceBuffer &x = in.x, &sx = in.scale_x;
      DeviceBuffer ref(size_t(m * s.n) * 2, "ref"), out(size_t(m * s.n) * 2, "out");
      const double flops = 2.0 * double(m) * double(s.n) * double(s.k);
      auto run_dense = [&] {
        dense.run(w.data(), x.data(), sw.as<float>(), sx.as<float>(), ref.as<__nv_bfloat16>(), m, stream);
      };
      run_dense();
      CUDA_CHECK(cudaStreamSynchronize(stream));
      const double t_dense = time_launches_us(run_dense, 3, 20, stream);
      const LtBest lt_best = options.cusparselt ? best_cusparselt(lt, x, out, sw, m, workspace, stream) : LtBest{};
      if (lt_best.plan != "none") {  // the marked run for the kernel trace
        lt.set_algorithm(m, lt_best.algorithm, lt_best.split_k);
        CUDA_CHECK(cudaMemsetAsync(marker.data(), 0, 7, stream));
        lt.run(x.data(), out.data(), m, sw.as<float>(), workspace.data(), workspace.bytes(), stream);
        CUDA_CHECK(cudaStreamSynchronize(stream));
      }
      std::printf("%-8s M=%-6lld dense scaled GEMM %8.1f us | cuSPARSELt %8.1f us %5.0f TOPS [%s]\n", s.name.c_str(),
                  (long long)m, t_dense, lt_best.us, flops / lt_best.us * 1e-6, lt_best.plan.c_str());
      const size_t order_count = m >= 4096 ? orders.size() : 1;
      using Epilogue = sparse_probe::SparseTile::Epilogue;
      const Epilogue engine_epilogue = s.name == "gate_up"                 ? Epilogue::Relu2Mul
                                       : s.name == "o" || s.name == "down" ? Epilogue::ResidualAdd
                                                                           : Epilogue::Plain;
      for (const auto& t : tiles) {
        const bool plain = t->epilogue() == Epilogue::Plain;
        if (!plain && t->epilogue() != engine_epilogue) continue;
        // poisoned for the checked output; zeros for the residual stream the fused epilogues add into
        CUDA_CHECK(cudaMemsetAsync(out.data(), plain ? 0xff : 0, out.bytes(), stream));
        std::printf("  %-33s", t->name().c_str());
        try {
          t->run(x.data(), sx.as<float>(), sw.as<float>(), out.data(), m, orders[0], stream);
          CUDA_CHECK(cudaStreamSynchronize(stream));
          const std::string bad = plain ? std::to_string(probe::differing_bf16(ref, out)) : "unchecked";
          double best = std::numeric_limits<double>::infinity();
          size_t best_order = 0;
          for (size_t o = 0; o < order_count; ++o) {
            auto run = [&] { t->run(x.data(), sx.as<float>(), sw.as<float>(), out.data(), m, orders[o], stream); };
            const double us = time_launches_us(run, 3, 20, stream);
            if (us < best) best = us, best_order = o;
            if (order_count > 1) std::printf(" %s %.1f", order_name(orders[o]).c_str(), us);
          }
          std::printf(" | best %.1f us %5.0f TOPS (%s, %.3fx cuSPARSELt) differing %s\n", best, flops / best * 1e-6,
                      order_name(orders[best_order]).c_str(), lt_best.us / best, bad.c_str());
        } catch (const Error& e) {
          std::printf(" cannot run: %s\n", e.what());
        }
      }
      std::fflush(stdout);
    }
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "sparse_gemm_probe: %s\n", e.what());
  return 1;
}
