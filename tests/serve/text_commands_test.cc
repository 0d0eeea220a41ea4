// The text commands on the CPU reference model of the tiny checkpoint: `generate --text` / `--chat`
// print the greedy continuation's text; `eval` prints and writes the sliding-window perplexity the
// library computes; option mistakes are one clear error.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>
#include <cstdio>
#include <filesystem>
#include <set>

#include <nlohmann/json.hpp>

#include "text/placeholder_tokenizer.h"
#include "checkpoint/prepare.h"
#include "math/perplexity.h"
#include "reference/reference_model.h"
#include "test_support.h"
#include "text/text_model.h"

namespace slidesparse {
namespace {

namespace fs = std::filesystem;
using testing::run_slidesparse;

class TextCommands : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::ScratchDir;
    prepare_w8a8({testing::test_data_dir() / "tiny_bitnet_bf16", *dir_ / "int8", QuantKind::Int8, false});
    for (const char* f : {"tokenizer.json", "tokenizer_config.json", "generation_config.json"})
      fs::copy_file(testing::test_data_dir() / "tokenizers" / "tiny_chat" / f, *dir_ / "int8" / f);
  }
  static void TearDownTestSuite() { delete dir_; }

  // The reference model's greedy reply as text (ended by <|im_end|>, id 2, or max_tokens).
  static std::string greedy_text(std::vector<int32_t> tokens, int max_tokens) {
    const ReferenceModel model(*dir_ / "int8");
    const TextModel text = TextModel::load(*dir_ / "int8");
    std::vector<int32_t> out;
    for (int i = 0; i < max_tokens; ++i) {
      const std::vector<float> logits = model.forward(tokens);
      const float* last = logits.data() + logits.size() - 512;
      const int32_t t = static_cast<int32_t>(std::max_element(last, last + 512) - last);
      out.push_back(t);
      tokens.push_back(t);
      if (t == 2) break;
    }
    std::erase_if(out, [&](int32_t t) { return !text.tokenizer().knows_id(t); });
    return text.tokenizer().decode(out, true);
  }

  static testing::ScratchDir* dir_;
};

testing::ScratchDir* TextCommands::dir_ = nullptr;

