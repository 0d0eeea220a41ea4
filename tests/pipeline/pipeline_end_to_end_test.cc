// The real pipeline on the bitnet-tiny preset: tasks 1 and 2 end to end, GPU tasks skipped with the
// reason, and THE kill test: kill -9 at many moments during conversion, rerun, and the final files
// equal an uninterrupted run's.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <random>
#include <thread>

#include "gpu/device_info.h"
#include "io/model_config.h"
#include "pipeline/pipeline.h"
#include "test_support.h"

namespace slidesparse {
namespace {

namespace fs = std::filesystem;

// Relative path -> contents, with timing fields dropped from JSON files; the log, the lock and the
// report (it shows the run's durations; it is regenerated from the compared results) are left out.
std::map<std::string, std::string> file_tree(const fs::path& root) {
  std::map<std::string, std::string> tree;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file()) continue;
    const std::string rel = fs::relative(entry.path(), root).string();
    if (rel == "pipeline.log" || rel == ".pipeline.lock" || rel == "report.md" || rel.starts_with("plots/")) continue;
    std::string contents = testing::read_text(entry.path());
    if (entry.path().extension() == ".json") {
      nlohmann::json j = read_json_file(entry.path());
      const std::function<void(nlohmann::json&)> strip = [&](nlohmann::json& v) {
        if (v.is_object()) {
          for (const char* key : {"seconds", "started_utc", "updated_utc", "run"}) v.erase(key);
          for (auto& [_, child] : v.items()) strip(child);
        } else if (v.is_array()) {
          for (auto& child : v) strip(child);
        }
      };
      strip(j);
      contents = j.dump(1);
    }
    tree[rel] = std::move(contents);
  }
  return tree;
}

std::vector<std::string> tiny_args(const fs::path& out) {
  return {"pipeline", "--preset", "bitnet-tiny", "--tasks", "1,1,0,0,0,0,0,0,0", "--out", out.string()};
}

pid_t spawn_slidesparse(const std::vector<std::string>& args) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    ::dup2(null, 2);
    std::string binary = testing::slidesparse_binary();
    std::vector<std::string> copy = args;
    std::vector<char*> argv{binary.data()};
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(binary.c_str(), argv.data());
    ::_exit(127);
  }
  return pid;
}

int units_done(const fs::path& status_file) {
  try {
    const nlohmann::json status = read_json_file(status_file);
    int done = 0;
    for (const auto& [_, unit] : status.at("units").items()) done += unit.at("status") == "done";
    return done;
  } catch (const std::exception&) {
    return 0;  // not written yet
  }
}

TEST(PipelineEndToEnd, TinyModelTasksOneAndTwoThenGpuTasksSkipped) {
  if (cuda_device_available()) GTEST_SKIP() << "checks the CPU-only behaviour";
  testing::ScratchDir dir;
  PipelineOptions o;
  o.preset = "bitnet-tiny";
  o.out = dir / "out";
  o.console_log = false;
  const PipelineOutcome first = run_pipeline(o);
  EXPECT_FALSE(first.failed);
  EXPECT_FALSE(first.interrupted);
  EXPECT_EQ(first.status.model, "synth:bitnet-tiny");
  EXPECT_EQ(first.status.tasks[0].state, TaskState::Done);
  EXPECT_EQ(first.status.tasks[0].units_done, 3);
  EXPECT_EQ(first.status.tasks[1].state, TaskState::Done);
  EXPECT_EQ(first.status.tasks[1].units_done, 8);
  for (int id = 3; id <= 8; ++id) {
    EXPECT_EQ(first.status.tasks[size_t(id - 1)].state, TaskState::Skipped) << id;
    EXPECT_EQ(first.status.tasks[size_t(id - 1)].reason, "no CUDA GPU") << id;
  }
  EXPECT_EQ(testing::list_dir(o.out / "checkpoints"),
            (std::vector<std::string>{"BitNet-Tiny-BF16", "BitNet-Tiny-FP8", "BitNet-Tiny-FP8-SlideSparse-2_10",
                                      "BitNet-Tiny-FP8-SlideSparse-2_4", "BitNet-Tiny-FP8-SlideSparse-2_6",
                                      "BitNet-Tiny-FP8-SlideSparse-2_8", "BitNet-Tiny-INT8",
                                      "BitNet-Tiny-INT8-SlideSparse-2_10", "BitNet-Tiny-INT8-SlideSparse-2_4",
                                      "BitNet-Tiny-INT8-SlideSparse-2_6", "BitNet-Tiny-INT8-SlideSparse-2_8"}));
  const nlohmann::json convert = read_json_file(o.out / "results/convert/BitNet-Tiny-INT8-SlideSparse-2_8.json");
  EXPECT_EQ(convert["name"], "BitNet-Tiny-INT8-SlideSparse-2_8");
  EXPECT_EQ(convert["dtype"], "int8");
  EXPECT_EQ(convert["sparsity"], "2:8");
  EXPECT_NEAR(convert["expand_ratio"].get<double>(), 1.5, 0.05);
  EXPECT_GE(convert["zero_fraction_after"].get<double>(), 0.25);
  EXPECT_LT(convert["zero_fraction_before"].get<double>(), convert["zero_fraction_after"].get<double>());
  const nlohmann::json prepare = read_json_file(o.out / "results/prepare/BitNet-Tiny-FP8.json");
  EXPECT_EQ(prepare["dtype"], "fp8");
  EXPECT_GT(prepare["bytes"].get<int64_t>(), 0);
  EXPECT_TRUE(fs::exists(o.out / "report.md"));

  // A rerun finds everything finished and rewrites no checkpoint.
  const auto written = fs::last_write_time(o.out / "checkpoints/BitNet-Tiny-INT8-SlideSparse-2_4/model.safetensors");
  const PipelineOutcome second = run_pipeline(o);
  EXPECT_EQ(second.status.tasks[1].units_done, 8);
  EXPECT_EQ(fs::last_write_time(o.out / "checkpoints/BitNet-Tiny-INT8-SlideSparse-2_4/model.safetensors"), written);
  EXPECT_EQ(status_to_json(second.status)["units"], status_to_json(first.status)["units"]);
}

