// Tokenizers (text/tokenizer.h) on any bytes a request's text can hold: encode takes every byte
// string (ill-formed UTF-8 included) without an error, and decode any id list, refusing unknown ids
// with one Error. The first input byte picks the tokenizer and the options.
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "fuzz_support.h"
#include "text/tokenizer.h"

namespace {
std::vector<slidesparse::Tokenizer> tokenizers;
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const char* data = std::getenv("SLIDESPARSE_TOKENIZER_DATA");  // tests/data/tokenizers
  if (!data) {
    std::fprintf(stderr, "tokenizer_fuzz: set SLIDESPARSE_TOKENIZER_DATA to tests/data/tokenizers\n");
    std::exit(2);
  }
  for (const char* name : {"llama3_style", "qwen2_style", "gpt2_pairs"})
    tokenizers.push_back(slidesparse::Tokenizer::load(std::string(data) + "/" + name + "/tokenizer.json"));
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace slidesparse;
  if (size == 0) return 0;
  const Tokenizer& t = tokenizers[data[0] % tokenizers.size()];
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  try {
    (void)t.decode(t.encode(text, data[0] & 4), data[0] & 8);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "encode or decode of its own ids threw: %s\n", e.what());
    std::abort();
  }
  std::vector<int32_t> ids;
  for (size_t i = 1; i + 4 <= size; i += 4) {
    int32_t id;
    std::memcpy(&id, data + i, 4);
    ids.push_back(id);
  }
  fuzz::expect_only_errors("decode", [&] { (void)t.decode(ids, data[0] & 16); });
  return 0;
}
