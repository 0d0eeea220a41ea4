// The normalizer of tokenizer.json, applied to the text between special tokens before the
// pre-tokenizer: none, NFC (Qwen2; Unicode canonical composition through utf8proc) or a Sequence of
// them. Other normalizers (NFKC, Lowercase, Replace, Prepend, ...) are refused by name.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace slidesparse {

class Normalizer {
 public:
  // `json` is tokenizer.json's "normalizer" (null: the identity); `source` names the file.
  static Normalizer from_json(const nlohmann::json& json, const std::string& source);

  // `text` must be valid UTF-8.
  std::string normalize(std::string_view text) const;

 private:
  bool nfc_ = false;  // NFC is idempotent, so a Sequence holding it several times applies it once
};

// Unicode Normalization Form C of valid UTF-8 text.
std::string to_nfc(std::string_view text);

}  // namespace slidesparse
