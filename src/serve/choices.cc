#include "serve/choices.h"

#include <algorithm>
#include <cstdio>
#include <exception>

#include "core/error.h"

namespace slidesparse {

using namespace std::chrono_literals;

Reply::Reply(const TextModel& text, const GenerationRequest& request, const std::vector<int32_t>& prompt,
             std::shared_ptr<RequestStream> stream)
    : stream_(std::move(stream)),
      text_(text.tokenizer(), prompt, request.skip_special_tokens),
      stops_(request.stop, request.include_stop_str_in_output),
      stop_token_ids_(request.stop_token_ids) {}

std::string Reply::pull(RequestHub& hub, std::chrono::milliseconds wait) {
  try {
    return pull_unchecked(hub, wait);
  } catch (const std::exception& e) {  // never into the HTTP library's thread: the reply ends here
    std::fprintf(stderr, "slidesparse serve: a reply failed: %s\n", e.what());
    done_ = true;
    finish_reason_ = "abort";
    hub.cancel(stream_);
    return "";
  }
}

std::string Reply::pull_unchecked(RequestHub& hub, std::chrono::milliseconds wait) {
  if (done_) return "";
  const StreamUpdate u = stream_->wait(wait);
  std::string out;
  for (int32_t token : u.tokens) {
    ++completion_tokens_;
    if (std::find(stop_token_ids_.begin(), stop_token_ids_.end(), token) != stop_token_ids_.end()) {
      const StopStrings::Out o = stops_.push(text_.finish());  // the text before it, not its own
      out += o.text + stops_.finish();
      done_ = true;
      finish_reason_ = "stop";
      hub.cancel(stream_);  // the engine may run a step more; its tokens are dropped
      return out;
    }
    const StopStrings::Out o = stops_.push(text_.push(token));
    out += o.text;
    if (o.stopped) {
      done_ = true;
      finish_reason_ = "stop";
      hub.cancel(stream_);  // the engine may run a step more; its tokens are dropped
      return out;
    }
  }
  if (u.finished) {
    const StopStrings::Out o = stops_.push(text_.finish());
    out += o.text + stops_.finish();
    done_ = true;
    finish_reason_ = o.stopped ? "stop" : u.finish_reason;
  }
  return out;
}

std::variant<EncodedPrompts, ApiError> encode_prompts(const GenerationRequest& request, const TextModel& text,
                                                      int vocab_size, int max_model_len) {
  EncodedPrompts out;
  try {
    if (request.endpoint == Endpoint::ChatCompletions) {
      out.ids.push_back(text.encode_chat(request.messages, request.chat));
      out.echoes.emplace_back();
    }
    for (const Prompt& p : request.prompts) {
      if (const auto* ids = std::get_if<std::vector<int32_t>>(&p)) {
        out.ids.push_back(*ids);
        out.echoes.push_back(request.echo ? text.tokenizer().decode(*ids, request.skip_special_tokens) : "");
      } else {
        out.ids.push_back(text.encode_prompt(std::get<std::string>(p)));
        out.echoes.push_back(request.echo ? std::get<std::string>(p) : "");
      }
    }
  } catch (const Error& e) {
    return ApiError{400, e.what(), "invalid_request_error", std::nullopt};
  }
  if (request.truncate_prompt_tokens != 0) {
    const size_t keep = static_cast<size_t>(request.truncate_prompt_tokens > 0 ? request.truncate_prompt_tokens
                                                                               : max_model_len);
    for (auto& prompt : out.ids)
      if (prompt.size() > keep) prompt.erase(prompt.begin(), prompt.end() - static_cast<std::ptrdiff_t>(keep));
  }
  for (const auto& prompt : out.ids) {
    for (int32_t t : prompt)
      if (t < 0 || t >= vocab_size)
        return ApiError{400,
                        "token id " + std::to_string(t) + " is outside the vocabulary of " + std::to_string(vocab_size),
                        "invalid_request_error", "prompt"};
    auto budget = completion_budget(request, static_cast<int>(prompt.size()), max_model_len);
    if (auto* e = std::get_if<ApiError>(&budget)) return *e;
    out.max_tokens.push_back(std::get<int>(budget));
  }
  return out;
}

Usage Choices::usage() const {
  Usage u{prompt_tokens, 0};
  for (const auto& r : replies) u.completion_tokens += r->completion_tokens();
  return u;
}

void Choices::cancel(RequestHub& hub) const {
  for (const auto& r : replies)
    if (!r->done()) hub.cancel(r->stream());
}

std::shared_ptr<Choices> submit_choices(const GenerationRequest& request, const EncodedPrompts& prompts,
                                        RequestHub& hub, const TextModel& text) {
  std::vector<RequestHub::Request> requests;
  for (size_t i = 0; i < prompts.ids.size(); ++i) {
    SamplingParams params = request.sampling;
    params.max_tokens = prompts.max_tokens[i];
    for (int j = 0; j < request.n; ++j) requests.push_back({prompts.ids[i], params});
  }
  const std::vector<std::shared_ptr<RequestStream>> streams = hub.submit_all(std::move(requests));
  auto choices = std::make_shared<Choices>();
  for (size_t i = 0; i < prompts.ids.size(); ++i) {
    choices->prompt_tokens += static_cast<int>(prompts.ids[i].size());
    for (int j = 0; j < request.n; ++j) {
      const size_t c = i * static_cast<size_t>(request.n) + static_cast<size_t>(j);
      choices->replies.push_back(std::make_shared<Reply>(text, request, prompts.ids[i], streams[c]));
      choices->echoes.push_back(prompts.echoes[i]);
    }
  }
  return choices;
}

ChoiceStreamer::ChoiceStreamer(std::shared_ptr<const GenerationRequest> request, std::shared_ptr<Choices> choices,
                               std::string id, int64_t created)
    : request_(std::move(request)), choices_(std::move(choices)), id_(std::move(id)), created_(created),
      first_(choices_->replies.size(), true), finished_(choices_->replies.size(), false) {}

ChoiceStreamer::Step ChoiceStreamer::next(RequestHub& hub, const Write& write) {
  const auto& replies = choices_->replies;
  bool waited = false;
  for (size_t c = 0; c < replies.size(); ++c) {
    if (finished_[c]) continue;
    Reply& reply = *replies[c];
    std::string text = reply.pull(hub, waited ? 0ms : 100ms);
    waited = true;
    if (first_[c]) text = choices_->echoes[c] + text;
    const int index = static_cast<int>(c);
    // A choice's first chunk goes out with its first text (or its end), not before: a client times
    // its first token by it.
    if (!text.empty() || (first_[c] && reply.done())) {
      if (!write(sse_event(
              stream_chunk(*request_, id_, created_, index, text, first_[c], std::nullopt, choices_->usage()))))
        return Step::WriteFailed;
      first_[c] = false;
    }
    if (reply.done()) {
      finished_[c] = true;
      if (!write(sse_event(
              stream_chunk(*request_, id_, created_, index, "", false, reply.finish_reason(), choices_->usage()))))
        return Step::WriteFailed;
    }
  }
  if (std::find(finished_.begin(), finished_.end(), false) != finished_.end()) return Step::More;
  if (request_->stream_include_usage && !write(sse_event(usage_chunk(*request_, id_, created_, choices_->usage()))))
    return Step::WriteFailed;
  if (!write(sse_done())) return Step::WriteFailed;
  return Step::Done;
}

}  // namespace slidesparse