// A unit that breaks the CUDA context (injected here: there is no GPU fault to be had on the CPU):
// the program records it as failed, re-executes itself, the fresh process finishes the other units
// without retrying it, and a later invocation does retry it.
TEST(PipelineEndToEnd, AContextBreakingUnitContinuesInAFreshProcess) {
  testing::ScratchDir dir;
  const fs::path out = dir / "out";
  std::vector<std::string> args = tiny_args(out);
  args.push_back("--restart");  // the continuation must not repeat it (it would wipe the results)
  ::setenv("SLIDESPARSE_PIPELINE_TEST_FAULT", "convert/INT8/2:8", 1);
  const testing::CommandResult faulted = testing::run_slidesparse(args);
  ::unsetenv("SLIDESPARSE_PIPELINE_TEST_FAULT");
  EXPECT_EQ(faulted.exit_code, 1) << faulted.err;
  const std::string log = testing::read_text(out / "pipeline.log");
  EXPECT_NE(log.find("pipeline: convert/INT8/2:8 broke this process's CUDA context; the remaining units continue "
                     "in a fresh process"),
            std::string::npos)
      << log;
  size_t starts = 0;
  for (size_t at = log.find("pipeline: synth:bitnet-tiny ->"); at != std::string::npos;
       at = log.find("pipeline: synth:bitnet-tiny ->", at + 1))
    ++starts;
  EXPECT_EQ(starts, 2u);  // the first process and its continuation
  EXPECT_NE(log.find("(restart)"), std::string::npos);
  EXPECT_NE(log.find("(resuming where a previous run stopped, if any)"), std::string::npos);

  PipelineStatus status = load_pipeline_status(out / "pipeline_status.json");
  EXPECT_FALSE(status.units.at("convert/INT8/2:8").done);
  EXPECT_EQ(status.units.at("convert/INT8/2:8").error, "injected fault (SLIDESPARSE_PIPELINE_TEST_FAULT)");
  EXPECT_EQ(units_done(out / "pipeline_status.json"), 10);  // 3 base models + 7 other conversions
  EXPECT_EQ(status.task(2).state, TaskState::Failed);
  EXPECT_EQ(status.task(2).reason,
            "1 unit(s) failed, first convert/INT8/2:8: injected fault (SLIDESPARSE_PIPELINE_TEST_FAULT)");
  EXPECT_TRUE(fs::exists(out / "checkpoints/BitNet-Tiny-INT8-SlideSparse-2_10/model.safetensors"));
  EXPECT_FALSE(fs::exists(out / "checkpoints/BitNet-Tiny-INT8-SlideSparse-2_8"));

  const testing::CommandResult again = testing::run_slidesparse(tiny_args(out));  // a new invocation
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(units_done(out / "pipeline_status.json"), 11);
  EXPECT_EQ(load_pipeline_status(out / "pipeline_status.json").task(2).state, TaskState::Done);
}

TEST(PipelineEndToEnd, KillNineDuringConversionThenResumeEqualsAnUninterruptedRun) {
  testing::ScratchDir dir;
  const testing::CommandResult reference = testing::run_slidesparse(tiny_args(dir / "reference"));
  ASSERT_EQ(reference.exit_code, 0) << reference.err;

  const fs::path out = dir / "killed";
  const fs::path status = out / "pipeline_status.json";
  std::mt19937 rng(20261125);  // fixed: the same kill moments every run
  int kills = 0, last_done = 0;
  // Round r waits until r+1 units are recorded, then kills within the next few milliseconds: the
  // kills walk through synth, prepare and every conversion, mid-unit and between units.
  for (int round = 0; round < 10; ++round) {
    const pid_t child = spawn_slidesparse(tiny_args(out));
    int wstatus = 0;
    bool exited = false;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!exited && units_done(status) < round + 1 && std::chrono::steady_clock::now() < deadline) {
      exited = ::waitpid(child, &wstatus, WNOHANG) == child;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    if (!exited) {
      std::this_thread::sleep_for(std::chrono::microseconds(std::uniform_int_distribution<int>(0, 8000)(rng)));
      ::kill(child, SIGKILL);
      ASSERT_EQ(::waitpid(child, &wstatus, 0), child);
      kills += WIFSIGNALED(wstatus);
    }
    const int done = units_done(status);
    EXPECT_GE(done, last_done) << "round " << round << ": a finished unit was lost";
    last_done = done;
    if (exited) break;
  }
  EXPECT_GE(kills, 5);
  const testing::CommandResult finish = testing::run_slidesparse(tiny_args(out));
  ASSERT_EQ(finish.exit_code, 0) << finish.err;
  EXPECT_EQ(units_done(status), 11);

  const auto want = file_tree(dir / "reference"), got = file_tree(out);
  std::vector<std::string> want_names, got_names;
  for (const auto& [name, _] : want) want_names.push_back(name);
  for (const auto& [name, _] : got) got_names.push_back(name);
  ASSERT_EQ(got_names, want_names);
  for (const auto& [name, contents] : want) EXPECT_TRUE(got.at(name) == contents) << name << " differs";
}

}  // namespace
}  // namespace slidesparse
