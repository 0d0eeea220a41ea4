#include "text/chat_template.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

#include "core/error.h"
#include "test_support.h"

namespace slidesparse {
namespace {

std::filesystem::path templates_dir() { return testing::test_data_dir() / "chat_templates"; }

std::string template_text(const std::string& name) {
  return testing::read_text(templates_dir() / (name + ".jinja"));
}

// The message of the Error that rendering `source` with one user message throws ("" if none).
std::string render_error(const std::string& source) {
  try {
    render_chat_template(source, {{"user", "hi"}}, true, {});
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// tests/data/chat_templates/expected.json, written by tests/data/make_chat_template_data.py with jinja2
// configured as transformers' apply_chat_template.
TEST(ChatTemplate, MatchesJinjaByteForByte) {
  const auto expected = nlohmann::ordered_json::parse(testing::read_text(templates_dir() / "expected.json"));
  std::map<std::string, ChatTemplate> templates;
  size_t checked = 0;
  for (const auto& c : expected["cases"]) {
    const std::string name = c["template"];
    if (!templates.count(name)) templates.emplace(name, ChatTemplate(template_text(name)));
    std::vector<ChatMessage> messages;
    for (const auto& m : c["messages"]) messages.push_back({m["role"], m["content"]});
    ChatTemplateContext context;
    if (!c["context"]["bos_token"].is_null()) context.bos_token = c["context"]["bos_token"];
    if (!c["context"]["eos_token"].is_null()) context.eos_token = c["context"]["eos_token"];
    if (!c["tools"].is_null()) context.tools = c["tools"];
    const std::string rendered = templates.at(name).render(messages, c["add_generation_prompt"], context);
    EXPECT_EQ(rendered, c["expected"].get<std::string>())
        << name << " / " << c["conversation"] << " / add_generation_prompt=" << c["add_generation_prompt"];
    ++checked;
  }
  EXPECT_EQ(checked, 56u);
}

// Random conversations through the real templates: message text that looks like template syntax,
// quotes, newlines and any Unicode is data, rendered verbatim inside the conversation.
TEST(ChatTemplate, RandomMessagesAreRenderedVerbatim) {
  std::mt19937 rng(37);
  const char* pieces[] = {"{{", "}}", "{%", "%}", "{#", "#}", "{{ raise_exception('x') }}", "'", "\"", "\n", "\\",
                          " ", "<|eot_id|>", "<|im_end|>", "hello", "ß", "漢字", "😀", "\t", "endfor", "|trim"};
  for (const char* name : {"llama3_instruct", "qwen2_5", "bitnet_b158_2b4t"}) {
    const ChatTemplate chat(template_text(name));
    ChatTemplateContext context;
    context.bos_token = "<s>";
    context.eos_token = "</s>";
    for (int i = 0; i < 150; ++i) {
      std::vector<ChatMessage> messages;
      if (rng() % 2) messages.push_back({"system", ""});
      for (int m = 0, n = 1 + static_cast<int>(rng() % 4); m < n; ++m)
        messages.push_back({m % 2 ? "assistant" : "user", ""});
      for (ChatMessage& msg : messages) {
        msg.content = "x";  // no whitespace at either end: templates may trim it
        for (int k = 0, n = static_cast<int>(rng() % 8); k < n; ++k) msg.content += pieces[rng() % std::size(pieces)];
        msg.content += "x";
      }
      if (messages.back().role == "assistant") messages.push_back({"user", "x?x"});
      std::string rendered;
      ASSERT_NO_THROW(rendered = chat.render(messages, true, context)) << name << " case " << i;
      for (const ChatMessage& msg : messages)
        EXPECT_NE(rendered.find(msg.content), std::string::npos) << name << " case " << i << ": " << msg.content;
    }
  }
}

TEST(ChatTemplate, UnsupportedTagIsOneErrorNamingItAndItsPosition) {
  EXPECT_EQ(render_error("ab\n  {% macro greet(x) %}hi{% endmacro %}"),
            "chat template: line 2, column 3: unsupported tag '{% macro %}'");
  EXPECT_EQ(render_error("{% include 'other.jinja' %}"),
            "chat template: line 1, column 1: unsupported tag '{% include %}'");
  EXPECT_EQ(render_error("{{ messages[0].content | wordwrap(10) }}"),
            "chat template: line 1, column 26: unsupported filter 'wordwrap'");
  EXPECT_EQ(render_error("{{ 3 is prime }}"), "chat template: line 1, column 9: unsupported test 'prime'");
  EXPECT_EQ(render_error("{{ 'x'.zfill(3) }}"),
            "chat template: line 1, column 7: unsupported method 'zfill' on a value of type string");
}

TEST(ChatTemplate, RaiseExceptionSurfacesTheTemplatesMessage) {
  const std::string source =
      "{% for m in messages %}{% if m.role == 'user' %}"
      "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}"
      "{% endif %}{% endfor %}";
  EXPECT_EQ(render_error(source),
            "chat template: line 1, column 52: raise_exception: Conversation roles must alternate "
            "user/assistant/user/assistant/...");
}

TEST(ChatTemplate, MalformedTemplatesAreOneClearError) {
  EXPECT_EQ(render_error("hello {{ messages"), "chat template: line 1, column 7: tag '{{' is never closed with '}}'");
  EXPECT_EQ(render_error("{% if true %}open"),
            "chat template: line 1, column 18: unexpected end of template: expected '{% endif %}'");
  EXPECT_EQ(render_error("{# never closed"), "chat template: line 1, column 1: comment '{#' is never closed with '#}'");
  EXPECT_EQ(render_error("{% endfor %}"), "chat template: line 1, column 1: unexpected tag '{% endfor %}'");
  EXPECT_EQ(render_error("{{ 'abc }}"), "chat template: line 1, column 4: string literal is never closed");
}

// Literals Python reads (unbounded integers, floats past the double range) or refuses (escapes of
// no character): ours give Python's value or one error with the position, never another exception.
TEST(ChatTemplate, LiteralsOutsideTheirRange) {
  EXPECT_EQ(render_error("{{ 99999999999999999999 }}"),
            "chat template: line 1, column 4: integer literal 99999999999999999999 outside the 64-bit range");
  EXPECT_EQ(render_chat_template("{{ 9223372036854775807 }}|{{ 1e999 }}|{{ 1e-400 }}|{{ 1_000 }}", {}, false, {}),
            "9223372036854775807|inf|0.0|1000");
  EXPECT_EQ(render_error("{{ '\\U00110000' }}"),
            "chat template: line 1, column 4: \\U escape beyond U+10FFFF in string");
  EXPECT_EQ(render_error("{{ 'a\\ud800' }}"), "chat template: line 1, column 4: escape of a lone surrogate in string");
  EXPECT_EQ(render_chat_template("{{ '\\U0010FFFF\\u00e9' }}", {}, false, {}), "\U0010FFFF\u00e9");
}

// A namespace that holds itself prints as Python's repr prints a dict inside itself (jinja2's text).
TEST(ChatTemplate, ANamespaceInsideItselfPrintsOnce) {
  const std::string source =
      "{%- set ns = namespace(a=1) %}{%- set ns.me = ns %}{%- set ns.l = [ns, {'k': ns}] %}{{ ns }}|{{ [ns] }}";
  const std::string once =
      "<Namespace {'a': 1, 'me': <Namespace {...}>, 'l': [<Namespace {...}>, {'k': <Namespace {...}>}]}>";
  EXPECT_EQ(render_chat_template(source, {}, false, {}), once + "|[" + once + "]");
}

TEST(ChatTemplate, UndefinedBehavesAsJinjaDefault) {
  const std::string source = "[{{ nothing }}|{{ nothing is defined }}|{{ 'yes' if nothing else 'no' }}|"
                             "{{ nothing | length }}|{% for x in nothing %}x{% endfor %}]";
  EXPECT_EQ(render_chat_template(source, {}, false, {}), "[|False|no|0|]");
  EXPECT_EQ(render_error("{{ nothing.attr }}"), "chat template: line 1, column 11: 'nothing' is undefined");
  EXPECT_EQ(render_error("{{ nothing + 1 }}"), "chat template: line 1, column 12: 'nothing' is undefined");
}

TEST(ChatTemplate, SetInsideALoopDoesNotLeakButNamespaceDoes) {
  const std::string source =
      "{% set x = 'outer' %}{% set ns = namespace(seen=0) %}"
      "{% for m in messages %}{% set x = m.role %}{% set ns.seen = ns.seen + 1 %}{% endfor %}{{ x }} {{ ns.seen }}";
  EXPECT_EQ(render_chat_template(source, {{"user", "a"}, {"assistant", "b"}}, false, {}), "outer 2");
  EXPECT_EQ(render_error("{% set s = 'str' %}{% set s.attr = 1 %}"),
            "chat template: line 1, column 20: cannot assign attribute 'attr' on 's' (a string): only a "
            "namespace() takes attribute assignments");
}

}  // namespace
}  // namespace slidesparse
