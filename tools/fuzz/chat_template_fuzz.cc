// Chat templates (text/chat_template.h) from a checkpoint's tokenizer_config.json: any source renders
// or fails with one Error; output is bounded (no template here loops without end).
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_support.h"
#include "text/chat_template.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace slidesparse;
  const std::string source(reinterpret_cast<const char*>(data), size);
  const std::vector<ChatMessage> messages{
      {"system", "be brief"}, {"user", "hi {{ there }}"}, {"assistant", "ok"}, {"user", "again"}};
  ChatTemplateContext context;
  context.bos_token = "<s>";
  context.eos_token = "</s>";
  context.variables.emplace_back("enable_thinking", nlohmann::ordered_json(true));
  fuzz::expect_only_errors("chat template", [&] {
    if (render_chat_template(source, messages, true, context).size() > (size_t{1} << 26)) std::abort();
  });
  return 0;
}
