// HostModel on the CPU: the host copy holds exactly what load_layer_linears reads per layer, and it
// refuses the checkpoints the engine refuses (pinning is best effort; without a GPU it is skipped).
#include "runtime/host_model.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "model_fixtures.h"
#include "test_support.h"

namespace slidesparse {
namespace {


class HostModelTest : public testing::CheckpointSuite<HostModelTest> {
 public:
  static testing::CheckpointSet checkpoints() {
    testing::CheckpointSet set;
    set.groups = {6};
    return set;
  }
};

TEST_F(HostModelTest, HoldsEveryLayerAsTheEngineReadsIt) {
  const HostModel host(*dir_ / "int8-SlideSparse-2_6", true);
  const CheckpointReader reader(*dir_ / "int8-SlideSparse-2_6");
  const ModelConfig config = load_model_config(*dir_ / "int8-SlideSparse-2_6" / "config.json");
  const CheckpointDescription d = require_engine_checkpoint(config, reader, true);
  EXPECT_EQ(host.description().sparsity, Sparsity::two_of(6));
  EXPECT_EQ(host.config().num_hidden_layers, config.num_hidden_layers);
  size_t bytes = 0;
  for (int64_t layer = 0; layer < config.num_hidden_layers; ++layer) {
    const auto want = load_layer_linears(reader, config, d, static_cast<int>(layer));
    const auto& got = host.layer(layer);
    ASSERT_EQ(got.size(), 4u);
    for (size_t i = 0; i < want.size(); ++i) {
      SCOPED_TRACE("layer " + std::to_string(layer) + " linear " + std::to_string(i));
      EXPECT_EQ(got[i].slot, want[i].slot);
      EXPECT_EQ(got[i].n, want[i].n);
      EXPECT_EQ(got[i].k, want[i].k);
      EXPECT_EQ(got[i].k_gemm, want[i].k_gemm);
      EXPECT_EQ(got[i].codes, want[i].codes);
      EXPECT_EQ(got[i].scale, want[i].scale);
      bytes += want[i].codes.size() + want[i].scale.size() * sizeof(float);
    }
  }
  EXPECT_EQ(host.linear_bytes(), bytes);
  EXPECT_THROW((void)host.layer(config.num_hidden_layers), std::out_of_range);
}

TEST_F(HostModelTest, RefusesWhatTheEngineRefuses) {
  try {
    HostModel(*dir_ / "int8", true);  // a dense checkpoint for the sparse backend
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find((*dir_ / "int8").string()), std::string::npos) << e.what();
  }
  EXPECT_THROW(HostModel(*dir_ / "missing", true), Error);
}

}  // namespace
}  // namespace slidesparse
