#include "cli/text_reply.h"

#include "text/text_stream.h"

namespace slidesparse {

TextReply stream_text_reply(GenerationBackend& backend, const TextModel& text, const std::vector<int32_t>& prompt,
                            const SamplingParams& params, std::FILE* out) {
  const int64_t id = backend.add(prompt, params);
  TextStream stream(text.tokenizer(), prompt, /*skip_special_tokens=*/true);
  TextReply reply;
  const auto print = [&](const std::string& piece) {
    reply.text += piece;
    std::fputs(piece.c_str(), out);
  };
  for (bool done = false; !done && !backend.idle();)
    for (const TokenEvent& e : backend.step()) {
      if (e.request != id) continue;
      ++reply.generated;
      const bool stop_token = text.stop_token_ids().count(e.token) && !params.ignore_eos;
      print(stream.push(e.token));
      if (e.finished || stop_token) {
        print(stream.finish());
        if (!e.finished) backend.abort(id);
        done = true;
      }
      std::fflush(out);
    }
  return reply;
}

}  // namespace slidesparse
