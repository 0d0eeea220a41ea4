// The unit bookkeeping with fake units: resume, changed options, failed inputs, Ctrl-C, leftovers.
#include "pipeline/pipeline_run.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

#include "core/error.h"
#include "core/interrupt.h"
#include "io/staged_directory.h"
#include "pipeline/run_directory.h"
#include "test_support.h"

namespace slidesparse {
namespace {

namespace fs = std::filesystem;

PipelineOptions options_in(const fs::path& out, std::array<bool, 9> tasks = {true, true}) {
  PipelineOptions o;
  o.out = out;
  o.tasks = tasks;
  o.console_log = false;
  return o;
}

// A batch of points "<prefix>/M=<m>" with `options`, recording which ones its run was asked to do.
UnitBatch points(const std::string& prefix, const std::vector<int64_t>& ms, const nlohmann::json& options,
                 std::vector<std::string>* ran) {
  UnitBatch b;
  for (int64_t m : ms) b.units.push_back({prefix + "/M=" + std::to_string(m), options});
  b.run = [ran](const std::vector<UnitPlan>& pending, const std::function<void(const UnitPlan&)>& done) {
    for (const UnitPlan& u : pending) {
      ran->push_back(u.key);
      done(u);
    }
  };
  return b;
}

PipelineRun resume(const PipelineOptions& o) {
  return PipelineRun(o, load_pipeline_status(o.out / "pipeline_status.json"));
}

TEST(PipelineRun, ResumeRunsOnlyMissingPointsAndChangedOptions) {
  testing::ScratchDir dir;
  const PipelineOptions o = options_in(dir.path());
  std::vector<std::string> ran;
  {
    PipelineRun run(o, PipelineStatus{});
    run.run_task(1, {points("prefill/INT8/cublaslt", {512, 1024}, {{"seed", 0}}, &ran)});
    EXPECT_EQ(run.status().tasks[0].state, TaskState::Done);
  }
  EXPECT_EQ(ran, (std::vector<std::string>{"prefill/INT8/cublaslt/M=512", "prefill/INT8/cublaslt/M=1024"}));

  ran.clear();  // another M list: only the new point runs
  {
    PipelineRun run = resume(o);
    run.run_task(1, {points("prefill/INT8/cublaslt", {512, 1024, 2048}, {{"seed", 0}}, &ran)});
    EXPECT_EQ(run.status().tasks[0].units_done, 3);
    EXPECT_EQ(run.status().tasks[0].units_total, 3);
  }
  EXPECT_EQ(ran, (std::vector<std::string>{"prefill/INT8/cublaslt/M=2048"}));

  ran.clear();  // the same request again: nothing runs
  resume(o).run_task(1, {points("prefill/INT8/cublaslt", {512, 1024, 2048}, {{"seed", 0}}, &ran)});
  EXPECT_TRUE(ran.empty());

  ran.clear();  // other options for the same points: they run again
  resume(o).run_task(1, {points("prefill/INT8/cublaslt", {512}, {{"seed", 1}}, &ran)});
  EXPECT_EQ(ran, (std::vector<std::string>{"prefill/INT8/cublaslt/M=512"}));
}

TEST(PipelineRun, FailedInputSkipsItsDependantsOnly) {
  testing::ScratchDir dir;
  PipelineRun run(options_in(dir.path()), PipelineStatus{});
  UnitBatch broken{
      {{"convert/FP8/2:6", {}}},
      [](const std::vector<UnitPlan>&, const std::function<void(const UnitPlan&)>&) { fail("disk full"); }};
  std::vector<std::string> ran;
  run.run_task(1, {points("convert/FP8/2:4", {0}, {}, &ran), broken});
  const TaskStatus& t1 = run.status().tasks[0];
  EXPECT_EQ(t1.state, TaskState::Failed);
  EXPECT_EQ(t1.reason, "1 unit(s) failed, first convert/FP8/2:6: disk full");
  EXPECT_EQ(run.status().units.at("convert/FP8/2:6").error, "disk full");

  UnitBatch needs_broken = points("prefill/FP8/2:6", {512}, {}, &ran);
  needs_broken.units[0].needs = {"convert/FP8/2:6"};
  UnitBatch needs_fine = points("prefill/FP8/2:4", {512}, {}, &ran);
  needs_fine.units[0].needs = {"convert/FP8/2:4/M=0"};
  run.run_task(2, {needs_broken, needs_fine});
  EXPECT_EQ(ran, (std::vector<std::string>{"convert/FP8/2:4/M=0", "prefill/FP8/2:4/M=512"}));
  const TaskStatus& t2 = run.status().tasks[1];
  EXPECT_EQ(t2.state, TaskState::Done);
  EXPECT_EQ(t2.reason, "1 unit(s) skipped: needs convert/FP8/2:6, which failed");
  EXPECT_EQ(t2.units_done, 1);
  EXPECT_EQ(t2.units_total, 2);
}

TEST(PipelineRun, SkippedAndUnselectedTasksSayWhy) {
  testing::ScratchDir dir;
  PipelineRun run(options_in(dir.path(), {true, false, true}), PipelineStatus{});
  std::vector<std::string> ran;
  run.run_task(2, {points("convert/INT8/2:4", {0}, {}, &ran)});
  run.run_task(3, {points("tune/coarse", {0}, {}, &ran)}, "no CUDA GPU");
  UnitBatch fp8 = points("kernel/FP8/cublaslt", {64}, {}, &ran);
  fp8.units[0].skip = "FP8 needs compute capability 8.9 or newer; NVIDIA A100 is 8.0";
  run.run_task(1, {fp8, points("kernel/INT8/cublaslt", {64}, {}, &ran)});
  EXPECT_EQ(ran, (std::vector<std::string>{"kernel/INT8/cublaslt/M=64"}));
  EXPECT_EQ(run.status().tasks[1].state, TaskState::Skipped);
  EXPECT_EQ(run.status().tasks[1].reason, "not selected (--tasks)");
  EXPECT_EQ(run.status().tasks[2].state, TaskState::Skipped);
  EXPECT_EQ(run.status().tasks[2].reason, "no CUDA GPU");
  EXPECT_EQ(run.status().tasks[0].state, TaskState::Done);
  EXPECT_EQ(run.status().tasks[0].reason,
            "1 unit(s) skipped: FP8 needs compute capability 8.9 or newer; NVIDIA A100 is 8.0");
  EXPECT_EQ(run.missing_input("convert/INT8/2:4/M=0"),
            "needs convert/INT8/2:4/M=0, which was skipped (task 2 not selected (--tasks))");
}

TEST(PipelineRun, AnUnselectedTaskKeepsWhatItsLastRunFound) {
  testing::ScratchDir dir;
  PipelineOptions o = options_in(dir.path(), {true, true, true});
  std::vector<std::string> ran;
  {
    PipelineRun run(o, PipelineStatus{});
    run.run_task(1, {points("prefill/INT8/cublaslt", {512, 1024}, {}, &ran)});
    UnitBatch broken{{{"tune/coarse", {}}},
                     [](const std::vector<UnitPlan>&, const std::function<void(const UnitPlan&)>&) { fail("no db"); }};
    run.run_task(2, {broken});
  }
  PipelineStatus before = load_pipeline_status(o.out / "pipeline_status.json");
  before.task(3).state = TaskState::Running;  // as a kill -9 during task 3 leaves it
  save_pipeline_status(o.out / "pipeline_status.json", before);

  o.tasks = {false, false, false, true};
  PipelineRun run = resume(o);
  ran.clear();
  run.run_task(1, {points("prefill/INT8/cublaslt", {512, 1024}, {}, &ran)});
  run.run_task(2, {points("tune/coarse", {0}, {}, &ran)});
  run.run_task(3, {points("decode/INT8/cublaslt", {64}, {}, &ran)});
  run.run_task(5, {points("kernel/INT8/cublaslt", {64}, {}, &ran)});
  EXPECT_TRUE(ran.empty());
  const PipelineStatus& s = run.status();
  EXPECT_EQ(s.task(1).state, TaskState::Done);
  EXPECT_EQ(s.task(1).reason, "");
  EXPECT_EQ(s.task(1).seconds, before.task(1).seconds);
  EXPECT_EQ(s.task(1).units_done, 2);
  EXPECT_EQ(s.task(2).state, TaskState::Failed);
  EXPECT_EQ(s.task(2).reason, "1 unit(s) failed, first tune/coarse: no db");
  EXPECT_EQ(s.task(3).state, TaskState::Interrupted);
  EXPECT_EQ(s.task(3).reason, "stopped before it finished; select it in --tasks to continue");
  EXPECT_EQ(s.task(5).state, TaskState::Skipped);
  EXPECT_EQ(s.task(5).reason, "not selected (--tasks)");
}

// A unit that breaks the process (a CUDA fault): it alone is blamed, the invocation goes on in a
// fresh process that does not retry it, and a later invocation does.
TEST(PipelineRun, AFaultThatBreaksTheProcessIsNotRetriedByItsContinuation) {
  testing::ScratchDir dir;
  PipelineOptions o = options_in(dir.path());
  o.run_id = "0123456789abcdef";
  std::vector<std::string> ran;
  auto batch = [&ran](bool fault_at_256) {
    UnitBatch b = points("decode/INT8/cusparselt/2:4", {128, 256, 512}, {{"seed", 0}}, &ran);
    b.run = [&ran, fault_at_256](const std::vector<UnitPlan>& pending, const std::function<void(const UnitPlan&)>& done) {
      for (const UnitPlan& u : pending) {
        if (fault_at_256 && u.key.ends_with("M=256")) fail("CUDA error cudaErrorLaunchFailure");
        ran.push_back(u.key);
        done(u);
      }
    };
    return b;
  };
  {
    PipelineRun run(o, PipelineStatus{});
    run.set_fault_probe([] { return true; });
    try {
      run.run_task(1, {batch(true)});
      FAIL() << "expected PipelineNeedsFreshProcess";
    } catch (const PipelineNeedsFreshProcess& fault) {
      EXPECT_EQ(fault.unit, "decode/INT8/cusparselt/2:4/M=256");
      EXPECT_EQ(fault.error, "CUDA error cudaErrorLaunchFailure");
    }
  }
  EXPECT_EQ(ran, (std::vector<std::string>{"decode/INT8/cusparselt/2:4/M=128"}));
  const PipelineStatus saved = load_pipeline_status(o.out / "pipeline_status.json");
  EXPECT_TRUE(saved.units.at("decode/INT8/cusparselt/2:4/M=128").done);
  EXPECT_FALSE(saved.units.at("decode/INT8/cusparselt/2:4/M=256").done);
  EXPECT_EQ(saved.units.at("decode/INT8/cusparselt/2:4/M=256").run, "0123456789abcdef");
  EXPECT_EQ(saved.units.count("decode/INT8/cusparselt/2:4/M=512"), 0u);

  ran.clear();  // the fresh process of the same invocation: only M=512 runs; the task reports the fault
  {
    PipelineRun run = resume(o);
    run.run_task(1, {batch(true)});
    EXPECT_EQ(run.status().task(1).state, TaskState::Failed);
    EXPECT_EQ(run.status().task(1).reason,
              "1 unit(s) failed, first decode/INT8/cusparselt/2:4/M=256: CUDA error cudaErrorLaunchFailure");
    EXPECT_EQ(run.status().task(1).units_done, 2);
    EXPECT_EQ(run.missing_input("decode/INT8/cusparselt/2:4/M=256"),
              "needs decode/INT8/cusparselt/2:4/M=256, which failed");
  }
  EXPECT_EQ(ran, (std::vector<std::string>{"decode/INT8/cusparselt/2:4/M=512"}));

  ran.clear();  // a new invocation tries the failed unit again
  o.run_id = "fedcba9876543210";
  PipelineRun later = resume(o);
  later.run_task(1, {batch(false)});
  EXPECT_EQ(ran, (std::vector<std::string>{"decode/INT8/cusparselt/2:4/M=256"}));
  EXPECT_EQ(later.status().task(1).state, TaskState::Done);
}

// When the process is still usable, a failure is an ordinary one: the batch's remaining units fail with it.
TEST(PipelineRun, AnOrdinaryFailureFailsTheRestOfItsBatch) {
  testing::ScratchDir dir;
  PipelineRun run(options_in(dir.path()), PipelineStatus{});
  run.set_fault_probe([] { return false; });
  UnitBatch b = points("prefill/INT8/cublaslt", {512, 1024}, {}, nullptr);
  b.run = [](const std::vector<UnitPlan>&, const std::function<void(const UnitPlan&)>&) { fail("out of memory"); };
  run.run_task(1, {b});
  EXPECT_EQ(run.status().task(1).state, TaskState::Failed);
  EXPECT_EQ(run.status().task(1).reason, "2 unit(s) failed, first prefill/INT8/cublaslt/M=512: out of memory");
}

// Ctrl-C during a unit: that unit still finishes, the task is marked interrupted, the rest waits.
TEST(PipelineRun, InterruptStopsAfterTheCurrentUnit) {
  testing::ScratchDir dir;
  const PipelineOptions o = options_in(dir.path());
  const pid_t child = ::fork();
  if (child == 0) {  // the signal flag is process-wide and never resets: interrupt a child
    install_interrupt_handlers();
    PipelineRun run(o, PipelineStatus{});
    UnitBatch b;
    for (const char* key : {"u/1", "u/2", "u/3"}) b.units.push_back({key, {}});
    b.run = [](const std::vector<UnitPlan>& pending, const std::function<void(const UnitPlan&)>& done) {
      std::raise(SIGINT);
      for (const UnitPlan& u : pending) done(u);
    };
    try {
      run.run_task(1, {b});
    } catch (const PipelineInterrupted&) {
      ::_exit(42);
    }
    ::_exit(1);
  }
  int wstatus = 0;
  ASSERT_EQ(::waitpid(child, &wstatus, 0), child);
  ASSERT_TRUE(WIFEXITED(wstatus));
  EXPECT_EQ(WEXITSTATUS(wstatus), 42);
  const PipelineStatus s = load_pipeline_status(dir / "pipeline_status.json");
  EXPECT_EQ(s.tasks[0].state, TaskState::Interrupted);
  EXPECT_EQ(s.tasks[0].reason, "interrupted (Ctrl-C); rerun the same command to continue");
  EXPECT_EQ(s.tasks[0].units_done, 1);
  EXPECT_TRUE(s.units.at("u/1").done);
  EXPECT_EQ(s.units.count("u/2"), 0u);

  std::vector<std::string> ran;  // the rerun does the rest
  UnitBatch rest = points("u", {}, {}, &ran);
  for (const char* key : {"u/1", "u/2", "u/3"}) rest.units.push_back({key, {}});
  PipelineRun again = resume(o);
  again.run_task(1, {rest});
  EXPECT_EQ(ran, (std::vector<std::string>{"u/2", "u/3"}));
  EXPECT_EQ(again.status().tasks[0].state, TaskState::Done);
}

TEST(RunDirectory, RemovesWhatAKilledRunLeftAndNothingElse) {
  testing::ScratchDir dir;
  fs::create_directories(dir / "checkpoints/.BitNet-Tiny-INT8.partial-4242/sub");
  fs::create_directories(dir / "checkpoints/.BitNet-Tiny-FP8.trash-17");
  fs::create_directories(dir / "checkpoints/BitNet-Tiny-INT8");
  fs::create_directories(dir / "results/convert");
  testing::write_bytes(dir / "results/convert/a.json.tmp-99", "{");
  testing::write_bytes(dir / "results/convert/a.json", "{}");
  testing::write_bytes(dir / "results/convert/.notes", "mine");
  testing::write_bytes(dir / "pipeline_status.json.tmp-x1", "not ours");
  const auto removed = remove_leftovers(dir.path());
  EXPECT_EQ(removed.size(), 3u);
  EXPECT_EQ(testing::list_dir(dir / "checkpoints"), (std::vector<std::string>{"BitNet-Tiny-INT8"}));
  EXPECT_EQ(testing::list_dir(dir / "results/convert"), (std::vector<std::string>{".notes", "a.json"}));
  EXPECT_TRUE(fs::exists(dir / "pipeline_status.json.tmp-x1"));
}

TEST(RunDirectory, OnePipelinePerOutputDirectory) {
  testing::ScratchDir dir;
  const RunDirectoryLock first(dir.path());
  try {
    const RunDirectoryLock second(dir.path());
    FAIL() << "second lock taken";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), dir.path().string() + ": another slidesparse pipeline is running there");
  }
}

}  // namespace
}  // namespace slidesparse
