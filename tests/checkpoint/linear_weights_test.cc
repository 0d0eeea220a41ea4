#include <gtest/gtest.h>

#include "checkpoint/linear_weights.h"
#include "core/error.h"
#include "model_fixtures.h"
#include "test_support.h"

namespace slidesparse {
namespace {

using testing::tensor_bytes;
using testing::tensor_values;

class LinearWeights : public testing::CheckpointSuite<LinearWeights> {
 public:
  static testing::CheckpointSet checkpoints() {
    testing::CheckpointSet set;
    set.groups = {8};
    return set;
  }
};

TEST_F(LinearWeights, FusesQkvAndGateUpWithPerChannelScales) {
  const CheckpointReader reader(*dir_ / "int8");
  const ModelConfig config = load_model_config(*dir_ / "int8" / "config.json");
  const auto d = require_engine_checkpoint(config, reader, false);
  const auto linears = load_layer_linears(reader, config, d, 1);
  ASSERT_EQ(linears.size(), 4u);
  const HostLinear& qkv = linears[0];
  EXPECT_EQ(linear_slot_name(qkv.slot), "qkv");
  EXPECT_EQ(qkv.n, 256 + 128 + 128);
  EXPECT_EQ(qkv.k, 256);
  EXPECT_EQ(qkv.k_gemm, 256);
  std::vector<uint8_t> want;
  std::vector<float> scales;
  for (const char* part : {"q_proj", "k_proj", "v_proj"}) {
    const std::string name = std::string("model.layers.1.self_attn.") + part + ".weight";
    const auto bytes = tensor_bytes(reader.get(name));
    want.insert(want.end(), bytes.begin(), bytes.end());
    const float s = tensor_values<float>(reader.get(name + "_scale"))[0];
    scales.insert(scales.end(), part == std::string("q_proj") ? 256 : 128, s);
  }
  EXPECT_EQ(qkv.codes, want);
  EXPECT_EQ(qkv.scale, scales);
  EXPECT_EQ(linears[2].n, 2 * 512);  // gate and up stacked
  EXPECT_EQ(linears[3].k, 512);      // down
}

TEST_F(LinearWeights, SlideSparseLayersCarryKPrime) {
  const auto dir = *dir_ / "int8-SlideSparse-2_8";
  const CheckpointReader reader(dir);
  const ModelConfig config = load_model_config(dir / "config.json");
  const auto d = require_engine_checkpoint(config, reader, true);
  EXPECT_EQ(d.sparsity, Sparsity::two_of(8));
  const auto linears = load_layer_linears(reader, config, d, 0);
  EXPECT_EQ(linears[0].k_gemm, 384);  // K=256 under 2:8: 32 groups * 12 columns
  EXPECT_EQ(linears[0].codes.size(), size_t{512} * 384);
  EXPECT_EQ(linears[3].k_gemm, 768);  // K=512
}

TEST_F(LinearWeights, BackendMustMatchTheCheckpoint) {
  auto message = [](const std::filesystem::path& dir, bool sparse) {
    const CheckpointReader reader(dir);
    try {
      require_engine_checkpoint(load_model_config(dir / "config.json"), reader, sparse);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_EQ(message(*dir_ / "int8", true),
            (*dir_ / "int8").string() +
                ": the cuSPARSELt backend needs a SlideSparse checkpoint (slidesparse convert), this is prepared W8A8");
  EXPECT_EQ(message(*dir_ / "int8-SlideSparse-2_8", false),
            (*dir_ / "int8-SlideSparse-2_8").string() +
                ": the cuBLASLt backend needs a prepared W8A8 checkpoint (slidesparse prepare), this is SlideSparse");
  EXPECT_EQ(message(*dir_ / "bf16", false),
            (*dir_ / "bf16").string() +
                ": the cuBLASLt backend needs a prepared W8A8 checkpoint (slidesparse prepare), this is bf16 latent weights");
}

}  // namespace
}  // namespace slidesparse
