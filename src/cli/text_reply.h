// One reply generated as text and printed as it arrives: what `generate --text` and `chat` share.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "serve/generation_backend.h"
#include "text/text_model.h"

namespace slidesparse {

struct TextReply {
  std::string text;  // what was printed
  int generated = 0;
};

// Adds `prompt` to the backend, steps it until the reply ends (the model's end-of-sequence token,
// a stop token of the tokenizer files unless params.ignore_eos, or max_tokens) and writes the text
// to `out` as it becomes final (special tokens skipped). Other requests of the backend are stepped
// along but not printed.
TextReply stream_text_reply(GenerationBackend& backend, const TextModel& text, const std::vector<int32_t>& prompt,
                            const SamplingParams& params, std::FILE* out);

}  // namespace slidesparse
