// Random inputs through the tokenizers and the streamed detokenizer (fixed seeds, so a failure
// reproduces): byte-level BPE gives back valid UTF-8 as its normalizer leaves it, any byte string
// encodes as its replacement-decoded text, and streaming random ids hands out exactly the decode of
// them all, never half a character.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "io/model_config.h"
#include "test_support.h"
#include "text/normalizer.h"
#include "text/text_stream.h"
#include "text/tokenizer.h"
#include "text/utf8.h"

namespace slidesparse {
namespace {

// Text mixing ASCII (letters, digits, spaces, newlines, punctuation of every pre-tokenizer rule),
// Latin with diacritics, combining marks, CJK, emoji with joiners, and characters outside the BMP.
std::string random_text(std::mt19937& rng, size_t max_chars) {
  static const char32_t pools[][8] = {
      {U'a', U'Z', U' ', U'\n', U'7', U'\'', U'.', U'\t'},
      {U'é', U'ö', U'ß', U'Ł', U'ñ', U'ç', U'å', U'ø'},
      {0x0301, 0x0308, 0x0327, U'e', U'o', 0x200D, 0xFE0F, U' '},
      {U'ふ', U'り', U'漢', U'字', U'한', U'글', U'。', U'、'},
      {0x1F600, 0x1F469, 0x1F467, 0x1F44D, 0x1F3FD, 0x10348, 0x1D11E, 0x2764}};
  std::string out;
  const size_t n = rng() % (max_chars + 1);
  for (size_t i = 0; i < n; ++i) {
    const auto& pool = pools[rng() % std::size(pools)];
    append_utf8(out, pool[rng() % 8]);
    if (rng() % 11 == 0) out += "'s";  // contractions
  }
  return out;
}

class RandomText : public ::testing::TestWithParam<std::string> {
 protected:
  const std::filesystem::path file = testing::test_data_dir() / "tokenizers" / GetParam() / "tokenizer.json";
  const Tokenizer tokenizer = Tokenizer::load(file);
  // What decoding gives back: the text as the tokenizer's normalizer (NFC for Qwen2) leaves it.
  const Normalizer normalizer = Normalizer::from_json(read_json_file(file).value("normalizer", nlohmann::json()),
                                                      file.string());
};

TEST_P(RandomText, DecodeOfEncodeIsTheText) {
  std::mt19937 rng(17);
  for (int i = 0; i < 400; ++i) {
    const std::string text = random_text(rng, 60);
    const std::vector<int32_t> ids = tokenizer.encode(text, false);
    EXPECT_EQ(tokenizer.decode(ids), normalizer.normalize(text)) << "case " << i;
  }
}

TEST_P(RandomText, AnyBytesEncodeAsTheirReplacementDecode) {
  std::mt19937 rng(23);
  for (int i = 0; i < 400; ++i) {
    std::string bytes(rng() % 64, '\0');
    for (char& c : bytes) c = static_cast<char>(rng() % 4 == 0 ? 0x80 + rng() % 64 : rng() % 256);
    EXPECT_EQ(tokenizer.encode(bytes, false), tokenizer.encode(to_valid_utf8(bytes), false)) << "case " << i;
    EXPECT_EQ(tokenizer.decode(tokenizer.encode(bytes, false)), normalizer.normalize(to_valid_utf8(bytes)))
        << "case " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, RandomText, ::testing::Values("llama3_style", "qwen2_style", "tiny_chat"));

// tests/data/tokenizers/random_ids.json (tests/data/make_random_tokenizer_texts.py): random texts
// encoded and decoded by Hugging Face tokenizers with the same tokenizer.json files.
class RandomParity : public ::testing::TestWithParam<std::string> {
 protected:
  static const nlohmann::json& expected() {
    static const nlohmann::json json =
        read_json_file(testing::test_data_dir() / "tokenizers" / "random_ids.json");
    return json;
  }
  const Tokenizer tokenizer = Tokenizer::load(testing::test_data_dir() / "tokenizers" / GetParam());
  const nlohmann::json& want = expected()["tokenizers"][GetParam()];
};

TEST_P(RandomParity, IdsAndDecodesMatchHuggingFace) {
  const auto& texts = expected()["texts"];
  ASSERT_EQ(texts.size(), 250u);
  for (size_t i = 0; i < texts.size(); ++i) {
    const std::string text = texts[i].get<std::string>();
    const std::vector<int32_t> ids = tokenizer.encode(text);
    EXPECT_EQ(ids, want["ids"][i].get<std::vector<int32_t>>()) << "text " << i << ": " << text;
    EXPECT_EQ(tokenizer.encode(text, false), want["ids_no_special"][i].get<std::vector<int32_t>>()) << "text " << i;
    EXPECT_EQ(tokenizer.decode(ids, true), want["decoded_skip_special"][i].get<std::string>()) << "text " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, RandomParity,
                         ::testing::Values("llama3_style", "gpt2_pairs", "gpt2_strings", "qwen2_style"));

// Random ids (special ones included) streamed one by one after a prompt: the pieces join to the
// decode of all of them, and no piece but the last ends inside a character.
TEST(RandomText, StreamedIdsJoinToTheirDecode) {
  const Tokenizer tokenizer = Tokenizer::load(testing::test_data_dir() / "tokenizers" / "tiny_chat");
  std::mt19937 rng(29);
  for (int i = 0; i < 300; ++i) {
    const std::vector<int32_t> prompt = tokenizer.encode(random_text(rng, 8), true);
    std::vector<int32_t> ids(rng() % 40);
    for (int32_t& id : ids) id = static_cast<int32_t>(rng() % 500);  // the tokenizer's ids
    for (const bool skip : {true, false}) {
      TextStream stream(tokenizer, prompt, skip);
      std::string joined;
      for (int32_t id : ids) {
        const std::string piece = stream.push(id);
        EXPECT_TRUE(is_valid_utf8(piece)) << "case " << i;
        joined += piece;
      }
      joined += stream.finish();
      EXPECT_EQ(joined, to_valid_utf8(tokenizer.decode(ids, skip))) << "case " << i << (skip ? " skip" : "");
    }
  }
}

}  // namespace
}  // namespace slidesparse
