// The sections of report.md, each a Markdown string ending with a blank line. Sections whose task
// has not produced results say so (with the task's status when the status file has it).
#pragma once

#include <string>
#include <vector>

#include "report/report_plots.h"
#include "report/results.h"

namespace slidesparse::report {

// report_run_sections.cc: what ran, how long it took, what it produced before the benchmarks.
std::string title_and_summary(const Results& results);
std::string tasks_section(const Results& results);
std::string preparation_section(const Results& results);
// With task 9's results, a perplexity table (dense and each 2:L) and a plot of perplexity against L.
std::string conversion_section(const Results& results, std::vector<PlotFile>& plots);
std::string tuning_section(const Results& results);
std::string failures_section(const Results& results);
// "_No <what> yet (task 4 prefill benchmark: skipped — no CUDA GPU)._" for the tasks that make them.
std::string no_results_note(const Results& results, const std::string& what, const std::vector<int>& task_ids);

// report_bench_sections.cc: benchmark tables per machine and dtype, plots added to `plots`.
std::string throughput_section(const Results& results, const std::string& stage, std::vector<PlotFile>& plots);
std::string kernel_section(const Results& results, std::vector<PlotFile>& plots);
// Per machine and dtype, each 2:L's speedup over cuBLASLt in theory, at kernel level and end to end
// (prefill at the largest M, decode at the largest and smallest M). Empty without any speedup.
std::string speedup_chain_section(const Results& results);
// Empty when the results come from fewer than two machines.
std::string cross_gpu_section(const Results& results);

}  // namespace slidesparse::report
