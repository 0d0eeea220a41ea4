// Loader tests against checkpoints written by transformers itself (tests/data, made on the GPU
// machine by make_transformers_fixtures.py): the BF16 save_pretrained layout and the released packed
// inference layout, with the values transformers computed.
#include <gtest/gtest.h>

#include <cmath>

#include "checkpoint/bitnet_layout.h"
#include "checkpoint/packed_ternary.h"
#include "checkpoint/prepare.h"
#include "core/error.h"
#include "io/model_config.h"
#include "math/numeric_formats.h"
#include "test_support.h"

namespace slidesparse {
namespace {

using testing::ScratchDir;
using testing::tensor_bytes;
using testing::tensor_values;
using testing::test_data_dir;

const std::filesystem::path kBf16 = test_data_dir() / "tiny_bitnet_bf16";
const std::filesystem::path kPacked = test_data_dir() / "tiny_bitnet_packed";
const std::filesystem::path kExpected = test_data_dir() / "tiny_bitnet_expected.safetensors";

std::vector<std::string> linear_names(const ModelConfig& config) {
  std::vector<std::string> names;
  for (const auto& t : bitnet_tensors(config))
    if (t.role == TensorRole::Linear) names.push_back(t.name);
  return names;
}

std::string base_of(const std::string& weight) { return weight.substr(0, weight.size() - std::string(".weight").size()); }

TEST(TransformersFixture, ConfigWrittenByTransformers5Parses) {
  const ModelConfig c = load_model_config(kBf16 / "config.json");
  EXPECT_EQ(c.model_type, "bitnet");
  EXPECT_EQ(c.architecture, "BitNetForCausalLM");
  EXPECT_EQ(c.hidden_size, 256);
  EXPECT_EQ(c.intermediate_size, 512);
  EXPECT_EQ(c.num_hidden_layers, 2);
  EXPECT_EQ(c.num_attention_heads, 4);
  EXPECT_EQ(c.num_key_value_heads, 2);
  EXPECT_EQ(c.head_dim, 64);
  EXPECT_EQ(c.vocab_size, 512);
  EXPECT_DOUBLE_EQ(c.rope_theta, 500000.0);  // transformers 5 nests it under rope_parameters
  EXPECT_TRUE(c.tie_word_embeddings);
  EXPECT_EQ(c.hidden_act, "relu2");
}

TEST(TransformersFixture, LayoutMatchesSavePretrained) {
  const CheckpointReader reader(kBf16);
  const ModelConfig c = load_model_config(kBf16 / "config.json");
  const auto layout = bitnet_tensors(c);
  ASSERT_EQ(reader.tensor_names().size(), layout.size());  // 2 * 11 + 2, tied: no lm_head
  for (const auto& t : layout) {
    const TensorRef& ref = reader.get(t.name);
    EXPECT_EQ(ref.info->shape, t.shape) << t.name;
    EXPECT_EQ(ref.info->dtype, DType::BF16) << t.name;
  }
}

TEST(TransformersFixture, PrepareFromBf16EqualsWeightQuant) {
  ScratchDir dir;
  for (QuantKind kind : {QuantKind::Int8, QuantKind::Fp8E4M3}) {
    const auto out = dir / std::string(quant_kind_name(kind));
    const PrepareResult r = prepare_w8a8({kBf16, out, kind, false});
    EXPECT_EQ(r.source, CheckpointKind::LatentBf16);
    const CheckpointReader prepared(out), expected(kExpected);
    for (const auto& name : linear_names(load_model_config(kBf16 / "config.json"))) {
      const auto ternary = tensor_values<int8_t>(expected.get(base_of(name) + ".ternary"));
      const auto codes = tensor_bytes(prepared.get(name));
      ASSERT_EQ(codes.size(), ternary.size());
      for (size_t i = 0; i < codes.size(); ++i) {
        const float value = kind == QuantKind::Int8 ? float(int8_t(codes[i])) : e4m3_to_float(codes[i]);
        ASSERT_EQ(value, float(ternary[i])) << name << " element " << i;
      }
      // transformers computes s = mean|W| with torch's fp32 reduction; ours sums in double and rounds
      // once, so the two may differ in the last bit.
      const float want = tensor_values<float>(expected.get(base_of(name) + ".absmean"))[0];
      const float got = tensor_values<float>(prepared.get(name + "_scale"))[0];
      EXPECT_NEAR(got, want, std::fabs(want) * 2.5e-7f) << name;
    }
  }
}

TEST(TransformersFixture, PrepareFromPackedLayoutGivesSameTernary) {
  ScratchDir dir;
  const PrepareResult r = prepare_w8a8({kPacked, dir / "int8", QuantKind::Int8, false});
  EXPECT_EQ(r.source, CheckpointKind::PackedTernary);
  const CheckpointReader prepared(dir / "int8"), expected(kExpected), packed(kPacked);
  for (const auto& name : linear_names(load_model_config(kPacked / "config.json"))) {
    const auto unpacked = tensor_values<int8_t>(expected.get(base_of(name) + ".unpacked"));
    const auto ternary = tensor_values<int8_t>(expected.get(base_of(name) + ".ternary"));
    const auto codes = tensor_values<int8_t>(prepared.get(name));
    ASSERT_EQ(codes, ternary) << name;
    ASSERT_EQ(std::vector<int8_t>(unpacked.begin(), unpacked.begin() + codes.size()), codes) << name;
    // The packed file stores bf16(1 / s); prepare inverts it.
    const uint16_t stored = tensor_values<uint16_t>(packed.get(name + "_scale"))[0];
    EXPECT_EQ(tensor_values<float>(prepared.get(name + "_scale"))[0], 1.0f / bf16_to_float(stored)) << name;
    const float absmean = tensor_values<float>(expected.get(base_of(name) + ".absmean"))[0];
    EXPECT_NEAR(tensor_values<float>(prepared.get(name + "_scale"))[0], absmean, absmean / 128) << name;
  }
  // Non-linear tensors are copied byte for byte.
  const CheckpointReader bf16(kBf16);
  EXPECT_EQ(tensor_bytes(prepared.get("model.embed_tokens.weight")), tensor_bytes(bf16.get("model.embed_tokens.weight")));
  EXPECT_EQ(tensor_bytes(prepared.get("model.layers.1.mlp.ffn_sub_norm.weight")),
            tensor_bytes(bf16.get("model.layers.1.mlp.ffn_sub_norm.weight")));
}

TEST(TransformersFixture, UnpackMatchesPackWeightsOnOddRowCounts) {
  const CheckpointReader expected(kExpected);
  for (int n : {1, 7, 10, 13}) {
    const std::string base = "packing.N" + std::to_string(n);
    const auto ternary = tensor_values<int8_t>(expected.get(base + ".ternary"));
    const TensorRef& packed = expected.get(base + ".packed");
    ASSERT_EQ(packed.info->shape, (std::vector<int64_t>{packed_ternary_rows(n), 6}));
    std::vector<uint8_t> out(static_cast<size_t>(n) * 6, 0xAA);
    unpack_ternary(QuantKind::Int8, reinterpret_cast<const uint8_t*>(packed.data.data()), n, 6, out.data());
    EXPECT_EQ(std::vector<int8_t>(out.begin(), out.end()), ternary) << base;
  }
}

TEST(TransformersFixture, UnpackRejectsFieldValueThree) {
  const uint8_t packed[2] = {0x01, 0x03};  // row 0: field 1 -> 0; column 1: field 3 is invalid
  uint8_t out[2];
  try {
    unpack_ternary(QuantKind::Int8, packed, 1, 2, out);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "packed ternary weight holds the invalid 2-bit value 3 at row 0, column 1");
  }
}

}  // namespace
}  // namespace slidesparse
