// The BPE model of tokenizer.json: vocabulary, ranked merges and Hugging Face's rules for one
// pre-token (ignore_merges, unk_token / fuse_unk, byte_fallback, continuing_subword_prefix,
// end_of_word_suffix). Dropout (random merges at encode time) is refused.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

namespace slidesparse {

class BpeModel {
 public:
  // `json` is tokenizer.json's "model" with type BPE; merges as "a b" strings or ["a", "b"] pairs.
  // Throws Error "<source>: ..." naming a malformed field or a merge / unk token outside the vocabulary.
  static BpeModel from_json(const nlohmann::json& json, const std::string& source);

  // Appends the ids of one pre-token (already in the vocabulary's alphabet, e.g. byte-level).
  void encode_word(std::string_view word, std::vector<int32_t>& ids) const;

  std::optional<int32_t> token_to_id(std::string_view token) const;
  const std::string* id_to_token(int32_t id) const;  // nullptr outside the vocabulary
  size_t vocab_size() const { return vocab_.size(); }

 private:
  struct Merge {
    int32_t rank, merged_id;
  };
  static uint64_t pair_key(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
  }
  // The symbols of `word` before any merge: one per character (with prefix / suffix), unknown
  // characters as byte-fallback tokens, the unk token or dropped.
  std::vector<int32_t> initial_symbols(std::string_view word) const;
  std::vector<int32_t> apply_merges(std::vector<int32_t> symbols) const;

  std::unordered_map<std::string, int32_t> vocab_;
  std::unordered_map<int32_t, std::string> tokens_;
  std::unordered_map<uint64_t, Merge> merges_;
  std::optional<int32_t> unk_id_;
  std::string continuing_subword_prefix_, end_of_word_suffix_;
  bool fuse_unk_ = false, byte_fallback_ = false, ignore_merges_ = false;
};

}  // namespace slidesparse
