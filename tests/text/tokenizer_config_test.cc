#include "text/tokenizer_config.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "test_support.h"
#include "text/tokenizer.h"

namespace slidesparse {
namespace {

std::filesystem::path llama3_dir() { return testing::test_data_dir() / "tokenizers" / "llama3_style"; }

TEST(TokenizerConfig, ReadsLlamaThreeStyleFiles) {
  const TokenizerConfig config = load_tokenizer_config(llama3_dir() / "tokenizer_config.json");
  EXPECT_EQ(config.bos_token, "<|begin_of_text|>");  // a plain string
  EXPECT_EQ(config.eos_token, "<|eot_id|>");         // an AddedToken object
  EXPECT_FALSE(config.pad_token.has_value());
  EXPECT_EQ(config.add_bos_token, true);
  EXPECT_FALSE(config.add_eos_token.has_value());
  EXPECT_NE(config.chat_template.find("<|start_header_id|>"), std::string::npos);

  const Tokenizer tokenizer = Tokenizer::load(llama3_dir());
  ASSERT_EQ(config.added_tokens_decoder.size(), 5u);
  const int32_t eot = *tokenizer.token_to_id("<|eot_id|>");
  EXPECT_EQ(config.added_tokens_decoder.at(eot).content, "<|eot_id|>");
  EXPECT_TRUE(config.added_tokens_decoder.at(eot).special);

  const GenerationConfig generation = load_generation_config(llama3_dir() / "generation_config.json");
  EXPECT_EQ(generation.bos_token_id, tokenizer.token_to_id("<|begin_of_text|>"));
  EXPECT_EQ(generation.eos_token_ids, (std::vector<int32_t>{*tokenizer.token_to_id("<|end_of_text|>"), eot}));
}

TEST(TokenizerConfig, EosIdAsOneIntegerOrAList) {
  EXPECT_EQ(parse_generation_config({{"eos_token_id", 2}}, "g").eos_token_ids, (std::vector<int32_t>{2}));
  EXPECT_EQ(parse_generation_config({{"eos_token_id", {7, 9}}}, "g").eos_token_ids, (std::vector<int32_t>{7, 9}));
  EXPECT_TRUE(parse_generation_config(nlohmann::json::object(), "g").eos_token_ids.empty());
  EXPECT_THROW(parse_generation_config({{"eos_token_id", "</s>"}}, "g"), Error);
  EXPECT_THROW(parse_generation_config({{"eos_token_id", {1, -1}}}, "g"), Error);
}

TEST(TokenizerConfig, NamedChatTemplatesAndBadFields) {
  const nlohmann::json named = {{"chat_template", {{{"name", "tool_use"}, {"template", "T"}},
                                                   {{"name", "default"}, {"template", "D"}}}}};
  EXPECT_EQ(parse_tokenizer_config(named, "c").chat_template, "D");
  EXPECT_EQ(parse_tokenizer_config(nlohmann::json::object(), "c").chat_template, "");
  EXPECT_THROW(parse_tokenizer_config({{"eos_token", 5}}, "c"), Error);
  EXPECT_THROW(parse_tokenizer_config({{"add_bos_token", "yes"}}, "c"), Error);
  EXPECT_THROW(parse_tokenizer_config({{"added_tokens_decoder", {{"x1", {{"content", "a"}}}}}}, "c"), Error);
}

}  // namespace
}  // namespace slidesparse
