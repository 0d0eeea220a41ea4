#include "pipeline/pipeline.h"

#include <cstdio>
#include <memory>
#include <optional>
#include <random>

#include "core/error.h"
#include "gemm/hardware_tag.h"
#include "gpu/device_info.h"
#include "pipeline/console_log.h"
#include "pipeline/pipeline_run.h"
#include "pipeline/pipeline_tasks.h"
#include "pipeline/run_directory.h"
#include "report/report.h"

namespace slidesparse {

namespace fs = std::filesystem;

namespace {

std::string model_name(const PipelineOptions& o) { return o.model.empty() ? "synth:" + o.preset : o.model; }

// Why GPU tasks cannot run here (empty when they can), and what FP8 needs.
GpuContext probe_gpu(std::string* no_gpu) {
  GpuContext gpu;
  if (!cuda_device_available()) {
    *no_gpu = "no CUDA GPU";
    return gpu;
  }
  const DeviceInfo device = query_device();
  if (!device.supports_fp8())
    gpu.fp8_skip = "FP8 needs compute capability 8.9 or newer; " + device.name + " is " +
                   std::to_string(device.cc_major) + "." + std::to_string(device.cc_minor);
  gpu.hardware = current_hardware_tag().describe();
  return gpu;
}

void print_table(const PipelineStatus& status) {
  std::printf("\n%-4s %-32s %-12s %10s %9s  %s\n", "task", "name", "status", "time", "units", "reason");
  for (const TaskStatus& t : status.tasks) {
    const std::string units = std::to_string(t.units_done) + "/" + std::to_string(t.units_total);
    std::printf("%-4d %-32s %-12s %9.1fs %9s  %s\n", t.id, t.name.c_str(), task_state_name(t.state).c_str(), t.seconds,
                units.c_str(), t.reason.c_str());
  }
  std::fflush(stdout);
}

}  // namespace

std::string new_pipeline_run_id() {
  std::random_device source;
  const uint64_t id = (uint64_t{source()} << 32) ^ source();
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(id));
  return text;
}

PipelineOutcome run_pipeline(PipelineOptions options) {
  if (options.run_id.empty()) options.run_id = new_pipeline_run_id();
  const PipelineLayout layout(options);  // validates the preset before anything is written
  const RunDirectoryLock lock(options.out);
  std::optional<ConsoleLog> console;
  if (options.console_log) console.emplace(options.out / "pipeline.log");

  const fs::path status_file = options.out / "pipeline_status.json";
  if (options.restart) fs::remove_all(layout.results);  // checkpoints are replaced as their units run
  PipelineStatus status = options.restart ? PipelineStatus{} : load_pipeline_status(status_file);
  for (const fs::path& leftover : remove_leftovers(options.out))
    std::printf("pipeline: removed %s (left by an interrupted run)\n", leftover.c_str());
  status.model = model_name(options);
  if (status.started_utc.empty()) status.started_utc = utc_now();
  std::printf("pipeline: %s -> %s (%s)\n", status.model.c_str(), options.out.c_str(),
              options.restart ? "restart" : "resuming where a previous run stopped, if any");

  PipelineRun run(options, std::move(status));
  run.save();
  PipelineOutcome outcome;
  std::string no_gpu;
  GpuContext gpu;
  bool any_gpu_task = false;
  for (int id = 3; id <= kPipelineTasks; ++id) any_gpu_task |= options.tasks[static_cast<size_t>(id - 1)];
  if (any_gpu_task) gpu = probe_gpu(&no_gpu);
  if (any_gpu_task && no_gpu.empty()) run.set_fault_probe(cuda_context_broken);
  outcome.run_id = options.run_id;
  try {
    // Each task is planned right before it runs: the throughput units see whether tuning produced a database.
    run.run_task(1, plan_base_models(layout, options));
    run.run_task(2, plan_conversions(layout, options));
    run.run_task(3, plan_tuning(layout, options, gpu), no_gpu);
    run.run_task(4, plan_throughput(layout, options, gpu, "prefill"), no_gpu);
    run.run_task(5, plan_throughput(layout, options, gpu, "decode"), no_gpu);
    run.run_task(6, plan_kernels(layout, options, gpu, "dense"), no_gpu);
    run.run_task(7, plan_kernels(layout, options, gpu, "high"), no_gpu);
    run.run_task(8, plan_kernels(layout, options, gpu, "low"), no_gpu);
    run.run_task(9, plan_perplexity(layout, options, gpu),
                 options.eval_text.empty() ? "no --eval-text given" : no_gpu);
  } catch (const PipelineInterrupted&) {
    outcome.interrupted = true;
  } catch (const PipelineNeedsFreshProcess& fault) {
    std::printf("pipeline: %s broke this process's CUDA context; the remaining units continue in a fresh process\n",
                fault.unit.c_str());
    outcome.needs_fresh_process = true;
    outcome.status = run.status();
    return outcome;
  }
  outcome.status = run.status();
  for (const TaskStatus& t : outcome.status.tasks) outcome.failed |= t.state == TaskState::Failed;
  if (!outcome.interrupted) {
    try {
      const ReportSummary report = write_report(options.out);
      std::printf("pipeline: report %s (%d plots)\n", report.report_md.c_str(), report.plots);
    } catch (const Error& e) {
      std::fprintf(stderr, "pipeline: report: %s\n", e.what());
      outcome.failed = true;
    }
  }
  print_table(outcome.status);
  return outcome;
}

}  // namespace slidesparse
