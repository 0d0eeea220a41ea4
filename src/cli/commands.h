// Entry points of the subcommands. Each returns the process exit code and throws Error for
// user-facing failures (main() prints them as one line).
#pragma once

#include <string>
#include <vector>

namespace slidesparse {

using CommandArgs = std::vector<std::string>;

int run_synth(const CommandArgs& args);
int run_prepare(const CommandArgs& args);
int run_convert(const CommandArgs& args);
int run_inspect(const CommandArgs& args);
int run_tune(const CommandArgs& args);
int run_bench(const CommandArgs& args);
int run_bench_serve(const CommandArgs& args);  // bench serve: load on a running server
int run_generate(const CommandArgs& args);
int run_chat(const CommandArgs& args);
int run_download(const CommandArgs& args);
int run_report(const CommandArgs& args);
int run_pipeline(const CommandArgs& args);
int run_tokenize(const CommandArgs& args);
int run_serve(const CommandArgs& args);
int run_eval(const CommandArgs& args);
// Hidden: one GEMM search process of `tune` (bench/isolated_gemm_search.h).
int run_search_gemm(const CommandArgs& args);

}  // namespace slidesparse
