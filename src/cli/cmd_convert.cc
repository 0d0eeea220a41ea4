#include <cstdio>

#include "checkpoint/convert.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "core/error.h"
#include "core/process_stats.h"

namespace slidesparse {

int run_convert(const CommandArgs& args) {
  ArgParser p("slidesparse convert",
              "Prepared W8A8 checkpoint -> SlideSparse 2:L checkpoint: prune every linear weight to 2:L, verify,\n"
              "slide it into overlapping 2:4 windows [N, K'] and write <input>-SlideSparse-2_L. With --pruned-dense,\n"
              "write the pruned weights unslid as a prepared W8A8 checkpoint <input>-pruned-2_L instead: the dense\n"
              "model of the same pruned weights, to measure what pruning costs and what the sparse GEMMs buy.");
  p.option("input", "DIR", "prepared W8A8 checkpoint (slidesparse prepare)");
  p.option("sparsity", "2:L", "target pattern, L even in 4..16");
  p.option("output", "DIR",
           "output directory (default: <input>-SlideSparse-2_L, or <input>-pruned-2_L, beside the input)");
  p.option("mode", "magnitude|random", "which non-zeros pruning removes", "magnitude");
  p.option("seed", "N", "seed for --mode random", "0");
  p.option("source", "DIR", "BF16 latent checkpoint: break magnitude ties by latent |w| (else lowest index)");
  p.flag("force", "replace an existing output directory");
  p.flag("pruned-dense",
         "write the pruned weights [N, K] as a prepared (dense) W8A8 checkpoint instead of sliding them");
  if (!p.parse(args)) return 0;

  ConvertOptions o;
  o.input = p.get("input");
  o.pattern = parse_sparsity(p.get("sparsity"));
  const std::string mode = p.get("mode");
  require(mode == "magnitude" || mode == "random",
          "slidesparse convert: unknown --mode '" + mode + "' (expected magnitude or random)");
  o.mode = mode == "magnitude" ? PruneMode::Magnitude : PruneMode::Random;
  o.seed = p.get_uint("seed");
  if (p.has("output")) o.output = p.get("output");
  if (p.has("source")) o.source = p.get("source");
  o.force = p.has("force");
  o.slide = !p.has("pruned-dense");

  const ConvertResult r = convert_slidesparse(o);
  int64_t before = 0, added = 0, weights = 0;
  for (const auto& l : r.linears) before += l.zeros_before, added += l.zeros_added, weights += l.n * l.k;
  std::printf("convert: %s -> %s, %zu linear weights, zero fraction %.4f -> %.4f, %.2f s, peak RSS %.0f MB\n",
              o.pattern.str().c_str(), r.output.c_str(), r.linears.size(),
              weights ? double(before) / double(weights) : 0.0,
              weights ? double(before + added) / double(weights) : 0.0, r.seconds, peak_rss_mb());
  return 0;
}

}  // namespace slidesparse
