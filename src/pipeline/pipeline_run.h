// The pipeline's unit-of-work bookkeeping: which units are finished (status file), which must run,
// which are skipped because an input failed, and the per-task progress bar. Task code only plans
// units and says how to run them.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "pipeline/pipeline_options.h"
#include "pipeline/pipeline_status.h"

namespace slidesparse {

// One unit of work: one checkpoint, one tuning phase, one benchmark point.
struct UnitPlan {
  UnitPlan(std::string key, nlohmann::json options, std::vector<std::string> needs = {},
           std::filesystem::path output = {})
      : key(std::move(key)), options(std::move(options)), needs(std::move(needs)), output(std::move(output)) {}

  std::string key;                 // "convert/INT8/2:4", "prefill/FP8/cusparselt/2:8/M=512"
  nlohmann::json options;          // what it runs with (inputs' options nested); a change reruns it
  std::vector<std::string> needs;  // units whose outputs it reads
  std::filesystem::path output;    // when set, must exist for a recorded unit to count as finished
  std::string skip;                // when set, the unit cannot run here (e.g. FP8 below cc 8.9): why
};

// Units that one library call finishes one by one (the benchmark points of one checkpoint), or a
// single unit. `run` gets the units still to do, works through them in that order and calls `done`
// after each one it finished.
struct UnitBatch {
  std::vector<UnitPlan> units;
  std::function<void(const std::vector<UnitPlan>& pending, const std::function<void(const UnitPlan&)>& done)> run;
};

// Thrown once Ctrl-C stopped a unit; the task is marked interrupted and the status saved.
struct PipelineInterrupted {};

// Thrown when a unit failed and left this process unable to go on (the fault probe says so: a CUDA
// kernel fault poisons the context for good). That unit is recorded as failed, the units after it
// are not; the caller continues the same invocation (options.run_id) in a fresh process.
struct PipelineNeedsFreshProcess {
  std::string unit, error;
};

class PipelineRun {
 public:
  PipelineRun(PipelineOptions options, PipelineStatus status);

  const PipelineOptions& options() const { return options_; }
  const PipelineStatus& status() const { return status_; }
  const std::filesystem::path& out() const { return options_.out; }
  std::filesystem::path status_file() const { return options_.out / "pipeline_status.json"; }

  // Runs task `id` over its batches. `skip_reason` non-empty (or the task not selected) marks it
  // skipped without running anything. Throws PipelineInterrupted after Ctrl-C.
  // A task that is not selected keeps what its last run recorded (done, failed, ...) and is marked
  // skipped only if it never ran. Throws PipelineNeedsFreshProcess (see there).
  void run_task(int id, const std::vector<UnitBatch>& batches, const std::string& skip_reason = "");

  // Asked after a unit failed: true when the process can no longer run units (e.g. cuda_context_broken).
  void set_fault_probe(std::function<bool()> probe) { fault_probe_ = std::move(probe); }

  // Empty when `key` finished (in this run or, with these options, before); else why a unit that
  // needs it cannot run.
  std::string missing_input(const std::string& key) const;

  void save();

 private:
  bool finished_before(const UnitPlan& unit) const;
  void record(const UnitPlan& unit, int task, bool done, double seconds, const std::string& error);

  PipelineOptions options_;
  PipelineStatus status_;
  std::function<bool()> fault_probe_;
  enum class Outcome { Done, Failed, Skipped };
  std::map<std::string, std::pair<Outcome, std::string>> outcomes_;  // this invocation's verdicts
};

}  // namespace slidesparse
