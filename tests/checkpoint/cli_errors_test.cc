// Bad input through the real binary: one clear error line, a non-zero exit, nothing left behind.
#include <gtest/gtest.h>

#include <filesystem>

#include "io/model_config.h"
#include "io/safetensors_writer.h"
#include "test_support.h"

namespace slidesparse {
namespace {

namespace fs = std::filesystem;
using testing::CommandResult;
using testing::list_dir;
using testing::run_slidesparse;
using testing::ScratchDir;
using testing::test_data_dir;

const fs::path kBf16 = test_data_dir() / "tiny_bitnet_bf16";

// Exactly one line on stderr, prefixed, containing `needle`; a failing exit code.
void expect_one_line_error(const CommandResult& r, const std::string& needle) {
  EXPECT_NE(r.exit_code, 0);
  ASSERT_FALSE(r.err.empty());
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
  EXPECT_EQ(r.err.rfind("slidesparse: error: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << "stderr: " << r.err << "expected: " << needle;
}

// A checkpoint dir with the fixture's config.json and the given raw model.safetensors bytes.
fs::path hostile_checkpoint(const ScratchDir& dir, const std::string& name, const std::string& bytes) {
  const fs::path p = dir / name;
  fs::create_directories(p);
  fs::copy_file(kBf16 / "config.json", p / "config.json");
  testing::write_bytes(p / "model.safetensors", bytes);
  return p;
}

std::string safetensors_bytes(const std::string& header, size_t data_bytes) {
  std::string out(8, '\0');
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xFF);
  return out + header + std::string(data_bytes, '\x11');
}

struct HostileCase {
  std::string name, bytes, message;
};

TEST(CliErrors, HostileSafetensorsAreRejectedBeforeAnyOutput) {
  ScratchDir dir;
  const std::vector<HostileCase> cases = {
      {"truncated", std::string("\x10\x00\x00", 3), "truncated"},
      {"header_past_end", std::string("\xff\x00\x00\x00\x00\x00\x00\x00{}", 10), "exceeds file size"},
      {"broken_json", safetensors_bytes("{\"a\": {\"dtype\": ", 0), "JSON"},
      {"unknown_dtype", safetensors_bytes(R"({"a":{"dtype":"F64","shape":[2],"data_offsets":[0,16]}})", 16),
       "unknown dtype 'F64'"},
      {"range_too_short", safetensors_bytes(R"({"a":{"dtype":"BF16","shape":[2,3],"data_offsets":[0,10]}})", 10),
       "byte range"},
      {"range_too_long", safetensors_bytes(R"({"a":{"dtype":"BF16","shape":[2,3],"data_offsets":[0,14]}})", 14),
       "byte range"},
      {"overlap", safetensors_bytes(R"({"a":{"dtype":"I8","shape":[4],"data_offsets":[0,4]},)"
                                    R"("b":{"dtype":"I8","shape":[4],"data_offsets":[2,6]}})", 6),
       "overlap"},
      {"past_end", safetensors_bytes(R"({"a":{"dtype":"I8","shape":[64],"data_offsets":[0,64]}})", 8), "end"},
  };
  for (const auto& c : cases) {
    const fs::path in = hostile_checkpoint(dir, c.name, c.bytes);
    const fs::path out = dir / (c.name + "-out");
    const CommandResult r = run_slidesparse({"prepare", "--input", in.string(), "--output", out.string()});
    SCOPED_TRACE(c.name);
    expect_one_line_error(r, c.message);
    expect_one_line_error(r, (in / "model.safetensors").string());
    EXPECT_FALSE(fs::exists(out));
  }
  // Nothing but the inputs remains: no staging directories.
  for (const auto& name : list_dir(dir.path())) EXPECT_EQ(name.find(".partial"), std::string::npos) << name;
}

class CliWithPrepared : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new ScratchDir();
    const CommandResult r =
        run_slidesparse({"prepare", "--input", kBf16.string(), "--output", (*dir_ / "int8").string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("prepare: bf16 latent weights"), std::string::npos) << r.out;
  }
  static void TearDownTestSuite() { delete dir_; }
  static ScratchDir* dir_;
};
ScratchDir* CliWithPrepared::dir_ = nullptr;

TEST_F(CliWithPrepared, InvalidSparsityStrings) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"3:8", "invalid sparsity '3:8'"}, {"2:5", "invalid sparsity '2:5'"}, {"2:3", "invalid sparsity '2:3'"},
      {"0:4", "invalid sparsity '0:4'"}, {"2:-4", "invalid sparsity '2:-4'"}, {"abc", "invalid sparsity 'abc'"},
      {"2:18", "invalid sparsity '2:18'"}, {"2:inf", "invalid sparsity '2:inf'"}};
  for (const auto& [text, message] : cases) {
    const CommandResult r = run_slidesparse({"convert", "--input", (*dir_ / "int8").string(), "--sparsity", text});
    expect_one_line_error(r, message);
  }
  for (const auto& name : list_dir(dir_->path())) EXPECT_EQ(name.find("SlideSparse"), std::string::npos) << name;
}

