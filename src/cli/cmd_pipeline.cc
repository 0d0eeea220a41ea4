#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "cli/args.h"
#include "cli/commands.h"
#include "core/error.h"
#include "core/reexec.h"
#include "pipeline/pipeline.h"

namespace slidesparse {

int run_pipeline(const CommandArgs& args) {
  ArgParser p("slidesparse pipeline",
              "The nine tasks of the SlideSparse evaluation in one resumable run: 1 base models (BF16 source,\n"
              "W8A8 INT8 and FP8), 2 SlideSparse conversion, 3 offline tuning (coarse + fine), 4 prefill and\n"
              "5 decode throughput (cuBLASLt vs cuSPARSELt per 2:L), 6..8 kernel benchmarks (cuBLASLt, cuSPARSELt\n"
              "2:4..2:10, 2:12..2:inf), 9 perplexity of every checkpoint on --eval-text, then OUT/report.md. Rerunning the same command continues where an\n"
              "interrupted run stopped (OUT/pipeline_status.json); GPU tasks are skipped without a CUDA GPU.\n"
              "Everything the console shows also goes to OUT/pipeline.log.");
  p.option("model", "REPO_ID|DIR",
           "BF16 BitNet: a hub repo id (downloaded), a local directory, or none for the "
           "built-in synth model of --preset");
  p.option("out", "DIR", "results folder", "runs/pipeline");
  p.option("tasks", "MASK", "which of the 9 tasks run, e.g. 1,1,0,0,0,0,0,0,0", "1,1,1,1,1,1,1,1,1");
  p.option("dtypes", "LIST", "int8,fp8 (default: both)");
  p.option("sparsities", "LIST", "patterns of tasks 2, 4, 5, 7 (default: 2:4,2:6,2:8,2:10)");
  p.option("low-sparsities", "LIST", "patterns of task 8 (default: 2:12,2:14,2:16,2:inf)");
  p.option("prefill-m-list", "LIST", "task 4 Ms (default: 512,1024,...,32768)");
  p.option("decode-m-list", "LIST", "task 5 Ms (default: 64,128,256,512)");
  p.option("kernel-m-list", "LIST", "tasks 6..8 Ms (default: 64,128,...,16384)");
  p.option("preset", "NAME", "synth model without --model: bitnet-2b, bitnet-small, bitnet-tiny (default: bitnet-2b)");
  p.option("seed", "N", "synth weights and benchmark prompts", "0");
  p.option("eval-text", "FILE",
           "task 9: the perplexity of the dense and every 2:L checkpoint on this text (without it task 9 is skipped)");
  p.option("eval-context", "N", "task 9: tokens per window", "1024");
  p.option("eval-stride", "N", "task 9: tokens between window starts", "512");
  p.flag("quick",
         "a first look in about a minute on a GPU: bitnet-small, 2:4 and 2:8 (task 8: 2:inf), prefill M "
         "512,2048, decode M 64,256, kernel M 256,4096, coarse tuning only (explicit options override)");
  p.flag("restart", "forget the status file and delete OUT/results: every unit runs again");
  if (!p.parse(args)) return 0;

  PipelineOptions o;
  if (p.has("model")) o.model = p.get("model");
  if (p.has("quick")) apply_quick_profile(o);
  if (p.has("preset")) {
    require(o.model.empty(), "slidesparse pipeline: --preset is for the built-in model; it cannot go with --model");
    o.preset = p.get("preset");
  }
  o.out = p.get("out");
  o.tasks = parse_task_mask(p.get("tasks"));
  if (p.has("dtypes")) o.kinds = parse_dtype_list("dtypes", p.get("dtypes"));
  if (p.has("sparsities")) o.sparsities = parse_sparsity_list(p.get("sparsities"), false);
  if (p.has("low-sparsities")) o.low_sparsities = parse_sparsity_list(p.get("low-sparsities"), true);
  if (p.has("prefill-m-list")) o.prefill_ms = parse_int_list("prefill-m-list", p.get("prefill-m-list"));
  if (p.has("decode-m-list")) o.decode_ms = parse_int_list("decode-m-list", p.get("decode-m-list"));
  if (p.has("kernel-m-list")) o.kernel_ms = parse_int_list("kernel-m-list", p.get("kernel-m-list"));
  o.seed = p.get_uint("seed");
  if (p.has("eval-text")) {
    o.eval_text = std::filesystem::absolute(p.get("eval-text"));
    require(std::filesystem::is_regular_file(o.eval_text), "--eval-text: " + o.eval_text.string() + " is not a file");
  }
  o.eval_context = static_cast<int>(p.get_int("eval-context"));
  o.eval_stride = static_cast<int>(p.get_int("eval-stride"));
  require(o.eval_context >= 2 && o.eval_stride >= 1 && o.eval_stride <= o.eval_context,
          "--eval-stride must lie in 1..--eval-context, and --eval-context be at least 2");
  o.restart = p.has("restart");

  // Set when this process continues an invocation whose previous process hit a GPU fault.
  constexpr const char* kRunIdVariable = "SLIDESPARSE_PIPELINE_RUN";
  if (const char* run = std::getenv(kRunIdVariable)) o.run_id = run;
  if (const char* unit = std::getenv("SLIDESPARSE_PIPELINE_TEST_FAULT")) o.inject_fault_unit = unit;

  const PipelineOutcome outcome = run_pipeline(o);
  if (outcome.needs_fresh_process) {
    // Same options minus --restart (the results so far must stay), same invocation id.
    std::vector<std::string> again{"pipeline"};
    for (const std::string& a : args)
      if (a != "--restart") again.push_back(a);
    restart_process(again, kRunIdVariable, outcome.run_id);
  }
  if (outcome.interrupted) fail("pipeline interrupted; rerun the same command to continue");
  return outcome.failed ? 1 : 0;
}

}  // namespace slidesparse
