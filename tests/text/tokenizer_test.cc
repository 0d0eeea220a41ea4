#include "text/tokenizer.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "io/model_config.h"
#include "test_support.h"

namespace slidesparse {
namespace {

namespace fs = std::filesystem;
using Ids = std::vector<int32_t>;

fs::path tokenizers_dir() { return testing::test_data_dir() / "tokenizers"; }

// tests/data/tokenizers/expected_ids.json, written by tests/data/make_tokenizer_data.py with
// Hugging Face tokenizers.
const nlohmann::json& expected() {
  static const nlohmann::json json = read_json_file(tokenizers_dir() / "expected_ids.json");
  return json;
}

std::string from_hex(const std::string& hex) {
  std::string bytes;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) bytes += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  return bytes;
}

class TokenizerParity : public ::testing::TestWithParam<std::string> {
 protected:
  const Tokenizer tokenizer = Tokenizer::load(tokenizers_dir() / GetParam());
  const nlohmann::json& want = expected()["tokenizers"][GetParam()];
};

TEST_P(TokenizerParity, IdsMatchHuggingFaceOnTheWholeCorpus) {
  const auto& texts = expected()["texts"];
  ASSERT_GT(texts.size(), 30u);
  for (size_t i = 0; i < texts.size(); ++i) {
    const std::string text = texts[i].get<std::string>();
    EXPECT_EQ(tokenizer.encode(text), want["ids"][i].get<Ids>()) << "text " << i << ": " << text;
    EXPECT_EQ(tokenizer.encode(text, false), want["ids_no_special"][i].get<Ids>()) << "text " << i << ": " << text;
  }
}

TEST_P(TokenizerParity, DecodeMatchesHuggingFace) {
  for (size_t i = 0; i < expected()["texts"].size(); ++i) {
    const Ids ids = want["ids"][i].get<Ids>();
    EXPECT_EQ(tokenizer.decode(ids), want["decoded"][i].get<std::string>()) << "text " << i;
    EXPECT_EQ(tokenizer.decode(ids, true), want["decoded_skip_special"][i].get<std::string>()) << "text " << i;
  }
}

TEST_P(TokenizerParity, InvalidUtf8IsEncodedAsPythonsReplacementDecode) {
  for (const auto& c : want["invalid_utf8"])
    EXPECT_EQ(tokenizer.encode(from_hex(c["hex"].get<std::string>())), c["ids"].get<Ids>()) << c["hex"];
}

TEST_P(TokenizerParity, ByteTokensThatAreNotUtf8DecodeToReplacementCharacters) {
  for (const auto& c : want["byte_token_decodes"])
    EXPECT_EQ(tokenizer.decode(c["ids"].get<Ids>()), c["text"].get<std::string>()) << c["ids"].dump();
}

INSTANTIATE_TEST_SUITE_P(Fixtures, TokenizerParity, ::testing::Values("llama3_style", "gpt2_pairs", "gpt2_strings",
                                                                       "qwen2_style"));

TEST(Tokenizer, DecodeOfEncodeIsTheTextForValidUtf8) {
  const Tokenizer tokenizer = Tokenizer::load(tokenizers_dir() / "llama3_style" / "tokenizer.json");
  for (const auto& text : expected()["texts"])
    EXPECT_EQ(tokenizer.decode(tokenizer.encode(text.get<std::string>(), false)), text.get<std::string>());
}

TEST(Tokenizer, SpecialTokensInTextAndBos) {
  const Tokenizer tokenizer = Tokenizer::load(tokenizers_dir() / "llama3_style");
  const int32_t bos = *tokenizer.token_to_id("<|begin_of_text|>"), eot = *tokenizer.token_to_id("<|eot_id|>");
  const Ids ids = tokenizer.encode("<|eot_id|>");
  EXPECT_EQ(ids, (Ids{bos, eot}));
  EXPECT_EQ(tokenizer.encode("<|eot_id|>", false), (Ids{eot}));
  EXPECT_EQ(tokenizer.decode(ids, true), "");
  EXPECT_NE(tokenizer.encode("<|eot_id", false).front(), eot);
}

TEST(Tokenizer, NormalizedAddedTokensAreMatchedInNormalizedForm) {
  nlohmann::json json = read_json_file(tokenizers_dir() / "qwen2_style" / "tokenizer.json");
  const std::string decomposed = "A\xCC\x8Angstro\xCC\x88m";  // the added token "Ångström", decomposed
  json["added_tokens"].push_back({{"id", 804}, {"content", "x" + decomposed}, {"normalized", true}});
  json["decoder"] = nullptr;  // (the byte-level decoder would garble a token outside its alphabet)
  const Tokenizer tokenizer = Tokenizer::from_json(json, "qwen2");
  // Hugging Face's results: the token is matched and decoded in its NFC form.
  EXPECT_EQ(tokenizer.encode("x\xC3\x85ngstr\xC3\xB6m", false), (Ids{804}));
  EXPECT_EQ(tokenizer.encode("x" + decomposed, false), (Ids{804}));
  EXPECT_EQ(tokenizer.decode({804}), "x\xC3\x85ngstr\xC3\xB6m");
}

std::string load_error(const fs::path& path) {
  try {
    Tokenizer::load(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

nlohmann::json llama3_json() { return read_json_file(tokenizers_dir() / "llama3_style" / "tokenizer.json"); }

std::string error_for(nlohmann::json json) {
  testing::ScratchDir dir;
  testing::write_bytes(dir / "tokenizer.json", json.dump());
  const std::string message = load_error(dir.path());
  const std::string prefix = (dir / "tokenizer.json").string() + ": ";
  return message.rfind(prefix, 0) == 0 ? message.substr(prefix.size()) : message;
}

TEST(TokenizerErrors, OtherModelTypesAreNamed) {
  nlohmann::json json = llama3_json();
  json["model"] = {{"type", "WordPiece"}, {"unk_token", "[UNK]"}, {"vocab", {{"[UNK]", 0}}}};
  EXPECT_EQ(error_for(json), "model type 'WordPiece' is not supported (only BPE tokenizers are)");
  json["model"]["type"] = "Unigram";
  EXPECT_EQ(error_for(json), "model type 'Unigram' is not supported (only BPE tokenizers are)");
}

TEST(TokenizerErrors, UnsupportedPartsAreNamed) {
  nlohmann::json json = llama3_json();
  json["pre_tokenizer"]["pretokenizers"][0] = {{"type", "Metaspace"}};
  EXPECT_EQ(error_for(json),
            "pre-tokenizer type 'Metaspace' is not supported (supported: Split, ByteLevel, Sequence)");
  json = llama3_json();
  json["normalizer"] = {{"type", "Sequence"}, {"normalizers", {{{"type", "NFC"}}, {{"type", "Lowercase"}}}}};
  EXPECT_EQ(error_for(json), "normalizer 'Lowercase' is not supported (supported: NFC, Sequence, none)");
  json = llama3_json();
  json["decoder"] = {{"type", "WordPiece"}};
  EXPECT_EQ(error_for(json), "decoder type 'WordPiece' is not supported (supported: ByteLevel, none)");
}

TEST(TokenizerErrors, MissingAndMalformedFiles) {
  testing::ScratchDir dir;
  EXPECT_EQ(load_error(dir.path()), dir.path().string() + ": no tokenizer.json");
  EXPECT_EQ(load_error(dir / "missing"), (dir / "missing").string() + ": no such model directory or tokenizer.json");
  testing::write_bytes(dir / "tokenizer.model", "sentencepiece");
  EXPECT_EQ(load_error(dir.path()), dir.path().string() +
                                         ": holds only a SentencePiece tokenizer.model; a Hugging Face "
                                         "tokenizer.json (BPE) is needed");
  testing::write_bytes(dir / "tokenizer.json", "{\"model\": ");
  EXPECT_EQ(load_error(dir.path()), (dir / "tokenizer.json").string() + ": not valid JSON");
}

TEST(TokenizerErrors, DecodeOfAnIdOutsideTheVocabulary) {
  const Tokenizer tokenizer = Tokenizer::load(tokenizers_dir() / "gpt2_pairs");
  EXPECT_THROW(tokenizer.decode({1, 100000}), Error);
}

}  // namespace
}  // namespace slidesparse
