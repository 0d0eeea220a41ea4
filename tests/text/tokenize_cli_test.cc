#include <gtest/gtest.h>

#include "io/model_config.h"
#include "test_support.h"
#include "text/chat_template.h"
#include "text/tokenizer_config.h"

namespace slidesparse {
namespace {

using testing::CommandResult;
using testing::run_slidesparse;

std::string llama3_dir() { return (testing::test_data_dir() / "tokenizers" / "llama3_style").string(); }

std::string joined(const nlohmann::json& ids) {
  std::string line;
  for (const auto& id : ids) {
    if (!line.empty()) line += ' ';
    line += std::to_string(id.get<int32_t>());
  }
  return line;
}

// One error line on stderr, exit code 1.
void expect_error(const CommandResult& r, const std::string& message) {
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "slidesparse: error: " + message + "\n");
}

TEST(TokenizeCli, EncodesAndDecodesLikeHuggingFace) {
  const nlohmann::json expected = read_json_file(testing::test_data_dir() / "tokenizers" / "expected_ids.json");
  const std::string text = expected["texts"][2].get<std::string>();
  const auto& want = expected["tokenizers"]["llama3_style"];

  CommandResult r = run_slidesparse({"tokenize", "--model", llama3_dir(), "--text", text});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, joined(want["ids"][2]) + "\n");
  r = run_slidesparse({"tokenize", "--model", llama3_dir(), "--text", text, "--no-special-tokens"});
  EXPECT_EQ(r.out, joined(want["ids_no_special"][2]) + "\n");

  std::string comma_ids = joined(want["ids"][2]);
  std::replace(comma_ids.begin(), comma_ids.end(), ' ', ',');
  r = run_slidesparse({"tokenize", "--model", llama3_dir(), "--decode", "--text", comma_ids});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, want["decoded"][2].get<std::string>() + "\n");
  r = run_slidesparse({"tokenize", "--model", llama3_dir(), "--decode", "--no-special-tokens", "--text", comma_ids});
  EXPECT_EQ(r.out, text + "\n");
}

TEST(TokenizeCli, ReadsAFileByteForByte) {
  testing::ScratchDir dir;
  const std::string content = "line one\n\n\nline two\n";
  testing::write_bytes(dir / "in.txt", content);
  const CommandResult file =
      run_slidesparse({"tokenize", "--model", llama3_dir(), "--file", (dir / "in.txt").string()});
  const CommandResult text = run_slidesparse({"tokenize", "--model", llama3_dir(), "--text", content});
  ASSERT_EQ(file.exit_code, 0) << file.err;
  EXPECT_EQ(file.out, text.out);
  testing::write_bytes(dir / "ids.txt", file.out);
  const CommandResult back = run_slidesparse(
      {"tokenize", "--model", llama3_dir(), "--decode", "--no-special-tokens", "--file", (dir / "ids.txt").string()});
  EXPECT_EQ(back.out, content + "\n");
}

TEST(TokenizeCli, ErrorsAreOneLine) {
  testing::ScratchDir dir;
  expect_error(run_slidesparse({"tokenize", "--model", dir.path().string(), "--text", "x"}),
               dir.path().string() + ": no tokenizer.json");
  testing::write_bytes(dir / "tokenizer.json", "{not json");
  expect_error(run_slidesparse({"tokenize", "--model", dir.path().string(), "--text", "x"}),
               (dir / "tokenizer.json").string() + ": not valid JSON");
  expect_error(run_slidesparse({"tokenize", "--model", llama3_dir(), "--decode", "--text", "1 5000000"}),
               "token id 5000000 is not in the tokenizer's vocabulary");
  expect_error(run_slidesparse({"tokenize", "--model", llama3_dir(), "--decode", "--text", "1 x2"}),
               "tokenize --decode: 'x2' is not a token id");
  expect_error(run_slidesparse({"tokenize", "--model", llama3_dir()}),
               "tokenize: give exactly one of --text and --file");
  expect_error(run_slidesparse({"tokenize", "--model", llama3_dir(), "--text", "a", "--file", "f"}),
               "tokenize: give exactly one of --text and --file");
  expect_error(run_slidesparse({"tokenize", "--text", "a"}), "tokenize: --model DIR is required");
}

TEST(TokenizeCli, ChatEncodesTheTextAsAUserMessageThroughTheChatTemplate) {
  const std::string text = "  What is 2+2?  ";
  const TokenizerConfig config = load_tokenizer_config(std::filesystem::path(llama3_dir()) / "tokenizer_config.json");
  ChatTemplateContext context;
  context.bos_token = config.bos_token;
  context.eos_token = config.eos_token;
  const std::string rendered = render_chat_template(config.chat_template, {{"user", text}}, true, context);
  EXPECT_EQ(rendered, "<|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|>");

  const CommandResult chat = run_slidesparse({"tokenize", "--model", llama3_dir(), "--chat", "--text", text});
  const CommandResult plain =
      run_slidesparse({"tokenize", "--model", llama3_dir(), "--no-special-tokens", "--text", rendered});
  ASSERT_EQ(chat.exit_code, 0) << chat.err;
  EXPECT_EQ(chat.out, plain.out);

  const std::string qwen_dir = (testing::test_data_dir() / "tokenizers" / "qwen2_style").string();
  expect_error(run_slidesparse({"tokenize", "--model", qwen_dir, "--chat", "--text", text}),
               qwen_dir + "/tokenizer_config.json not found: chat needs the model's chat template");
  expect_error(run_slidesparse({"tokenize", "--model", llama3_dir(), "--chat", "--decode", "--text", "1"}),
               "tokenize: --chat encodes; it cannot go with --decode");
}

}  // namespace
}  // namespace slidesparse
