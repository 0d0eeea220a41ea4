#include <cstdio>

#include "checkpoint/prepare.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "core/error.h"
#include "core/process_stats.h"
#include "core/stopwatch.h"

namespace slidesparse {

int run_prepare(const CommandArgs& args) {
  ArgParser p("slidesparse prepare",
              "BitNet BF16 (or released packed ternary) checkpoint -> W8A8 checkpoint: per-tensor absmean ternary\n"
              "weights in int8 or float8_e4m3 with a weight_scale each; per-token dynamic activations at run time.");
  p.option("input", "DIR", "BF16 or packed BitNet checkpoint");
  p.option("output", "DIR", "output checkpoint directory");
  p.option("dtype", "int8|fp8", "weight and activation type", "int8");
  p.flag("force", "replace an existing output directory");
  if (!p.parse(args)) return 0;

  PrepareOptions o;
  const std::string dtype = p.get("dtype");
  const std::optional<QuantKind> kind = parse_quant_kind(dtype);
  require(kind.has_value(), "slidesparse prepare: unknown --dtype '" + dtype + "' (expected int8 or fp8)");
  o.kind = *kind;
  o.input = p.get("input");
  o.output = p.get("output");
  o.force = p.has("force");

  const Stopwatch clock;
  const PrepareResult r = prepare_w8a8(o);
  int64_t zeros = 0, weights = 0;
  for (const auto& l : r.linears) zeros += l.zeros, weights += l.numel;
  std::printf("prepare: %s -> %s, %zu linear weights ternarized (zero fraction %.4f), %lld tensors, %.2f s, peak RSS %.0f MB\n",
              std::string(checkpoint_kind_name(r.source)).c_str(), o.output.c_str(), r.linears.size(),
              weights ? double(zeros) / double(weights) : 0.0, static_cast<long long>(r.tensors_written),
              clock.seconds(), peak_rss_mb());
  return 0;
}

}  // namespace slidesparse
