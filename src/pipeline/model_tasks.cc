// Task 1 (base models: the BF16 source, then INT8 and FP8 W8A8) and task 2 (SlideSparse conversion
// of each dtype to each 2:L). Each checkpoint is one unit, written atomically under OUT/checkpoints
// with its summary in OUT/results/{prepare,convert}/<name>.json.
#include <cstdio>
#include <system_error>

#include "checkpoint/convert.h"
#include "checkpoint/prepare.h"
#include "checkpoint/synth.h"
#include "core/error.h"
#include "core/stopwatch.h"
#include "hub/hub_download.h"
#include "io/model_config.h"
#include "io/results_layout.h"
#include "io/safetensors_reader.h"
#include "io/staged_directory.h"
#include "pipeline/pipeline_tasks.h"

namespace slidesparse {

namespace fs = std::filesystem;

namespace {

uint64_t safetensors_bytes(const fs::path& dir) {
  uint64_t bytes = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.path().extension() == ".safetensors") bytes += entry.file_size(ec);
  return bytes;
}

// OUT/checkpoints/<name> as a link to a BF16 model that lives elsewhere (hub cache, local directory),
// so every later unit reads one path. Replaced atomically.
void link_checkpoint(const fs::path& link, const fs::path& target) {
  const fs::path temporary = link.parent_path() / ("." + link.filename().string() + ".link-tmp");
  std::error_code ec;
  fs::remove(temporary, ec);
  fs::create_directory_symlink(fs::absolute(target), temporary, ec);
  if (!ec) fs::rename(temporary, link, ec);
  if (ec) fail("cannot link '" + link.string() + "' to '" + target.string() + "': " + ec.message());
}

void write_prepare_result(const PipelineLayout& layout, const std::string& name, const std::string& dtype,
                          double seconds, int64_t tensors) {
  fs::create_directories(results_layout::prepare_dir(layout.results));
  write_file_atomic(results_layout::prepare_dir(layout.results) / (name + ".json"),
                    nlohmann::json({{"name", name},
                                    {"dtype", dtype},
                                    {"seconds", seconds},
                                    {"bytes", safetensors_bytes(layout.checkpoints / name)},
                                    {"tensors", tensors}})
                            .dump(2) +
                        "\n");
}

}  // namespace

std::vector<UnitBatch> plan_base_models(const PipelineLayout& layout, const PipelineOptions& o) {
  std::vector<UnitBatch> batches;
  const fs::path bf16 = layout.checkpoints / layout.bf16_name();
  const UnitPlan base{layout.base_key(), layout.base_options(), {}, bf16};
  batches.push_back({{base}, [&layout, &o, bf16](const std::vector<UnitPlan>& pending, const auto& done) {
                       const Stopwatch clock;
                       fs::create_directories(layout.checkpoints);
                       int64_t tensors = 0;
                       if (o.model.empty()) {
                         SynthOptions s;
                         s.dims = bitnet_preset(o.preset);
                         s.seed = o.seed;
                         s.output = bf16;
                         s.force = true;
                         tensors = synth_bitnet(s).tensors;
                       } else {
                         fs::path source = o.model;
                         if (looks_like_hub_repo_id(o.model)) {
                           HubDownloadOptions h;
                           h.repo = o.model;
                           source = download_snapshot(h);
                         }
                         require(fs::is_directory(source),
                                 "--model '" + o.model + "' is neither a local directory nor a hub repo id (org/name)");
                         link_checkpoint(bf16, source);
                         tensors = static_cast<int64_t>(CheckpointReader(bf16).tensor_names().size());
                       }
                       write_prepare_result(layout, layout.bf16_name(), "bf16", clock.seconds(), tensors);
                       done(pending.front());
                     }});
  for (QuantKind kind : o.kinds) {
    const std::string name = layout.prepared_name(kind);
    const UnitPlan unit{
        layout.prepare_key(kind), layout.prepare_options(kind), {layout.base_key()}, layout.checkpoints / name};
    batches.push_back({{unit}, [&layout, kind, name, bf16](const std::vector<UnitPlan>& pending, const auto& done) {
                         const Stopwatch clock;
                         PrepareOptions p;
                         p.input = bf16;
                         p.output = layout.checkpoints / name;
                         p.kind = kind;
                         p.force = true;  // anything there is stale: the status does not list it as finished
                         const PrepareResult r = prepare_w8a8(p);
                         write_prepare_result(layout, name, std::string(quant_kind_name(kind)), clock.seconds(),
                                              r.tensors_written);
                         done(pending.front());
                       }});
  }
  return batches;
}