TEST_F(CliWithPrepared, ExistingOutputNeedsForce) {
  const fs::path out = *dir_ / "exists";
  fs::create_directories(out);
  testing::write_bytes(out / "keep.txt", "mine");
  CommandResult r = run_slidesparse({"convert", "--input", (*dir_ / "int8").string(), "--sparsity", "2:8",
                                     "--output", out.string()});
  expect_one_line_error(r, "output directory '" + out.string() + "' already exists (use --force to replace it)");
  EXPECT_EQ(list_dir(out), std::vector<std::string>{"keep.txt"});
  r = run_slidesparse({"convert", "--input", (*dir_ / "int8").string(), "--sparsity", "2:8", "--output",
                       out.string(), "--force"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(list_dir(out), (std::vector<std::string>{"config.json", "conversion_report.json", "model.safetensors",
                                                     "slidesparse_config.json"}));
}

TEST_F(CliWithPrepared, UnwritableOutputPath) {
  const fs::path file = *dir_ / "a-file";
  testing::write_bytes(file, "x");
  const CommandResult r = run_slidesparse({"convert", "--input", (*dir_ / "int8").string(), "--sparsity", "2:6",
                                           "--output", (file / "sub").string()});
  expect_one_line_error(r, "cannot create output directory '" + (file / "sub").string() + "'");
}

TEST_F(CliWithPrepared, WrongCheckpointKinds) {
  CommandResult r = run_slidesparse({"convert", "--input", kBf16.string(), "--sparsity", "2:8",
                                     "--output", (*dir_ / "x").string()});
  expect_one_line_error(r, "convert takes a prepared W8A8 checkpoint");
  r = run_slidesparse({"prepare", "--input", (*dir_ / "int8").string(), "--output", (*dir_ / "y").string()});
  expect_one_line_error(r, "already a prepared W8A8 checkpoint");
  r = run_slidesparse({"prepare", "--input", kBf16.string(), "--output", (*dir_ / "z").string(), "--dtype", "fp16"});
  expect_one_line_error(r, "unknown --dtype 'fp16'");
  EXPECT_FALSE(fs::exists(*dir_ / "x"));
  EXPECT_FALSE(fs::exists(*dir_ / "y"));
  EXPECT_FALSE(fs::exists(*dir_ / "z"));
}

// Rewrites the fixture with a subset or altered set of tensors, and/or an edited config.
fs::path altered_checkpoint(const ScratchDir& dir, const std::string& name, const std::string& drop,
                            const std::string& reshape, const nlohmann::json& config_patch) {
  const CheckpointReader src(kBf16);
  const fs::path p = dir / name;
  fs::create_directories(p);
  std::vector<TensorDecl> decls;
  for (const auto& n : src.tensor_names()) {
    if (n == drop) continue;
    const TensorInfo& info = *src.get(n).info;
    std::vector<int64_t> shape = info.shape;
    if (n == reshape) shape = {shape[1], shape[0]};  // same bytes, transposed shape
    decls.push_back({n, info.dtype, shape});
  }
  {
    SafetensorsWriter w(p / "model.safetensors", decls);
    for (const auto& d : decls) w.write(d.name, src.get(d.name).data);
    w.finish();
  }
  nlohmann::json config = read_json_file(kBf16 / "config.json");
  config.merge_patch(config_patch);
  testing::write_bytes(p / "config.json", config.dump(2));
  return p;
}

TEST_F(CliWithPrepared, MissingTensorWrongShapeAndConfigMismatch) {
  const std::string q = "model.layers.1.self_attn.q_proj.weight";
  struct Case {
    fs::path input;
    std::string message;
  };
  const std::vector<Case> cases = {
      {altered_checkpoint(*dir_, "missing", q, "", nlohmann::json::object()), "missing tensor '" + q + "'"},
      {altered_checkpoint(*dir_, "shape", "", "model.layers.0.mlp.down_proj.weight", nlohmann::json::object()),
       "tensor 'model.layers.0.mlp.down_proj.weight' has shape [512, 256] but config.json implies [256, 512]"},
      {altered_checkpoint(*dir_, "fewer_layers", "", "", {{"num_hidden_layers", 1}}),
       "unexpected tensor 'model.layers.1."},
      {altered_checkpoint(*dir_, "wider", "", "", {{"intermediate_size", 640}}),
       "tensor 'model.layers.0.mlp.gate_proj.weight' has shape [512, 256] but config.json implies [640, 256]"},
      {altered_checkpoint(*dir_, "not_bitnet", "", "", {{"model_type", "llama"}}),
       "prepare supports BitNet checkpoints (model_type 'bitnet'), got 'llama'"},
  };
  for (const auto& c : cases) {
    const fs::path out = c.input.string() + "-out";
    const CommandResult r = run_slidesparse({"prepare", "--input", c.input.string(), "--output", out.string()});
    expect_one_line_error(r, c.message);
    EXPECT_FALSE(fs::exists(out));
  }
}

TEST(CliErrors, UsageErrors) {
  expect_one_line_error(run_slidesparse({"frobnicate"}), "unknown command 'frobnicate'");
  expect_one_line_error(run_slidesparse({"convert", "--sparsity"}), "option '--sparsity' needs a value");
  expect_one_line_error(run_slidesparse({"convert", "--bogus", "1"}), "unknown option '--bogus'");
  expect_one_line_error(run_slidesparse({"synth", "--preset", "bitnet-70b", "--output", "/tmp/never"}),
                        "unknown preset 'bitnet-70b' (known: bitnet-2b, bitnet-small, bitnet-tiny)");
  expect_one_line_error(run_slidesparse({"synth", "--seed", "-3", "--output", "/tmp/never"}),
                        "option '--seed' expects a non-negative integer, got '-3'");
  expect_one_line_error(run_slidesparse({"inspect", "/nonexistent/checkpoint"}), "/nonexistent/checkpoint");
  const CommandResult help = run_slidesparse({"convert", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--sparsity 2:L"), std::string::npos);
}

// The engine options are declared once: `generate` and `bench throughput` offer the same ones with
// the same defaults, except the sizing the throughput protocol sets per point itself.
TEST(CliErrors, EngineOptionsAreTheSameEverywhereExceptTheProtocolsSizing) {
  const CommandResult generate = run_slidesparse({"generate", "--help"});
  const CommandResult bench = run_slidesparse({"bench", "throughput", "--help"});
  ASSERT_EQ(generate.exit_code, 0);
  ASSERT_EQ(bench.exit_code, 0);
  for (const char* shared : {"--gpu-memory-utilization F\n      share of GPU memory the engine may hold (default: 0.9)",
                             "--db FILE", "--no-cuda-graphs", "--no-cudnn-attention", "--exact-scales",
                             "--fp8-precise-accum", "--block-size N", "--no-run-ahead", "--batch-invariant",
                             "--cutlass-sparse"}) {
    EXPECT_NE(generate.out.find(shared), std::string::npos) << shared;
    EXPECT_NE(bench.out.find(shared), std::string::npos) << shared;
  }
  for (const char* sizing : {"--max-num-seqs", "--max-num-batched-tokens", "--max-model-len", "--num-kv-blocks",
                             "--no-chunked-prefill"}) {
    EXPECT_NE(generate.out.find(sizing), std::string::npos) << sizing;
    EXPECT_EQ(bench.out.find(sizing), std::string::npos) << sizing;
  }
  expect_one_line_error(run_slidesparse({"bench", "throughput", "--model", "/tmp/never", "--max-num-seqs", "8"}),
                        "unknown option '--max-num-seqs'");
}

// Sampled requests in the throughput benchmark: invalid settings are refused before any model loads.
TEST(CliErrors, ThroughputSamplingOptionsAreChecked) {
  auto bench = [](std::vector<std::string> extra) {
    std::vector<std::string> args{"bench", "throughput", "--model", "/tmp/never", "--stage", "decode"};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_slidesparse(args);
  };
  expect_one_line_error(bench({"--temperature", "-0.5"}),
                        "bench throughput: --temperature must be >= 0, got -0.500000");
  expect_one_line_error(bench({"--temperature", "1", "--top-p", "0"}),
                        "bench throughput: --top-p must be in (0, 1], got 0.000000");
  expect_one_line_error(bench({"--temperature", "1", "--top-k", "-2"}),
                        "bench throughput: --top-k must be >= 0, got -2");
  expect_one_line_error(bench({"--temperature", "1", "--sampled-share", "1.5"}),
                        "bench throughput: --sampled-share must be in [0, 1], got 1.500000");
  const CommandResult help = run_slidesparse({"bench", "throughput", "--help"});
  EXPECT_NE(help.out.find("--sampled-share F"), std::string::npos);
}

// The sampling benchmark's blocks per row are checked before any GPU work.
TEST(CliErrors, EngineKernelsBlocksPerRowAreChecked) {
  expect_one_line_error(run_slidesparse({"bench", "engine-kernels", "--blocks-per-row", "1,3"}),
                        "bench engine-kernels: --blocks-per-row must be 1, 2, 4 or 8, got 3");
  const CommandResult help = run_slidesparse({"bench", "engine-kernels", "--help"});
  EXPECT_NE(help.out.find("--blocks-per-row LIST"), std::string::npos);
}

// The attention benchmark checks its lists before any GPU work, and offers the fused-RoPE rows.
TEST(CliErrors, AttentionBenchListsAreChecked) {
  expect_one_line_error(run_slidesparse({"bench", "attention", "--decode-seqs", "0"}),
                        "option '--decode-seqs' expects positive integers separated by commas, got '0'");
  expect_one_line_error(run_slidesparse({"bench", "attention", "--rope", "--decode-context", "64,x"}),
                        "option '--decode-context' expects positive integers separated by commas, got '64,x'");
  const CommandResult help = run_slidesparse({"bench", "attention", "--help"});
  EXPECT_NE(help.out.find("--rope"), std::string::npos);
  EXPECT_NE(help.out.find("--sweep"), std::string::npos);
  EXPECT_NE(help.out.find("--floors"), std::string::npos);
}

// `generate` refuses invalid sampling options before any model loads.
TEST(CliErrors, GenerateSamplingOptionsAreChecked) {
  auto generate = [](std::vector<std::string> extra) {
    std::vector<std::string> args{"generate", "--model", "/tmp/never", "--prompt", "1,2"};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_slidesparse(args);
  };
  expect_one_line_error(generate({"--temperature", "-1"}),
                        "sampling: need temperature >= 0, top_k >= 0 and top_p in (0, 1]; got temperature -1, top_k 0, "
                        "top_p 1");
  expect_one_line_error(generate({"--temperature", "0.7", "--top-p", "1.5"}), "got temperature 0.7, top_k 0, top_p 1.5");
  expect_one_line_error(generate({"--top-k", "-3"}), "got temperature 0, top_k -3, top_p 1");
}

}  // namespace
}  // namespace slidesparse
