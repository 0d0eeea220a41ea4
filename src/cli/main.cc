// slidesparse: one binary, one subcommand per pipeline step.
#include <cstdio>
#include <exception>
#include <functional>
#include <map>
#include <string>

#include "cli/commands.h"
#include "core/error.h"
#include "core/interrupt.h"

namespace {

struct Command {
  std::function<int(const slidesparse::CommandArgs&)> run;
  const char* summary;
};

const std::map<std::string, Command>& commands() {
  static const std::map<std::string, Command> table = {
      {"download", {slidesparse::run_download, "fetch a model from the Hugging Face hub into its cache (resumable)"}},
      {"synth", {slidesparse::run_synth, "write a deterministic BF16 BitNet checkpoint (built-in model)"}},
      {"prepare", {slidesparse::run_prepare, "BF16 / packed BitNet -> W8A8 INT8 or FP8 checkpoint"}},
      {"convert", {slidesparse::run_convert, "W8A8 checkpoint -> SlideSparse 2:L checkpoint"}},
      {"inspect", {slidesparse::run_inspect, "summarize any checkpoint"}},
      {"tokenize", {slidesparse::run_tokenize, "text -> token ids (or ids -> text) with a model's tokenizer.json"}},
      {"tune", {slidesparse::run_tune, "offline algorithm and launch-config search -> tuning database"}},
      {"generate", {slidesparse::run_generate, "generate on the native engine: a reply to a text (or chat) prompt, or tokens for token-id prompts"}},
      {"chat", {slidesparse::run_chat, "a conversation in the terminal through the model's chat template"}},
      {"eval", {slidesparse::run_eval, "perplexity of a checkpoint on a text file (sliding windows)"}},
      {"serve", {slidesparse::run_serve, "OpenAI-compatible HTTP server (completions, chat, streaming, metrics)"}},
      {"pipeline", {slidesparse::run_pipeline,
                    "the resumable nine-task pipeline (models, conversion, tuning, benchmarks, perplexity) and its report"}},
      {"report", {slidesparse::run_report, "regenerate report.md and plots from a results folder"}},
      {"bench", {slidesparse::run_bench,
                 "benchmarks: kernel (GEMMs), quant, norm, attention, linear (whole op), throughput (engine)"}},
      {"__search-gemm", {slidesparse::run_search_gemm, nullptr}},  // started by `tune` itself
  };
  return table;
}

void print_usage(std::FILE* out) {
  std::fputs("usage: slidesparse <command> [options]   (slidesparse <command> --help for details)\n\ncommands:\n", out);
  for (const auto& [name, c] : commands())
    if (c.summary) std::fprintf(out, "  %-10s %s\n", name.c_str(), c.summary);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    print_usage(stderr);
    return 2;
  }
  const std::string name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    print_usage(stdout);
    return 0;
  }
  const auto command = commands().find(name);
  if (command == commands().end()) {
    std::fprintf(stderr, "slidesparse: error: unknown command '%s' (see slidesparse --help)\n", name.c_str());
    return 2;
  }
  slidesparse::install_interrupt_handlers();
  try {
    return command->second.run(slidesparse::CommandArgs(argv + 2, argv + argc));
  } catch (const slidesparse::Error& e) {
    std::fprintf(stderr, "slidesparse: error: %s\n", e.what());
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "slidesparse: error: out of host memory\n");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "slidesparse: error: %s\n", e.what());
  }
  return 1;
}
