// synth -> prepare -> convert -> inspect on the tiny preset, checked tensor by tensor.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <set>

#include "checkpoint/bitnet_layout.h"
#include "checkpoint/checkpoint_kind.h"
#include "checkpoint/convert.h"
#include "checkpoint/inspect.h"
#include "checkpoint/prepare.h"
#include "checkpoint/synth.h"
#include "io/model_config.h"
#include "math/numeric_formats.h"
#include "math/prune.h"
#include "math/slide.h"
#include "model_fixtures.h"
#include "test_support.h"

namespace slidesparse {
namespace {

using testing::ScratchDir;
using testing::tensor_bytes;
using testing::tensor_values;

class RoundTrip : public testing::CheckpointSuite<RoundTrip> {
 public:
  static testing::CheckpointSet checkpoints() {
    testing::CheckpointSet set;
    set.seed = 42;
    set.intermediate_size = 520;  // K = 520 of down_proj is not a multiple of 32 or of most L
    set.kinds = {QuantKind::Int8, QuantKind::Fp8E4M3};
    return set;
  }
};

TEST_F(RoundTrip, SynthMatchesReleasedLayoutAndIsDeterministic) {
  const CheckpointReader a(*dir_ / "bf16");
  const ModelConfig c = load_model_config(*dir_ / "bf16" / "config.json");
  EXPECT_EQ(c.model_type, "bitnet");
  EXPECT_EQ(c.raw["architectures"][0], "BitNetForCausalLM");
  EXPECT_EQ(c.raw["torch_dtype"], "bfloat16");
  const auto layout = bitnet_tensors(c);
  ASSERT_EQ(a.tensor_names().size(), layout.size());
  for (const auto& t : layout) EXPECT_EQ(a.get(t.name).info->dtype, DType::BF16);

  ScratchDir other;
  SynthOptions o;
  o.dims = bitnet_preset("bitnet-tiny");
  o.dims.intermediate_size = 520;
  o.seed = 42;
  o.output = other / "same";
  synth_bitnet(o);
  o.seed = 43;
  o.output = other / "different";
  synth_bitnet(o);
  EXPECT_EQ(testing::read_text(*dir_ / "bf16" / "model.safetensors"),
            testing::read_text(other / "same" / "model.safetensors"));
  EXPECT_NE(testing::read_text(*dir_ / "bf16" / "model.safetensors"),
            testing::read_text(other / "different" / "model.safetensors"));
}

TEST_F(RoundTrip, TwoBillionPresetHasTheReleasedShapes) {
  const BitnetDims d = bitnet_preset("bitnet-2b");
  const ModelConfig c = parse_model_config(bitnet_config_json(d), "preset");
  const auto layout = bitnet_tensors(c);
  EXPECT_EQ(layout.size(), 332u);
  int linears = 0;
  for (const auto& t : layout) linears += t.role == TensorRole::Linear;
  EXPECT_EQ(linears, 210);
  auto shape_of = [&](const std::string& name) {
    for (const auto& t : layout)
      if (t.name == name) return t.shape;
    return std::vector<int64_t>{};
  };
  EXPECT_EQ(shape_of("model.embed_tokens.weight"), (std::vector<int64_t>{128256, 2560}));
  EXPECT_EQ(shape_of("model.layers.29.self_attn.k_proj.weight"), (std::vector<int64_t>{640, 2560}));
  EXPECT_EQ(shape_of("model.layers.0.mlp.gate_proj.weight"), (std::vector<int64_t>{6912, 2560}));
  EXPECT_EQ(shape_of("model.layers.0.mlp.down_proj.weight"), (std::vector<int64_t>{2560, 6912}));
  EXPECT_EQ(shape_of("model.layers.0.mlp.ffn_sub_norm.weight"), (std::vector<int64_t>{6912}));
  EXPECT_EQ(c.raw["rope_theta"], 500000.0);
  EXPECT_EQ(c.raw["hidden_act"], "relu2");
  EXPECT_EQ(c.raw["vocab_size"], 128256);
}

TEST_F(RoundTrip, PreparedWeightsAreTernaryWithAbsmeanScales) {
  const CheckpointReader bf16(*dir_ / "bf16");
  for (const char* name : {"int8", "fp8"}) {
    const CheckpointReader prepared(*dir_ / name);
    const ModelConfig c = load_model_config(*dir_ / name / "config.json");
    EXPECT_EQ(c.model_type, "bitnet");
    EXPECT_EQ(c.raw["quantization_config"]["quant_method"], "slidesparse");
    EXPECT_EQ(c.raw["quantization_config"]["input_activations"]["strategy"], "token");
    for (const auto& t : bitnet_tensors(c)) {
      if (t.role != TensorRole::Linear) {
        EXPECT_EQ(tensor_bytes(prepared.get(t.name)), tensor_bytes(bf16.get(t.name))) << t.name;
        continue;
      }
      const auto latent = tensor_values<uint16_t>(bf16.get(t.name));
      double sum = 0;
      for (uint16_t v : latent) sum += std::fabs(bf16_to_float(v));
      const float s = std::max(static_cast<float>(sum / double(latent.size())), 1e-5f);
      EXPECT_EQ(tensor_values<float>(prepared.get(t.name + "_scale")), std::vector<float>{s}) << t.name;
      const auto codes = tensor_bytes(prepared.get(t.name));
      ASSERT_EQ(codes.size(), latent.size());
      for (size_t i = 0; i < codes.size(); ++i) {
        const float want = std::clamp(std::nearbyint(bf16_to_float(latent[i]) / s), -1.0f, 1.0f);
        const float got = std::string(name) == "int8" ? float(int8_t(codes[i])) : e4m3_to_float(codes[i]);
        ASSERT_EQ(got, want) << t.name << " element " << i;
      }
    }
  }
}

TEST_F(RoundTrip, ConvertedCheckpointsReloadAndValidateForEveryL) {
  for (const char* name : {"int8", "fp8"}) {
    const QuantKind kind = std::string(name) == "int8" ? QuantKind::Int8 : QuantKind::Fp8E4M3;
    const CheckpointReader prepared(*dir_ / name);
    for (int l = 4; l <= 16; l += 2) {
      ConvertOptions o;
      o.input = *dir_ / name;
      o.pattern = Sparsity::two_of(l);
      o.source = *dir_ / "bf16";
      const ConvertResult r = convert_slidesparse(o);
      EXPECT_EQ(r.output, *dir_ / (std::string(name) + "-SlideSparse-2_" + std::to_string(l)));
      const CheckpointReader slid(r.output);
      const ModelConfig c = load_model_config(r.output / "config.json");
      const nlohmann::json sc = read_json_file(r.output / "slidesparse_config.json");
      EXPECT_EQ(sc["L"], l);
      EXPECT_EQ(sc["Z"], 2);
      EXPECT_EQ(sc["window_size"], 4);
      EXPECT_EQ(sc["stride"], 2);
      EXPECT_EQ(sc["windows_per_group"], l / 2 - 1);
      const nlohmann::json report = read_json_file(r.output / "conversion_report.json");
      EXPECT_EQ(report["linears"].size(), 14u);
      for (const auto& t : bitnet_tensors(c)) {
        if (t.role != TensorRole::Linear) continue;
        const SlideGeometry g = make_slide_geometry(t.shape[1], l);
        const TensorRef& w = slid.get(t.name);
        ASSERT_EQ(w.info->shape, (std::vector<int64_t>{t.shape[0], g.k_slid})) << t.name;
        EXPECT_EQ(sc["tensors"][t.name]["K_slid"], g.k_slid);
        const auto codes = tensor_bytes(w);
        EXPECT_EQ(count_pattern_violations(kind, codes.data(), t.shape[0], g.k_slid, 4), 0) << t.name;
        EXPECT_EQ(tensor_bytes(slid.get(t.name + "_scale")), tensor_bytes(prepared.get(t.name + "_scale")));
        // Folding W' back through the column map gives a 2:L-valid pruned version of the prepared
        // weight: every kept value equals the original, and only zeros were added.
        const auto original = tensor_bytes(prepared.get(t.name));
        std::vector<uint8_t> folded(original.size(), 0);
        const auto map = slide_column_map(g);
        for (int64_t n = 0; n < t.shape[0]; ++n)
          for (int64_t j = 0; j < g.k_slid; ++j)
            if (!code_is_zero(kind, codes[n * g.k_slid + j])) folded[n * t.shape[1] + map[j]] = codes[n * g.k_slid + j];
        EXPECT_EQ(count_pattern_violations(kind, folded.data(), t.shape[0], t.shape[1], l), 0) << t.name;
        int64_t added = 0;
        for (size_t i = 0; i < original.size(); ++i) {
          if (code_is_zero(kind, folded[i])) {
            added += !code_is_zero(kind, original[i]);
          } else {
            ASSERT_EQ(folded[i], original[i]);
          }
        }
        for (const auto& row : report["linears"]) {
          if (row["name"] == t.name) {
            EXPECT_EQ(row["zeros_added"], added) << t.name;
          }
        }
      }
      const nlohmann::json summary = inspect_checkpoint(r.output);
      EXPECT_EQ(summary["kind"], "SlideSparse");
      EXPECT_EQ(summary["sparsity"], "2:" + std::to_string(l));
      EXPECT_EQ(summary["valid_patterns"], nlohmann::json::array({"2:4 (slid)"}));
    }
  }
}

// --pruned-dense writes the pruned weights as a prepared checkpoint: the weights the SlideSparse
// checkpoint of the same options holds, un-slid, with the same scales and a report of the pruning.
TEST_F(RoundTrip, PrunedDenseCheckpointHoldsTheSlidWeightsUnslid) {
  for (const char* name : {"int8", "fp8"}) {
    const QuantKind kind = std::string(name) == "int8" ? QuantKind::Int8 : QuantKind::Fp8E4M3;
    for (int l : {4, 8}) {
      SCOPED_TRACE(std::string(name) + " 2:" + std::to_string(l));
      ConvertOptions o;
      o.input = *dir_ / name;
      o.pattern = Sparsity::two_of(l);
      o.source = *dir_ / "bf16";
      o.output = *dir_ / (std::string(name) + "-slid-for-pruned-2_" + std::to_string(l));
      const ConvertResult slid_result = convert_slidesparse(o);
      o.output.clear();
      o.slide = false;
      const ConvertResult r = convert_slidesparse(o);
      EXPECT_EQ(r.output, *dir_ / (std::string(name) + "-pruned-2_" + std::to_string(l)));
      EXPECT_FALSE(std::filesystem::exists(r.output / "slidesparse_config.json"));
      const ModelConfig c = load_model_config(r.output / "config.json");
      const CheckpointDescription d = describe_checkpoint(c, r.output);
      EXPECT_EQ(d.kind, CheckpointKind::PreparedW8A8);
      EXPECT_EQ(d.quant, kind);
      const nlohmann::json report = read_json_file(r.output / "conversion_report.json");
      EXPECT_EQ(report["slid"], false);
      EXPECT_FALSE(report["linears"][0].contains("K_slid"));
      EXPECT_EQ(report["totals"], read_json_file(slid_result.output / "conversion_report.json")["totals"]);
      const CheckpointReader pruned(r.output), slid(slid_result.output), prepared(*dir_ / name);
      for (const auto& t : bitnet_tensors(c)) {
        if (t.role != TensorRole::Linear) {
          EXPECT_EQ(tensor_bytes(pruned.get(t.name)), tensor_bytes(prepared.get(t.name))) << t.name;
          continue;
        }
        const TensorRef& w = pruned.get(t.name);
        ASSERT_EQ(w.info->shape, t.shape) << t.name;
        const auto codes = tensor_bytes(w);
        EXPECT_EQ(count_pattern_violations(kind, codes.data(), t.shape[0], t.shape[1], l), 0) << t.name;
        const SlideGeometry g = make_slide_geometry(t.shape[1], l);
        std::vector<uint8_t> unslid(codes.size());
        unslide_weight_rows(g, tensor_bytes(slid.get(t.name)).data(), g.k_slid, t.shape[0], unslid.data());
        for (size_t i = 0; i < codes.size(); ++i)  // FP8 zeros may differ in sign only
          ASSERT_TRUE(code_is_zero(kind, codes[i]) ? code_is_zero(kind, unslid[i]) : codes[i] == unslid[i])
              << t.name << " value " << i;
        EXPECT_EQ(tensor_bytes(pruned.get(t.name + "_scale")), tensor_bytes(prepared.get(t.name + "_scale")));
      }
    }
  }
}

TEST_F(RoundTrip, LatentTieBreakKeepsTheLargestLatentMagnitudes) {
  ConvertOptions o;
  o.input = *dir_ / "int8";
  o.output = *dir_ / "tiebreak-2_8";
  o.pattern = Sparsity::two_of(8);
  o.source = *dir_ / "bf16";
  const ConvertResult r = convert_slidesparse(o);
  const CheckpointReader prepared(*dir_ / "int8"), bf16(*dir_ / "bf16"), slid(r.output);
  const std::string name = "model.layers.0.self_attn.q_proj.weight";
  const auto original = tensor_values<int8_t>(prepared.get(name));
  const auto latent = tensor_values<uint16_t>(bf16.get(name));
  const auto codes = tensor_values<int8_t>(slid.get(name));
  const SlideGeometry g = make_slide_geometry(256, 8);
  const auto map = slide_column_map(g);
  std::vector<int8_t> kept(original.size(), 0);
  for (int64_t n = 0; n < 256; ++n)
    for (int64_t j = 0; j < g.k_slid; ++j)
      if (codes[n * g.k_slid + j]) kept[n * 256 + map[j]] = codes[n * g.k_slid + j];
  // In every group, each removed non-zero has latent magnitude <= every kept one.
  for (int64_t n = 0; n < 256; ++n)
    for (int64_t g0 = 0; g0 < 256; g0 += 8) {
      float min_kept = INFINITY, max_removed = 0;
      for (int64_t c = g0; c < g0 + 8; ++c) {
        const float m = std::fabs(bf16_to_float(latent[n * 256 + c]));
        if (kept[n * 256 + c]) min_kept = std::min(min_kept, m);
        else if (original[n * 256 + c]) max_removed = std::max(max_removed, m);
      }
      ASSERT_LE(max_removed, min_kept) << "row " << n << " group " << g0 / 8;
    }
}

TEST_F(RoundTrip, InspectReportsPreparedCheckpoint) {
  const nlohmann::json s = inspect_checkpoint(*dir_ / "int8");
  EXPECT_EQ(s["kind"], "prepared W8A8");
  EXPECT_EQ(s["quant"], "int8");
  EXPECT_EQ(s["tensor_count"], 2 * 11 + 2 + 14);
  EXPECT_EQ(s["model"]["num_hidden_layers"], 2);
  EXPECT_EQ(s["layers"].size(), 2u);
  const double zf = s["layers"][0]["zero_fraction"];
  EXPECT_GT(zf, 0.2);  // absmean ternarization of a bell-shaped latent zeroes about a third
  EXPECT_LT(zf, 0.45);
  const std::string text = format_inspection(s);
  EXPECT_NE(text.find("prepared W8A8 (int8)"), std::string::npos);
  EXPECT_NE(text.find("model.layers.1.mlp.down_proj.weight"), std::string::npos);
}

}  // namespace
}  // namespace slidesparse