std::vector<UnitBatch> plan_conversions(const PipelineLayout& layout, const PipelineOptions& o) {
  std::vector<UnitBatch> batches;
  for (QuantKind kind : o.kinds)
    for (const Sparsity pattern : o.sparsities) {
      const std::string name = layout.slid_name(kind, pattern);
      const UnitPlan unit{layout.convert_key(kind, pattern),
                          layout.convert_options(kind, pattern),
                          {layout.prepare_key(kind), layout.base_key()},
                          layout.checkpoints / name};
      batches.push_back(
          {{unit}, [&layout, kind, pattern, name](const std::vector<UnitPlan>& pending, const auto& done) {
             ConvertOptions c;
             c.input = layout.checkpoints / layout.prepared_name(kind);
             c.output = layout.checkpoints / name;
             c.pattern = pattern;
             c.source = layout.checkpoints / layout.bf16_name();  // latent magnitudes break ties
             c.force = true;
             const ConvertResult r = convert_slidesparse(c);
             int64_t weights = 0, slid = 0, before = 0, added = 0;
             for (const auto& l : r.linears) {
               weights += l.n * l.k;
               slid += l.n * l.k_slid;
               before += l.zeros_before;
               added += l.zeros_added;
             }
             const double total = weights ? double(weights) : 1.0;
             fs::create_directories(results_layout::convert_dir(layout.results));
             write_file_atomic(results_layout::convert_dir(layout.results) / (name + ".json"),
                               nlohmann::json({{"name", name},
                                               {"dtype", std::string(quant_kind_name(kind))},
                                               {"sparsity", pattern.str()},
                                               {"seconds", r.seconds},
                                               {"bytes", safetensors_bytes(c.output)},
                                               {"expand_ratio", double(slid) / total},
                                               {"zero_fraction_before", double(before) / total},
                                               {"zero_fraction_after", double(before + added) / total}})
                                       .dump(2) +
                                   "\n");
             done(pending.front());
           }});
    }
  return batches;
}

PipelineLayout::PipelineLayout(const PipelineOptions& options)
    : label(pipeline_model_label(options)),
      checkpoints(options.out / "checkpoints"),
      results(results_layout::results_dir(options.out)),
      options_(options) {}

std::string PipelineLayout::prepared_name(QuantKind kind) const { return label + "-" + std::string(quant_kind_label(kind)); }

std::string PipelineLayout::slid_name(QuantKind kind, Sparsity p) const {
  return prepared_name(kind) + "-SlideSparse-2_" + std::to_string(p.group());
}

std::string PipelineLayout::prepare_key(QuantKind kind) const { return "base/" + std::string(quant_kind_label(kind)); }

std::string PipelineLayout::convert_key(QuantKind kind, Sparsity p) const {
  return "convert/" + std::string(quant_kind_label(kind)) + "/" + p.str();
}

nlohmann::json PipelineLayout::base_options() const {
  if (options_.model.empty()) return {{"source", "synth"}, {"preset", options_.preset}, {"seed", options_.seed}};
  return {{"source", looks_like_hub_repo_id(options_.model) ? "hub" : "local"}, {"model", options_.model}};
}

nlohmann::json PipelineLayout::prepare_options(QuantKind kind) const {
  return {{"dtype", std::string(quant_kind_name(kind))}, {"input", base_options()}};
}

nlohmann::json PipelineLayout::convert_options(QuantKind kind, Sparsity p) const {
  return {{"sparsity", p.str()}, {"mode", "magnitude"}, {"tie_break", "BF16 latent"}, {"input", prepare_options(kind)}};
}

std::string PipelineLayout::checkpoint_name(QuantKind kind, Sparsity s) const {
  return s.is_dense() ? prepared_name(kind) : slid_name(kind, s);
}

std::string PipelineLayout::checkpoint_key(QuantKind kind, Sparsity s) const {
  return s.is_dense() ? prepare_key(kind) : convert_key(kind, s);
}

nlohmann::json PipelineLayout::checkpoint_options(QuantKind kind, Sparsity s) const {
  return s.is_dense() ? prepare_options(kind) : convert_options(kind, s);
}

}  // namespace slidesparse
