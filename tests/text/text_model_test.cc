// A checkpoint's text side: conversations through its chat template with the options of a chat
// request (no generation prompt, continuing the final message, extra template variables).
#include "text/text_model.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/error.h"
#include "test_support.h"

namespace slidesparse {
namespace {

namespace fs = std::filesystem;

fs::path tokenizers() { return testing::test_data_dir() / "tokenizers"; }

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// A model directory with the tiny ChatML tokenizer and the chat template given.
fs::path model_with_template(const testing::ScratchDir& dir, const std::string& chat_template) {
  const fs::path model = dir.path() / "model";
  fs::create_directories(model);
  fs::copy_file(tokenizers() / "tiny_chat" / "tokenizer.json", model / "tokenizer.json");
  testing::write_bytes(model / "tokenizer_config.json",
                       nlohmann::json{{"bos_token", "<s>"}, {"chat_template", chat_template}}.dump());
  return model;
}

TEST(TextModelChat, ContinuingTheFinalMessageEndsThePromptInsideIt) {
  const TextModel chatml = TextModel::load(tokenizers() / "tiny_chat");
  const std::vector<ChatMessage> messages{{"user", "Hi"}, {"assistant", "The answer is"}};
  EXPECT_EQ(chatml.render_chat(messages),
            "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nThe answer is<|im_end|>\n<|im_start|>assistant\n");
  ChatOptions options;
  options.add_generation_prompt = false;
  EXPECT_EQ(chatml.render_chat(messages, options),
            "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nThe answer is<|im_end|>\n");
  options.continue_final_message = true;
  EXPECT_EQ(chatml.render_chat(messages, options),
            "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nThe answer is");
  EXPECT_EQ(chatml.encode_chat(messages, options),
            chatml.tokenizer().encode("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nThe answer is", false));
  // The last occurrence of the content is the final message's, even if an earlier one repeats it.
  EXPECT_EQ(chatml.render_chat({{"user", "same"}, {"assistant", "same"}}, options),
            "<|im_start|>user\nsame<|im_end|>\n<|im_start|>assistant\nsame");

  // A template that trims contents (Llama 3's): the cut falls after the trimmed content.
  const TextModel llama = TextModel::load(tokenizers() / "llama3_style");
  EXPECT_EQ(llama.render_chat({{"user", "Hi"}, {"assistant", "  Sure, "}}, options),
            "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant"
            "<|end_header_id|>\n\nSure,");
}

TEST(TextModelChat, TemplateVariablesReachTheTemplateAndOverrideItsDefaults) {
  testing::ScratchDir dir;
  const TextModel model = TextModel::load(
      model_with_template(dir, "{{ bos_token }}{% if verbose %}[{{ tags | join(',') }}]{% endif %}"
                               "{% for m in messages %}{{ m.content }}{% endfor %}"));
  EXPECT_EQ(model.render_chat({{"user", "x"}}), "<s>x");
  ChatOptions options;
  options.template_variables = {{"verbose", true}, {"tags", nlohmann::ordered_json::array({"b", "a"})},
                                {"bos_token", "<B>"}};
  EXPECT_EQ(model.render_chat({{"user", "x"}}, options), "<B>[b,a]x");
}

TEST(TextModelChat, OptionMistakesAreOneError) {
  const TextModel chatml = TextModel::load(tokenizers() / "tiny_chat");
  ChatOptions both;
  both.continue_final_message = true;
  EXPECT_EQ(error_of([&] { chatml.render_chat({{"user", "a"}}, both); }),
            "continue_final_message and add_generation_prompt cannot both be set: the first continues the final "
            "message, the second starts a new assistant message");
  ChatOptions continued;
  continued.add_generation_prompt = false;
  continued.continue_final_message = true;
  EXPECT_EQ(error_of([&] { chatml.render_chat({}, continued); }), "continue_final_message needs a message to continue");
  testing::ScratchDir dir;
  const TextModel upper =
      TextModel::load(model_with_template(dir, "{% for m in messages %}{{ m.content | upper }}{% endfor %}"));
  EXPECT_EQ(error_of([&] { upper.render_chat({{"user", "abc"}}, continued); }),
            "continue_final_message: the chat template does not render the final message's content verbatim");
}

}  // namespace
}  // namespace slidesparse
