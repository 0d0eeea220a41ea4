// A Hugging Face tokenizer.json tokenizer, native (no Python at run time): the BPE tokenizers of
// GPT-2, Llama-3 / BitNet, Qwen2 and their relatives, id for id the output of the `tokenizers` library.
//
// Supported: model BPE (merges as "a b" strings or ["a", "b"] pairs, ignore_merges, unk / byte
// fallback); normalizer none or NFC; pre-tokenizers Split / ByteLevel / Sequence; added tokens with
// special, lstrip, rstrip, normalized and single_word; post-processors TemplateProcessing / ByteLevel /
// Sequence; decoders ByteLevel or none. Anything else (WordPiece, Unigram, WordLevel models, a
// SentencePiece-only directory, other normalizer, pre-tokenizer or decoder types) is refused at load
// time with one error naming what was found.
// Truncation and padding settings in the file are ignored, as transformers does by default.
//
// Input that is not valid UTF-8 is tokenized as Python would tokenize
// bytes.decode("utf-8", errors="replace"): each maximal ill-formed byte sequence becomes U+FFFD.
// decode() likewise turns byte-level tokens that do not form valid UTF-8 into U+FFFD.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "text/added_tokens.h"
#include "text/bpe.h"
#include "text/normalizer.h"
#include "text/post_processor.h"
#include "text/pre_tokenizer.h"

namespace slidesparse {

class Tokenizer {
 public:
  // `path`: a model directory holding tokenizer.json, or the file itself. Throws Error naming the
  // file and what is missing, malformed or unsupported.
  static Tokenizer load(const std::filesystem::path& path);
  // `source` names the file in error messages.
  static Tokenizer from_json(const nlohmann::json& json, const std::string& source);

  // add_special_tokens: apply the post-processor (Llama-3: prepend <|begin_of_text|>). Special
  // tokens written in the text are recognized either way, as in Hugging Face.
  std::vector<int32_t> encode(std::string_view text, bool add_special_tokens = true) const;
  // Throws Error for an id that is neither in the vocabulary nor an added token.
  std::string decode(const std::vector<int32_t>& ids, bool skip_special_tokens = false) const;

  // Added tokens first, then the model's vocabulary.
  std::optional<int32_t> token_to_id(std::string_view token) const;
  // Whether decode() knows the id. A model's embedding is often padded past the tokenizer's
  // vocabulary (to a multiple of 64 or 128); a model can still sample those ids.
  bool knows_id(int32_t id) const { return added_by_id_.count(id) || model_.id_to_token(id) != nullptr; }

 private:
  Tokenizer(BpeModel model, Normalizer normalizer, PreTokenizer pre_tokenizer, PostProcessor post_processor,
            std::vector<AddedToken> added_tokens, bool byte_level_decoder);

  void encode_plain_text(std::string_view text, std::vector<int32_t>& ids) const;

  BpeModel model_;
  Normalizer normalizer_;
  PreTokenizer pre_tokenizer_;
  PostProcessor post_processor_;
  AddedTokenMatcher raw_added_tokens_;         // normalized: false (special tokens): matched in the input
  AddedTokenMatcher normalized_added_tokens_;  // normalized: true: matched in the normalized text
  std::unordered_map<int32_t, AddedToken> added_by_id_;
  bool byte_level_decoder_;  // else tokens are joined with spaces, as Hugging Face does without a decoder
};

}  // namespace slidesparse
