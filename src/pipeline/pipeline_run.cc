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
  u.run = options_.run_id;
  outcomes_[unit.key] = {done ? Outcome::Done : Outcome::Failed, error};
}

void PipelineRun::run_task(int id, const std::vector<UnitBatch>& batches, const std::string& skip_reason) {
  TaskStatus& task = status_.task(id);
  const bool selected = options_.tasks.at(static_cast<size_t>(id - 1));
  task.units_total = 0;
  task.units_done = 0;

  // What is finished, what failed earlier in this invocation (before a fresh-process restart), what
  // must run, what cannot run for lack of an input.
  std::vector<std::vector<UnitPlan>> pending(batches.size());
  std::string first_skip, first_error;
  int skipped = 0, failed = 0;
  for (size_t b = 0; b < batches.size(); ++b)
    for (const UnitPlan& unit : batches[b].units) {
      ++task.units_total;
      if (finished_before(unit)) {
        ++task.units_done;
        outcomes_[unit.key] = {Outcome::Done, ""};
        continue;
      }
      if (status_.unit_failed_in(unit.key, unit.options, options_.run_id)) {
        const std::string& error = status_.units.at(unit.key).error;
        outcomes_[unit.key] = {Outcome::Failed, error};
        if (first_error.empty()) first_error = unit.key + ": " + error;
        ++failed;
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
  const auto finish = [&] {
    if (failed) {
      task.state = TaskState::Failed;
      task.reason = std::to_string(failed) + " unit(s) failed, first " + first_error;
    } else if (skipped && task.units_done == 0) {
      task.state = TaskState::Skipped;
      task.reason = std::to_string(skipped) + " unit(s) skipped: " + first_skip;
    } else {
      task.state = TaskState::Done;
      task.reason = skipped ? std::to_string(skipped) + " unit(s) skipped: " + first_skip : "";
    }
    save();
  };
  if (!selected) {
    // What the task's last run found stays; a task that never ran, or was not selected then, is skipped.
    if (task.state == TaskState::Pending || task.state == TaskState::Skipped) {
      task.state = TaskState::Skipped;
      task.reason = "not selected (--tasks)";
    } else if (task.state == TaskState::Running) {  // its process was killed
      task.state = TaskState::Interrupted;
      task.reason = "stopped before it finished; select it in --tasks to continue";
    }
    save();
    return;
  }
  if (!skip_reason.empty()) {
    task.state = TaskState::Skipped;
    task.reason = skip_reason;
    save();
    return;
  }
  if (to_run == 0) return finish();

  std::printf("pipeline: task %d (%s): %ld unit(s) to run, %d finished before\n", id, task.name.c_str(), to_run,
              task.units_done);
  std::fflush(stdout);
  task.state = TaskState::Running;
  task.reason.clear();
  save();
  const Stopwatch task_clock;
  const double seconds_before = task.seconds;
  ProgressBar progress("task " + std::to_string(id) + " " + task.name, to_run);
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
    bool injected = false;
    // Tests: the injected unit fails before it starts, as a unit that broke the context would.
    const auto maybe_inject = [&](size_t next) {
      if (next < pending[b].size() && pending[b][next].key == options_.inject_fault_unit) {
        injected = true;
        fail("injected fault (SLIDESPARSE_PIPELINE_TEST_FAULT)");
      }
    };
    const auto done = [&](const UnitPlan& unit) {
      record(unit, id, true, unit_clock.seconds(), "");
      finished[unit.key] = true;
      ++task.units_done;
      task.seconds = seconds_before + task_clock.seconds();
      save();
      progress.step(unit.key);
      unit_clock = Stopwatch();
      throw_if_interrupted();  // stop after this unit even where the library call would go on
      maybe_inject(finished.size());
    };
    try {
      maybe_inject(0);
      batches[b].run(pending[b], done);
    } catch (const Error& e) {
      task.seconds = seconds_before + task_clock.seconds();
      if (interrupt_requested()) {
        progress.finish();
        task.state = TaskState::Interrupted;
        task.reason = "interrupted (Ctrl-C); rerun the same command to continue";
        save();
        throw PipelineInterrupted{};
      }
      std::fprintf(stderr, "pipeline: task %d: %s\n", id, e.what());
      if (injected || (fault_probe_ && fault_probe_())) {
        // The unit that was running takes the blame; the ones after it never started and get their
        // turn in the fresh process.
        for (const UnitPlan& unit : pending[b])
          if (!finished.count(unit.key)) {
            record(unit, id, false, unit_clock.seconds(), e.what());
            progress.finish();
            save();
            throw PipelineNeedsFreshProcess{unit.key, e.what()};
          }
      }
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
  finish();
}

}  // namespace slidesparse
