#include <cstdio>

#include "bench/isolated_gemm_search.h"
#include "bench/tuner.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "core/error.h"
#include "core/stopwatch.h"

namespace slidesparse {

int run_tune(const CommandArgs& args) {
  ArgParser p("slidesparse tune",
              "Offline search: every cuBLASLt heuristic candidate and every cuSPARSELt alg id x split-K (Segment-K\n"
              "on SM90) for the BitNet GEMMs, and the launch configurations of our quantization kernels, stored\n"
              "in a tuning database tagged with this GPU and its library versions. Each GEMM candidate is checked\n"
              "against a reference GEMM (eagerly, and replayed from a CUDA graph for the finalists) and searched\n"
              "in a process of its own: wrong, failing or crashing candidates are dropped and listed in the\n"
              "database. The engine uses a GEMM choice only at the M it was searched at.");
  p.option("db", "FILE", "tuning database to create or update", "tuning_db.json");
  p.option("dtype", "int8|fp8|all", "types to tune", "all");
  p.option("sparsity", "LIST", "SlideSparse patterns for cuSPARSELt", "2:4,2:6,2:8,2:10");
  p.option("coarse-m", "LIST", "Ms for the dense GEMMs (cuBLASLt, the INT8 scaled GEMM) and the quantization kernel",
           "256,1024,4096,16384,32768");
  p.option("fine-m", "LIST",
           "Ms for cuSPARSELt and the quantize-slide kernel, and for the dense GEMMs too when 2:L patterns are "
           "tuned (a 2:L linear's dense fallback is chosen where both were timed)",
           "64,128,256,512,1024,2048,4096,8192,16384,32768");
  p.option("decode-m", "LIST",
           "the engine's decode batch sizes: extra Ms for cuBLASLt, cuSPARSELt and the fused norms",
           "64,128,256,512");
  p.option("backend", "LIST", "cublaslt,cusparselt", "cublaslt,cusparselt");
  p.option("warmup", "N", "warmup launches per finalist", "25");
  p.option("repeat", "N", "timed launches per finalist", "50");
  p.flag("no-kernels", "skip the quantization kernels' launch configurations");
  p.flag("fp8-precise-accum",
         "FP8 cuBLASLt: search the promoting accumulation (the engine's --fp8-precise-accum) instead of the "
         "fast accumulation the engine runs by default");
  p.flag("cutlass-sparse",
         "INT8 2:L: also the tile, cluster and tile order of the CUTLASS sparse GEMM per shape and row count (with "
         "their latencies, which choose a 2:L linear's dense fallback), for engines run with --cutlass-sparse");
  if (!p.parse(args)) return 0;

  TuneOptions o;
  o.db_path = p.get("db");
  o.kinds = parse_dtype_list("dtype", p.get("dtype"));
  o.sparsities = parse_sparsity_list(p.get("sparsity"), false);
  o.fp8_fast_accum = !p.has("fp8-precise-accum");
  o.coarse_ms = parse_int_list("coarse-m", p.get("coarse-m"));
  o.fine_ms = parse_int_list("fine-m", p.get("fine-m"));
  o.decode_ms = parse_int_list("decode-m", p.get("decode-m"));
  const std::string backends = p.get("backend");
  o.dense = backends.find("cublaslt") != std::string::npos;
  o.sparse = backends.find("cusparselt") != std::string::npos;
  require(o.dense || o.sparse, "slidesparse tune: --backend must name cublaslt and/or cusparselt");
  o.protocol.warmup = static_cast<int>(p.get_int("warmup"));
  o.protocol.repeat = static_cast<int>(p.get_int("repeat"));
  o.kernels = !p.has("no-kernels");
  o.sparse_scaled_gemm = p.has("cutlass-sparse");
  const Stopwatch clock;
  run_tune(o);
  std::printf("tune: %.1f s\n", clock.seconds());
  return 0;
}

int run_search_gemm(const CommandArgs& args) { return run_gemm_search_worker(args); }

}  // namespace slidesparse
