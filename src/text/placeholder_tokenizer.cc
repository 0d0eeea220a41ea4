#include "text/placeholder_tokenizer.h"

#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "io/staged_directory.h"
#include "text/byte_level.h"

namespace slidesparse {

namespace {

// nlohmann::json (keys sorted in a std::map), not nlohmann::ordered_json: inserting 128k vocabulary
// entries into the ordered one is quadratic (10.6 s for a Llama-3-sized vocabulary, against 0.1 s).
using json = nlohmann::json;

constexpr char kBos[] = "<|begin_of_text|>", kEos[] = "<|end_of_text|>";

}  // namespace

void write_placeholder_tokenizer(const std::filesystem::path& dir, int64_t vocab_size, int64_t bos_id, int64_t eos_id) {
  const bool bos = bos_id >= 256 && bos_id < vocab_size, eos = eos_id >= 256 && eos_id < vocab_size;
  json vocab = json::object();
  for (int b = 0; b < 256 && b < vocab_size; ++b) vocab[to_byte_level(std::string(1, static_cast<char>(b)))] = b;
  for (int64_t id = 256; id < vocab_size; ++id)
    if (!(bos && id == bos_id) && !(eos && id == eos_id)) vocab["<t" + std::to_string(id) + ">"] = id;
  std::map<int64_t, std::string> specials;
  if (bos) specials[bos_id] = kBos;
  if (eos) specials[eos_id] = kEos;
  json added = json::array();
  for (const auto& [id, content] : specials)
    added.push_back({{"id", id}, {"content", content}, {"single_word", false}, {"lstrip", false}, {"rstrip", false},
                     {"normalized", false}, {"special", true}});
  json post = nullptr;
  if (bos)
    post = {{"type", "TemplateProcessing"},
            {"single", {{{"SpecialToken", {{"id", kBos}, {"type_id", 0}}}}, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
            {"pair", {{{"Sequence", {{"id", "A"}, {"type_id", 0}}}}, {{"Sequence", {{"id", "B"}, {"type_id", 1}}}}}},
            {"special_tokens", {{kBos, {{"id", kBos}, {"ids", {bos_id}}, {"tokens", {kBos}}}}}}};
  const json byte_level = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true},
                                   {"use_regex", true}};
  const json tokenizer = {
      {"version", "1.0"},
      {"truncation", nullptr},
      {"padding", nullptr},
      {"added_tokens", added},
      {"normalizer", nullptr},
      {"pre_tokenizer", byte_level},
      {"post_processor", post},
      {"decoder", byte_level},
      {"model",
       {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr}, {"continuing_subword_prefix", nullptr},
        {"end_of_word_suffix", nullptr}, {"fuse_unk", false}, {"byte_fallback", false}, {"ignore_merges", false},
        {"vocab", vocab}, {"merges", json::array()}}}};
  write_file_atomic(dir / "tokenizer.json", tokenizer.dump() + "\n");
  json config = {
      {"chat_template",
       "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + "
       "'<|im_end|>\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"},
      {"tokenizer_class", "PreTrainedTokenizerFast"}};
  if (bos) config["bos_token"] = kBos;
  if (eos) config["eos_token"] = kEos;
  write_file_atomic(dir / "tokenizer_config.json", config.dump(2) + "\n");
  json generation = json::object();
  if (bos) generation["bos_token_id"] = bos_id;
  generation["eos_token_id"] = eos ? json::array({eos_id}) : json::array();
  write_file_atomic(dir / "generation_config.json", generation.dump(2) + "\n");
}

}  // namespace slidesparse
