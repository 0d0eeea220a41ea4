// The post-processor of tokenizer.json for one sequence: TemplateProcessing's "single" template
// (special tokens around $A, e.g. Llama-3's <|begin_of_text|>), ByteLevel (offsets only, so ids pass
// unchanged) and a Sequence of them. Other types (BertProcessing, RobertaProcessing) are refused by name.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace slidesparse {

class PostProcessor {
 public:
  // `json` is tokenizer.json's "post_processor" (null: no special tokens are added).
  static PostProcessor from_json(const nlohmann::json& json, const std::string& source);

  // `ids` with the template's special tokens around them.
  std::vector<int32_t> add_special_tokens(const std::vector<int32_t>& ids) const;

 private:
  std::vector<int32_t> before_, after_;  // around $A; a Sequence nests later templates inside
};

}  // namespace slidesparse
