#include <cstdio>

#include "checkpoint/synth.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "core/error.h"
#include "core/process_stats.h"
#include "core/stopwatch.h"

namespace slidesparse {

int run_synth(const CommandArgs& args) {
  ArgParser p("slidesparse synth",
              "Writes a BF16 BitNet checkpoint with the released model's tensor names, shapes and config.json,\n"
              "filled deterministically from --seed (the built-in model every other command can run on).");
  p.option("output", "DIR", "output checkpoint directory");
  p.option("preset", "NAME", "model size: bitnet-2b, bitnet-small, bitnet-tiny", "bitnet-2b");
  p.option("seed", "N", "random seed", "0");
  p.option("hidden-size", "N", "override hidden_size");
  p.option("intermediate-size", "N", "override intermediate_size");
  p.option("layers", "N", "override num_hidden_layers");
  p.option("heads", "N", "override num_attention_heads");
  p.option("kv-heads", "N", "override num_key_value_heads");
  p.option("vocab-size", "N", "override vocab_size");
  p.flag("untied", "write a separate lm_head.weight (tie_word_embeddings false)");
  p.flag("force", "replace an existing output directory");
  if (!p.parse(args)) return 0;

  SynthOptions o;
  o.dims = bitnet_preset(p.get("preset"));
  auto override_dim = [&](const char* name, int64_t& field) {
    if (!p.has(name)) return;
    field = p.get_int(name);
    require(field > 0, std::string("slidesparse synth: --") + name + " must be positive");
  };
  override_dim("hidden-size", o.dims.hidden_size);
  override_dim("intermediate-size", o.dims.intermediate_size);
  override_dim("layers", o.dims.num_hidden_layers);
  override_dim("heads", o.dims.num_attention_heads);
  override_dim("kv-heads", o.dims.num_key_value_heads);
  override_dim("vocab-size", o.dims.vocab_size);
  if (p.has("untied")) o.dims.tie_word_embeddings = false;
  o.seed = p.get_uint("seed");
  o.output = p.get("output");
  o.force = p.has("force");

  const Stopwatch clock;
  const SynthResult r = synth_bitnet(o);
  std::printf("synth: wrote %lld tensors (%.2f GB, bf16) to %s in %.2f s, peak RSS %.0f MB\n",
              static_cast<long long>(r.tensors), double(r.bytes) / 1e9, o.output.c_str(), clock.seconds(),
              peak_rss_mb());
  return 0;
}

}  // namespace slidesparse
