#include "checkpoint/convert.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <optional>

#include "checkpoint/bitnet_layout.h"
#include "checkpoint/checkpoint_files.h"
#include "checkpoint/checkpoint_kind.h"
#include "core/counter_rng.h"
#include "core/error.h"
#include "core/parallel.h"
#include "io/safetensors_reader.h"
#include "io/safetensors_writer.h"
#include "io/staged_directory.h"
#include "math/slide.h"

namespace slidesparse {

namespace fs = std::filesystem;

namespace {

constexpr int kFormatVersion = 1;

// Folds W' back through the column map (unslide_weight_rows, which refuses a non-zero in padding or
// two for one column) and checks it reproduces the pruned W exactly (zeros of either sign alike).
bool slide_preserves_weights(QuantKind kind, const SlideGeometry& g, const uint8_t* pruned, const uint8_t* slid,
                             int64_t rows) {
  std::vector<uint8_t> folded(static_cast<size_t>(rows * g.k));
  try {
    unslide_weight_rows(g, slid, g.k_slid, rows, folded.data());
  } catch (const Error&) {
    return false;
  }
  std::atomic<bool> ok{true};
  parallel_for(rows * g.k, int64_t{1} << 16, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end && ok; ++i)
      if (code_is_zero(kind, pruned[i]) ? !code_is_zero(kind, folded[i]) : folded[i] != pruned[i]) ok = false;
  });
  return ok;
}

std::string mode_name(PruneMode mode) { return mode == PruneMode::Magnitude ? "magnitude" : "random"; }

nlohmann::json slide_config_json(const ConvertOptions& o, QuantKind kind, const std::vector<ConvertedLinear>& linears) {
  const int group = o.pattern.group();
  nlohmann::json tensors = nlohmann::json::object();
  for (const auto& l : linears) tensors[l.name] = {{"N", l.n}, {"K", l.k}, {"K_slid", l.k_slid}};
  std::string tie_break = "lowest column index";
  if (o.mode == PruneMode::Random) tie_break = "random (seeded)";
  else if (!o.source.empty()) tie_break = "smaller latent BF16 magnitude, then lowest column index";
  return {
      {"format_version", kFormatVersion},
      {"Z", 2},
      {"L", group},
      {"sparsity", o.pattern.str()},
      {"window_size", 4},
      {"stride", 2},
      {"windows_per_group", group / 2 - 1},
      {"slid_group_width", 2 * group - 4},
      {"expand_ratio", 2.0 - 4.0 / group},
      {"k_alignment", 32},
      {"column_map", "map(j') = (j' div (2L-4))*L + 2*((j' mod (2L-4)) div 4) + (j' mod 4)"},
      {"quant", quant_kind_name(kind)},
      {"prune", {{"mode", mode_name(o.mode)}, {"seed", o.seed}, {"tie_break", tie_break}}},
      {"compressed", false},
      {"tensors", tensors},
  };
}

nlohmann::json report_json(const ConvertResult& r, const ConvertOptions& o) {
  nlohmann::json rows = nlohmann::json::array();
  int64_t before = 0, added = 0, total = 0;
  for (const auto& l : r.linears) {
    nlohmann::json row = {{"name", l.name}, {"N", l.n}, {"K", l.k},
                          {"zeros_before", l.zeros_before}, {"zeros_added", l.zeros_added},
                          {"zero_fraction_before", double(l.zeros_before) / double(l.n * l.k)},
                          {"zero_fraction_after", double(l.zeros_before + l.zeros_added) / double(l.n * l.k)}};
    if (o.slide) row["K_slid"] = l.k_slid;
    rows.push_back(row);
    before += l.zeros_before;
    added += l.zeros_added;
    total += l.n * l.k;
  }
  return {{"sparsity", o.pattern.str()},
          {"slid", o.slide},
          {"linears", rows},
          {"totals", {{"weights", total}, {"zeros_before", before}, {"zeros_added", added},
                      {"zero_fraction_before", total ? double(before) / double(total) : 0.0},
                      {"zero_fraction_after", total ? double(before + added) / double(total) : 0.0}}},
          {"seconds", r.seconds}};
}

}  // namespace

fs::path default_convert_output(const fs::path& input, Sparsity pattern, bool slide) {
  fs::path base = input;
  if (!base.has_filename()) base = base.parent_path();
  return base.parent_path() /
         (base.filename().string() + (slide ? "-SlideSparse-2_" : "-pruned-2_") + std::to_string(pattern.group()));
}

