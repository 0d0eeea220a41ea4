#include <charconv>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/args.h"
#include "cli/commands.h"
#include "core/error.h"
#include "text/text_model.h"
#include "text/tokenizer.h"

namespace slidesparse {

namespace {

std::string read_whole_file(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  require(static_cast<bool>(in), file + ": cannot open");
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

// "1 2,3\n4" -> {1, 2, 3, 4}: ids separated by any mix of whitespace and commas.
std::vector<int32_t> parse_ids(const std::string& text) {
  std::vector<int32_t> ids;
  size_t pos = 0;
  while ((pos = text.find_first_not_of(" \t\r\n,", pos)) != std::string::npos) {
    const size_t end = std::min(text.find_first_of(" \t\r\n,", pos), text.size());
    int32_t id = -1;
    const auto [stop, error] = std::from_chars(text.data() + pos, text.data() + end, id);
    require(error == std::errc() && stop == text.data() + end && id >= 0,
            "tokenize --decode: '" + text.substr(pos, end - pos) + "' is not a token id");
    ids.push_back(id);
    pos = end;
  }
  return ids;
}

}  // namespace

int run_tokenize(const CommandArgs& args) {
  ArgParser p("slidesparse tokenize",
              "Encodes text with a model's tokenizer.json (BPE: GPT-2, Llama-3 / BitNet, Qwen2 style) and prints the\n"
              "token ids space-separated on one line; with --decode, reads ids (space or comma separated) and\n"
              "prints the text. Input that is not valid UTF-8 is encoded with U+FFFD for each bad sequence.");
  p.option("model", "DIR", "model directory holding tokenizer.json (or the tokenizer.json file)");
  p.option("text", "TEXT", "the text to encode (with --decode: the ids)");
  p.option("file", "FILE", "read the text (or the ids) from FILE, every byte as given");
  p.flag("decode", "ids -> text");
  p.flag("no-special-tokens", "encode: add no special tokens (no BOS); decode: leave special tokens out");
  p.flag("chat", "encode the text as one user message through tokenizer_config.json's chat template, with the "
                 "generation prompt; the template writes any BOS itself");
  if (!p.parse(args)) return 0;
  require(p.has("model"), "tokenize: --model DIR is required");
  require(p.has("text") != p.has("file"), "tokenize: give exactly one of --text and --file");
  require(!(p.has("chat") && p.has("decode")), "tokenize: --chat encodes; it cannot go with --decode");
  std::string input = p.has("text") ? p.get("text") : read_whole_file(p.get("file"));
  const std::filesystem::path model = p.get("model");
  const Tokenizer tokenizer = Tokenizer::load(model);
  if (p.has("chat"))  // one user message, the generation prompt appended
    input = TextModel::load(std::filesystem::is_directory(model) ? model : model.parent_path())
                .render_chat({{"user", input}});
  // As apply_chat_template(tokenize=True): the rendered template already holds its special tokens.
  const bool special = !p.has("no-special-tokens") && !p.has("chat");
  if (p.has("decode")) {
    const std::string text = tokenizer.decode(parse_ids(input), /*skip_special_tokens=*/!special);
    std::fwrite(text.data(), 1, text.size(), stdout);  // the text may hold NUL characters
    std::fputc('\n', stdout);
    return 0;
  }
  std::string line;
  for (const int32_t id : tokenizer.encode(input, special)) {
    if (!line.empty()) line += ' ';
    line += std::to_string(id);
  }
  std::printf("%s\n", line.c_str());
  return 0;
}

}  // namespace slidesparse
