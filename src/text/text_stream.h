// Incremental detokenization for streaming: text of a growing token sequence, handed out as soon as
// it is final. Byte-level BPE tokens may end inside a UTF-8 character (an emoji often spans several
// tokens), and a token can change how the previous ones decode; so the text of a short window of
// recent tokens is decoded again each time, and only what no later token can change is released:
// never a trailing U+FFFD of an unfinished character.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "text/tokenizer.h"

namespace slidesparse {

class TextStream {
 public:
  // `prompt`: tokens before the generated ones (their text is not released; they give the first
  // generated tokens their context). The tokenizer must outlive the stream.
  TextStream(const Tokenizer& tokenizer, std::vector<int32_t> prompt, bool skip_special_tokens);

  // Appends a token; returns the text that became final with it (often empty or one token's text).
  // An id the tokenizer does not know (the model's vocabulary padded past the tokenizer's) has no
  // text, as in Hugging Face's decode.
  std::string push(int32_t token);
  // At the end of the sequence: whatever is still held back (an unfinished character's U+FFFD).
  std::string finish();

 private:
  const Tokenizer& tokenizer_;
  bool skip_special_;
  std::vector<int32_t> tokens_;
  size_t prefix_ = 0;  // window start: decoding tokens_[prefix_..] is stable from here on
  size_t read_ = 0;    // tokens_[prefix_..read_) decode to the text already released
};

}  // namespace slidesparse