TEST_F(TextCommands, PrintsTheGreedyReply) {
  const TextModel text = TextModel::load(*dir_ / "int8");
  const auto r = run_slidesparse({"generate", "--model", (*dir_ / "int8").string(), "--cpu-reference", "--text",
                                  "Hello, world!", "--max-tokens", "10"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, greedy_text(text.encode_prompt("Hello, world!"), 10) + "\n");
  const auto chat = run_slidesparse({"generate", "--model", (*dir_ / "int8").string(), "--cpu-reference", "--text",
                                     "Hi there", "--chat", "--max-tokens", "6"});
  ASSERT_EQ(chat.exit_code, 0) << chat.err;
  EXPECT_EQ(chat.out, greedy_text(text.encode_chat({{"user", "Hi there"}}), 6) + "\n");
}

// `chat`: each stdin line a user message, each reply the greedy reply to the whole conversation so far.
TEST_F(TextCommands, ChatKeepsTheConversation) {
  const TextModel text = TextModel::load(*dir_ / "int8");
  const auto r = run_slidesparse({"chat", "--model", (*dir_ / "int8").string(), "--cpu-reference", "--system",
                                  "Be brief.", "--max-tokens", "6"},
                                 "Hi there\n\nHow are you?\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<ChatMessage> conversation{{"system", "Be brief."}, {"user", "Hi there"}};
  const std::string first = greedy_text(text.encode_chat(conversation), 6);
  conversation.push_back({"assistant", first});
  conversation.push_back({"user", "How are you?"});
  const std::string second = greedy_text(text.encode_chat(conversation), 6);
  EXPECT_EQ(r.out, first + "\n" + second + "\n");
  EXPECT_EQ(r.err, "");  // stdin is not a terminal: no prompt marks
}

// A conversation longer than the context (256 tokens) loses its oldest exchanges, the system message
// stays; a message that cannot fit even alone is left out; either is said on stderr.
TEST_F(TextCommands, ChatDropsTheOldestExchangesToFitTheContext) {
  const std::string line(100, 'a'), too_long(300, 'b');
  const auto r = run_slidesparse({"chat", "--model", (*dir_ / "int8").string(), "--cpu-reference", "--system", "S",
                                  "--max-tokens", "8"},
                                 line + "\n" + line + "\n" + too_long + "\n" + line + "\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 3) << r.out;  // three replies
  EXPECT_NE(r.err.find("this message does not fit the context of 256 tokens with the system message; it was left "
                       "out\n"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find(" earlier messages dropped to fit the context of 256 tokens)\n"), std::string::npos) << r.err;
  // Without a chat template: one error before any model loads.
  const fs::path plain = *dir_ / "no_template";
  fs::create_directories(plain);
  fs::copy_file(*dir_ / "int8" / "tokenizer.json", plain / "tokenizer.json", fs::copy_options::overwrite_existing);
  const auto none = run_slidesparse({"chat", "--model", (*dir_ / "int8").string(), "--tokenizer", plain.string(),
                                     "--cpu-reference"},
                                    "hi\n");
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_EQ(none.err, "slidesparse: error: " + plain.string() +
                          ": chat needs the checkpoint's chat template (tokenizer_config.json)\n");
}

TEST_F(TextCommands, OptionMistakesAreOneError) {
  const std::string model = (*dir_ / "int8").string();
  auto r = run_slidesparse({"generate", "--model", model, "--text", "x", "--prompt", "1,2"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(r.err, "slidesparse: error: give one of --prompt IDS or --text TEXT\n");
  r = run_slidesparse({"generate", "--model", model, "--prompt", "1,2", "--chat"});
  EXPECT_EQ(r.err, "slidesparse: error: --chat goes with --text\n");
  const fs::path bare = *dir_ / "bare";
  fs::create_directories(bare);
  r = run_slidesparse({"generate", "--model", model, "--tokenizer", bare.string(), "--cpu-reference", "--text", "x"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(r.err, "slidesparse: error: " + bare.string() +
                       " has no tokenizer.json (text input and output need the checkpoint's tokenizer files: "
                       "tokenizer.json, tokenizer_config.json)\n");
}

TEST_F(TextCommands, EvalPrintsAndWritesThePerplexity) {
  const fs::path text_file = *dir_ / "text.txt", json_file = *dir_ / "eval.json";
  testing::write_bytes(text_file, "The quick brown fox jumps over the lazy dog. " + std::string(40, 'a') +
                                      " Hello, world! 123 456 ふりがな\n");
  const auto r = run_slidesparse({"eval", "--model", (*dir_ / "int8").string(), "--cpu-reference", "--text-file",
                                  text_file.string(), "--context", "32", "--stride", "16", "--json", json_file.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The library's value on the same tokens and windows.
  const TextModel text = TextModel::load(*dir_ / "int8");
  const std::vector<int32_t> tokens = text.encode_prompt(testing::read_text(text_file));
  const ReferenceModel model(*dir_ / "int8");
  const PerplexityResult want = sliding_window_perplexity(
      tokens, 32, 16, 512, [&](const std::vector<int32_t>& w) { return model.forward(w); });
  const nlohmann::json j = nlohmann::json::parse(testing::read_text(json_file));
  EXPECT_DOUBLE_EQ(j["perplexity"].get<double>(), want.perplexity());
  EXPECT_EQ(j["scored_tokens"], static_cast<int64_t>(tokens.size()) - 1);
  EXPECT_EQ(j["windows"], want.windows);
  char ppl[32];
  std::snprintf(ppl, sizeof ppl, "%.4f", want.perplexity());
  EXPECT_EQ(r.out.rfind("eval: perplexity " + std::string(ppl) + " over " + std::to_string(tokens.size() - 1) +
                            " tokens of text.txt (" + std::to_string(want.windows) + " windows of up to 32 tokens, stride 16)",
                        0),
            0u)
      << r.out;
  const auto bad = run_slidesparse({"eval", "--model", (*dir_ / "int8").string(), "--cpu-reference", "--text-file",
                                    text_file.string(), "--context", "16", "--stride", "32"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_EQ(bad.err, "slidesparse: error: perplexity: --stride must lie in 1..--context (16) so that every token is scored\n");
  const auto missing = run_slidesparse({"eval", "--model", (*dir_ / "int8").string(), "--cpu-reference", "--text-file",
                                        (*dir_ / "nope.txt").string()});
  EXPECT_EQ(missing.err, "slidesparse: error: eval: cannot read " + (*dir_ / "nope.txt").string() + "\n");
}

// synth's placeholder tokenizer: bytes encode as themselves, BOS first, every other id decodes to
// text naming it, the eos id stops a reply. (The Python `tokenizers` library gives the same ids and
// text for this file.)
TEST(PlaceholderTokenizer, BytesPlaceholdersAndSpecials) {
  testing::ScratchDir dir;
  write_placeholder_tokenizer(dir.path(), 600, 300, 301);
  const TextModel text = TextModel::load(dir.path());
  EXPECT_EQ(text.encode_prompt("Hi é"), (std::vector<int32_t>{300, 72, 105, 32, 195, 169}));
  EXPECT_EQ(text.tokenizer().decode({72, 105, 400, 195, 169, 301}, true), "Hi<t400>é");
  EXPECT_EQ(text.tokenizer().decode({300, 72}, false), "<|begin_of_text|>H");
  EXPECT_EQ(text.stop_token_ids(), (std::set<int32_t>{301}));
  for (int32_t id : {0, 255, 256, 599}) EXPECT_TRUE(text.tokenizer().knows_id(id)) << id;
  EXPECT_FALSE(text.tokenizer().knows_id(600));
  EXPECT_EQ(text.render_chat({{"user", "hi"}}), "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n");
  // Ids outside the vocabulary (a tiny preset's 128000): no BOS, no stop token.
  testing::ScratchDir tiny;
  write_placeholder_tokenizer(tiny.path(), 512, 128000, 128001);
  const TextModel t = TextModel::load(tiny.path());
  EXPECT_EQ(t.encode_prompt("A"), (std::vector<int32_t>{65}));
  EXPECT_TRUE(t.stop_token_ids().empty());
}

}  // namespace
}  // namespace slidesparse
