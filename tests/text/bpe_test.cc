#include "text/bpe.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace slidesparse {
namespace {

using Ids = std::vector<int32_t>;

nlohmann::json small_model(nlohmann::json merges) {
  return {{"type", "BPE"},
          {"vocab", {{"a", 0}, {"b", 1}, {"c", 2}, {"ab", 3}, {"bc", 4}, {"abc", 5}, {"cab", 6}}},
          {"merges", std::move(merges)}};
}

Ids encode(const BpeModel& model, const std::string& word) {
  Ids ids;
  model.encode_word(word, ids);
  return ids;
}

TEST(Bpe, LowestRankMergesFirstLeftmostOnTies) {
  const BpeModel bc_first = BpeModel::from_json(small_model({"b c", "a b", "a bc"}), "test");
  EXPECT_EQ(encode(bc_first, "abc"), (Ids{5}));      // b+c, then a+bc
  EXPECT_EQ(encode(bc_first, "abab"), (Ids{3, 3}));  // the same rank merges left to right
  const BpeModel ab_first = BpeModel::from_json(small_model({"a b", "b c"}), "test");
  EXPECT_EQ(encode(ab_first, "abc"), (Ids{3, 2}));   // ab blocks bc; no "ab c" merge
}

TEST(Bpe, MergesAsStringsOrPairsAreTheSame) {
  const BpeModel strings = BpeModel::from_json(small_model({"b c", "a bc", "a b", "c ab"}), "test");
  const BpeModel pairs = BpeModel::from_json(
      small_model(nlohmann::json::array({{"b", "c"}, {"a", "bc"}, {"a", "b"}, {"c", "ab"}})), "test");
  for (const std::string word : {"abc", "cab", "cabc", "bca", "aaa"})
    EXPECT_EQ(encode(strings, word), encode(pairs, word));
  EXPECT_EQ(encode(pairs, "cab"), (Ids{6}));  // a+b, then c+ab
}

TEST(Bpe, IgnoreMergesTakesAWholeWordFromTheVocabulary) {
  nlohmann::json spec = small_model({"a b"});  // no merge path to "cab"
  EXPECT_EQ(encode(BpeModel::from_json(spec, "test"), "cab"), (Ids{2, 3}));
  spec["ignore_merges"] = true;
  EXPECT_EQ(encode(BpeModel::from_json(spec, "test"), "cab"), (Ids{6}));
}

TEST(Bpe, UnknownCharactersUseUnkFusedOrDropped) {
  nlohmann::json spec = small_model({"a b"});
  // Without an unk token the characters are dropped (and what remains still merges).
  EXPECT_EQ(encode(BpeModel::from_json(spec, "test"), "axxb"), (Ids{3}));
  spec["vocab"]["<unk>"] = 7;
  spec["unk_token"] = "<unk>";
  EXPECT_EQ(encode(BpeModel::from_json(spec, "test"), "axxb"), (Ids{0, 7, 7, 1}));
  spec["fuse_unk"] = true;
  EXPECT_EQ(encode(BpeModel::from_json(spec, "test"), "axxb"), (Ids{0, 7, 1}));
}

TEST(Bpe, ByteFallbackSpellsUnknownCharactersAsBytes) {
  nlohmann::json spec = small_model({"a b"});
  spec["byte_fallback"] = true;
  spec["vocab"]["<0xC3>"] = 10;
  spec["vocab"]["<0xA9>"] = 11;
  EXPECT_EQ(encode(BpeModel::from_json(spec, "test"), "a\xC3\xA9"), (Ids{0, 10, 11}));
}

TEST(Bpe, MalformedModelsAreNamed) {
  EXPECT_THROW(BpeModel::from_json(small_model({"a z"}), "test"), Error);    // z not in the vocabulary
  EXPECT_THROW(BpeModel::from_json(small_model({"ab"}), "test"), Error);     // not two tokens
  nlohmann::json dropout = small_model({"a b"});
  dropout["dropout"] = 0.1;
  EXPECT_THROW(BpeModel::from_json(dropout, "test"), Error);
  nlohmann::json unk = small_model({"a b"});
  unk["unk_token"] = "<unk>";
  try {
    BpeModel::from_json(unk, "m/tokenizer.json");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "m/tokenizer.json: unk_token '<unk>' is not in the vocabulary");
  }
}

}  // namespace
}  // namespace slidesparse