ConvertResult convert_slidesparse(const ConvertOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  require(options.pattern.is_finite_sparse(), "convert needs a finite 2:L pattern, not " + options.pattern.str());
  const CheckpointReader reader(options.input);
  const ModelConfig config = load_model_config(reader.directory() / "config.json");
  const CheckpointDescription desc = describe_checkpoint(config, reader.directory());
  require(desc.kind == CheckpointKind::PreparedW8A8,
          reader.directory().string() + ": convert takes a prepared W8A8 checkpoint (run 'slidesparse prepare'), got " +
              std::string(checkpoint_kind_name(desc.kind)));
  const QuantKind kind = desc.quant;
  const DType code_dtype = kind == QuantKind::Int8 ? DType::I8 : DType::F8_E4M3;

  const std::vector<ModelTensor> layout = bitnet_tensors(config);
  std::vector<std::string> scales;
  for (const auto& t : layout)
    if (t.role == TensorRole::Linear) scales.push_back(weight_scale_name(t.name));
  check_tensor_presence(reader, layout, scales);

  std::optional<CheckpointReader> source;
  if (!options.source.empty()) {
    source.emplace(options.source);
    const ModelConfig source_config = load_model_config(source->directory() / "config.json");
    require(describe_checkpoint(source_config, source->directory()).kind == CheckpointKind::LatentBf16,
            source->directory().string() + ": --source must be the BF16 latent checkpoint");
  }

  std::vector<TensorDecl> decls;
  for (const auto& t : layout) {
    const TensorRef& in = reader.get(t.name);
    check_tensor_shape(reader, in, t.shape);
    if (t.role == TensorRole::Linear) {
      check_tensor_dtype(reader, in, code_dtype);
      const SlideGeometry g = make_slide_geometry(t.shape[1], options.pattern.group());
      decls.push_back({t.name, code_dtype, {t.shape[0], options.slide ? g.k_slid : t.shape[1]}});
      const TensorRef& scale = reader.get(weight_scale_name(t.name));
      decls.push_back({scale.info->name, scale.info->dtype, scale.info->shape});
      if (source) {
        const TensorRef& latent = source->get(t.name);
        check_tensor_dtype(*source, latent, DType::BF16);
        check_tensor_shape(*source, latent, t.shape);
      }
    } else {
      decls.push_back({t.name, in.info->dtype, in.info->shape});
    }
  }

  ConvertResult result;
  result.output =
      options.output.empty() ? default_convert_output(options.input, options.pattern, options.slide) : options.output;
  StagedDirectory out(result.output, options.force);
  SafetensorsWriter writer(out.path() / "model.safetensors", decls, {{"format", "pt"}});
  std::vector<uint8_t> pruned, slid;
  for (const auto& t : layout) {
    const TensorRef& in = reader.get(t.name);
    if (t.role != TensorRole::Linear) {
      writer.write(t.name, in.data);
      release_mapped_pages(in.data);
      continue;
    }
    const int64_t n = t.shape[0], k = t.shape[1];
    const SlideGeometry g = make_slide_geometry(k, options.pattern.group());
    const auto* codes = reinterpret_cast<const uint8_t*>(in.data.data());
    pruned.assign(codes, codes + n * k);
    PruneOptions prune{options.pattern.group(), options.mode, options.seed, stream_id(t.name), nullptr};
    if (source) prune.latent_bf16 = reinterpret_cast<const uint16_t*>(source->get(t.name).data.data());
    const PruneStats stats = prune_rows(kind, pruned.data(), n, k, prune);
    release_mapped_pages(in.data);
    if (source) release_mapped_pages(source->get(t.name).data);
    require(count_pattern_violations(kind, pruned.data(), n, k, options.pattern.group()) == 0,
            "pruning left a group with fewer than 2 zeros in tensor '" + t.name + "'");
    const TensorRef& scale = reader.get(weight_scale_name(t.name));
    if (!options.slide) {
      writer.write(t.name, std::as_bytes(std::span(pruned)));
      writer.write(scale.info->name, scale.data);
      result.linears.push_back({t.name, n, k, 0, stats.zeros_before, stats.zeros_added});
      continue;
    }
    slid.resize(static_cast<size_t>(n * g.k_slid));
    slide_weight_rows(kind, g, pruned.data(), n, slid.data());
    require(count_pattern_violations(kind, slid.data(), n, g.k_slid, 4) == 0,
            "slid tensor '" + t.name + "' is not 2:4-valid");
    require(slide_preserves_weights(kind, g, pruned.data(), slid.data(), n),
            "slid tensor '" + t.name + "' does not hold every non-zero exactly once");
    writer.write(t.name, std::as_bytes(std::span(slid)));
    writer.write(scale.info->name, scale.data);
    result.linears.push_back({t.name, n, k, g.k_slid, stats.zeros_before, stats.zeros_added});
  }
  writer.finish();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  write_file_atomic(out.path() / "config.json", config.raw.dump(2) + "\n");
  if (options.slide)  // without it the output reads as a prepared (dense) checkpoint
    write_file_atomic(out.path() / kSlideSparseConfigFile,
                      slide_config_json(options, kind, result.linears).dump(2) + "\n");
  write_file_atomic(out.path() / kConversionReportFile, report_json(result, options).dump(2) + "\n");
  copy_side_files(reader.directory(), out.path(),
                  {std::string(kSlideSparseConfigFile), std::string(kConversionReportFile)});
  out.commit();
  return result;
}

}  // namespace slidesparse
