#include "pipeline/pipeline_run.h"

#include <cstdio>

#include "core/error.h"
#include "core/interrupt.h"
#include "core/progress.h"
#include "core/stopwatch.h"

namespace slidesparse {

namespace fs = std::filesystem;

PipelineRun::PipelineRun(PipelineOptions options, PipelineStatus status)
    : options_(std::move(options)), status_(std::move(status)) {}

void PipelineRun::save() {
  status_.updated_utc = utc_now();
  save_pipeline_status(status_file(), status_);
}

bool PipelineRun::finished_before(const UnitPlan& unit) const {
  std::error_code ec;
  return status_.unit_done(unit.key, unit.options) && (unit.output.empty() || fs::exists(unit.output, ec));
}

std::string PipelineRun::missing_input(const std::string& key) const {
  const auto it = outcomes_.find(key);
  if (it == outcomes_.end()) return "needs " + key + ", which is not planned";
  switch (it->second.first) {
    case Outcome::Done:
      return "";
    case Outcome::Failed:
      return "needs " + key + ", which failed";
    case Outcome::Skipped:
      return "needs " + key + ", which was skipped (" + it->second.second + ")";
  }
  return "";
}

void PipelineRun::record(const UnitPlan& unit, int task, bool done, double seconds, const std::string& error) {
  UnitStatus& u = status_.units[unit.key];
  u.done = done;
  u.seconds = seconds;
  u.error = error;
  u.task = task;
  u.options = unit.options;
  outcomes_[unit.key] = {done ? Outcome::Done : Outcome::Failed, error};
}

void PipelineRun::run_task(int id, const std::vector<UnitBatch>& batches, const std::string& skip_reason) {
  TaskStatus& task = status_.task(id);
  const bool selected = options_.tasks.at(static_cast<size_t>(id - 1));
  task.units_total = 0;
  task.units_done = 0;
  task.reason.clear();

  // What is finished, what must run, what cannot run for lack of an input.
  std::vector<std::vector<UnitPlan>> pending(batches.size());
  std::string first_skip;
  int skipped = 0;
  for (size_t b = 0; b < batches.size(); ++b)
    for (const UnitPlan& unit : batches[b].units) {
      ++task.units_total;
      if (finished_before(unit)) {
        ++task.units_done;
        outcomes_[unit.key] = {Outcome::Done, ""};
        continue;
      }
      std::string why = !selected ? "task " + std::to_string(id) + " not selected (--tasks)" : skip_reason;
      if (why.empty()) why = unit.skip;
      if (!why.empty()) {
        outcomes_[unit.key] = {Outcome::Skipped, why};
        if (first_skip.empty()) first_skip = why;
        ++skipped;
        continue;
      }
      pending[b].push_back(unit);
    }
  long to_run = 0;
  for (const auto& p : pending) to_run += long(p.size());
  if (!selected || !skip_reason.empty()) {
    task.state = TaskState::Skipped;
    task.reason = !selected ? "not selected (--tasks)" : skip_reason;
    save();
    return;
  }
  if (to_run == 0) {
    task.state = skipped == 0 ? TaskState::Done : (task.units_done == 0 ? TaskState::Skipped : TaskState::Done);
    if (skipped) task.reason = std::to_string(skipped) + " unit(s) skipped: " + first_skip;
    save();
    return;
  }

  std::printf("pipeline: task %d (%s): %ld unit(s) to run, %d finished before\n", id, task.name.c_str(), to_run,
              task.units_done);
  std::fflush(stdout);
  task.state = TaskState::Running;
  save();
  const Stopwatch task_clock;
  const double seconds_before = task.seconds;
  ProgressBar progress("task " + std::to_string(id) + " " + task.name, to_run);
  int failed = 0;
  std::string first_error;
  for (size_t b = 0; b < batches.size(); ++b) {
    // Inputs are checked only now: they may come from an earlier batch of this task.
    std::vector<UnitPlan> ready;
    for (const UnitPlan& unit : pending[b]) {
      std::string why;
      for (const std::string& need : unit.needs)
        if (why.empty()) why = missing_input(need);
      if (why.empty()) {
        ready.push_back(unit);
        continue;
      }
      outcomes_[unit.key] = {Outcome::Skipped, why};
      if (first_skip.empty()) first_skip = why;
      ++skipped;
    }
    pending[b] = std::move(ready);
    if (pending[b].empty()) continue;
    Stopwatch unit_clock;
    std::map<std::string, bool> finished;
    const auto done = [&](const UnitPlan& unit) {
      record(unit, id, true, unit_clock.seconds(), "");
      finished[unit.key] = true;
      ++task.units_done;
      task.seconds = seconds_before + task_clock.seconds();
      save();
      progress.step(unit.key);
      unit_clock = Stopwatch();
      throw_if_interrupted();  // stop after this unit even where the library call would go on
    };
    try {
      batches[b].run(pending[b], done);
    } catch (const Error& e) {
      if (interrupt_requested()) {
        progress.finish();
        task.state = TaskState::Interrupted;
        task.reason = "interrupted (Ctrl-C); rerun the same command to continue";
        task.seconds = seconds_before + task_clock.seconds();
        save();
        throw PipelineInterrupted{};
      }
      std::fprintf(stderr, "pipeline: task %d: %s\n", id, e.what());
      for (const UnitPlan& unit : pending[b])
        if (!finished.count(unit.key)) {
          record(unit, id, false, 0, e.what());
          ++failed;
          if (first_error.empty()) first_error = unit.key + ": " + e.what();
        }
      save();
    }
  }
  progress.finish();
  task.seconds = seconds_before + task_clock.seconds();
  if (failed) {
    task.state = TaskState::Failed;
    task.reason = std::to_string(failed) + " unit(s) failed, first " + first_error;
  } else {
    task.state = TaskState::Done;
    if (skipped) task.reason = std::to_string(skipped) + " unit(s) skipped: " + first_skip;
  }
  save();
}

}  // namespace slidesparse
