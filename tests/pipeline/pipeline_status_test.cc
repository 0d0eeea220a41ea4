#include "pipeline/pipeline_status.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "io/model_config.h"
#include "io/staged_directory.h"
#include "pipeline/pipeline_options.h"
#include "test_support.h"

namespace slidesparse {
namespace {

using testing::error_of;

TEST(PipelineStatus, RoundTripsThroughItsFile) {
  testing::ScratchDir dir;
  PipelineStatus s;
  s.model = "synth:bitnet-tiny";
  s.started_utc = "2026-11-25T08:00:00Z";
  s.task(2).state = TaskState::Failed;
  s.task(2).seconds = 1.5;
  s.task(2).reason = "1 unit(s) failed";
  s.task(2).units_done = 7;
  s.task(2).units_total = 8;
  s.units["convert/FP8/2:6"] = {false, 0, "disk full", 2, {{"sparsity", "2:6"}}, "00000000000000aa"};
  s.units["base/INT8"] = {true, 0.25, "", 1, {{"dtype", "int8"}}, ""};
  save_pipeline_status(dir / "status.json", s);

  const PipelineStatus back = load_pipeline_status(dir / "status.json");
  EXPECT_EQ(status_to_json(back), status_to_json(s));
  EXPECT_EQ(back.task(2).state, TaskState::Failed);
  EXPECT_EQ(back.tasks[0].name, "base models");
  EXPECT_EQ(back.tasks[7].name, "kernel cuSPARSELt 2:12..2:inf");
  EXPECT_EQ(back.tasks[8].name, "perplexity");
  EXPECT_TRUE(back.unit_done("base/INT8", {{"dtype", "int8"}}));
  EXPECT_FALSE(back.unit_done("base/INT8", {{"dtype", "fp8"}}));           // other options: not this unit
  EXPECT_FALSE(back.unit_done("convert/FP8/2:6", {{"sparsity", "2:6"}}));  // failed
  EXPECT_TRUE(back.unit_failed_in("convert/FP8/2:6", {{"sparsity", "2:6"}}, "00000000000000aa"));
  EXPECT_FALSE(back.unit_failed_in("convert/FP8/2:6", {{"sparsity", "2:6"}}, "00000000000000bb"));  // another run
  EXPECT_FALSE(back.unit_failed_in("base/INT8", {{"dtype", "int8"}}, ""));
  const nlohmann::json j = read_json_file(dir / "status.json");
  EXPECT_EQ(j["units"]["convert/FP8/2:6"]["status"], "failed");
  EXPECT_EQ(j["tasks"][1]["status"], "failed");
  EXPECT_EQ(j["version"], 1);
  EXPECT_EQ(j["units"]["convert/FP8/2:6"]["run"], "00000000000000aa");

  nlohmann::json older = j;  // files written before units recorded their run still load
  older["units"]["convert/FP8/2:6"].erase("run");
  EXPECT_EQ(status_from_json(older, "old.json").units.at("convert/FP8/2:6").run, "");

  nlohmann::json eight = j;  // runs of builds with eight tasks resume: task 9 starts pending
  eight["tasks"].erase(8);
  const PipelineStatus resumed = status_from_json(eight, "eight.json");
  EXPECT_EQ(resumed.task(2).state, TaskState::Failed);
  EXPECT_EQ(resumed.task(9).state, TaskState::Pending);
  EXPECT_EQ(resumed.task(9).name, "perplexity");
}

TEST(PipelineStatus, MissingFileIsAFreshStatus) {
  testing::ScratchDir dir;
  const PipelineStatus s = load_pipeline_status(dir / "none.json");
  EXPECT_TRUE(s.units.empty());
  for (int id = 1; id <= 8; ++id) EXPECT_EQ(s.tasks[size_t(id - 1)].state, TaskState::Pending);
}

TEST(PipelineStatus, MalformedFilesNameTheProblem) {
  testing::ScratchDir dir;
  nlohmann::json j = status_to_json(PipelineStatus{});
  j["version"] = 2;
  EXPECT_EQ(error_of([&] { status_from_json(j, "s.json"); }), "s.json: status version 2 is not 1");
  j = status_to_json(PipelineStatus{});
  j["tasks"][3]["status"] = "sleeping";
  EXPECT_EQ(error_of([&] { status_from_json(j, "s.json"); }), "s.json: task 4: unknown task status 'sleeping'");
  j = status_to_json(PipelineStatus{});
  j["units"]["x"] = {{"status", "running"}, {"seconds", 0}, {"error", ""}, {"task", 1}, {"options", {}}};
  EXPECT_EQ(error_of([&] { status_from_json(j, "s.json"); }),
            "s.json: unit 'x': status must be done or failed, got 'running'");
  j = status_to_json(PipelineStatus{});
  j.erase("units");
  EXPECT_EQ(error_of([&] { status_from_json(j, "s.json"); }), "s.json: missing field 'units'");
  write_file_atomic(dir / "bad.json", "{\"version\": 1,");
  EXPECT_TRUE(error_of([&] { load_pipeline_status(dir / "bad.json"); }).starts_with((dir / "bad.json").string()));
}

TEST(PipelineOptions, TaskMask) {
  EXPECT_EQ(parse_task_mask("1,1,0,0,0,0,0,1,0"),
            (std::array<bool, 9>{true, true, false, false, false, false, false, true, false}));
  // The eight-flag form of older builds leaves task 9 on.
  EXPECT_EQ(parse_task_mask("1,1,0,0,0,0,0,1"),
            (std::array<bool, 9>{true, true, false, false, false, false, false, true, true}));
  const std::string prefix = "option '--tasks' expects 9 comma-separated 0/1 flags (e.g. 1,1,0,0,0,0,0,0,0), got '";
  for (const std::string bad : {"1,1,1", "1,1,1,1,1,1,1,1,1,1", "1,1,0,0,0,0,0,2", "11,0,0,0,0,0,0,0", "1,1,0,0,0,0,0,0,",
                                "", "1;1;0;0;0;0;0;0", "yes"})
    EXPECT_EQ(error_of([&] { parse_task_mask(bad); }), prefix + bad + "'") << bad;
}

TEST(PipelineOptions, QuickProfileAndLabels) {
  PipelineOptions o;
  EXPECT_EQ(pipeline_model_label(o), "BitNet-2B");
  apply_quick_profile(o);
  EXPECT_EQ(o.preset, "bitnet-small");
  EXPECT_EQ(pipeline_model_label(o), "BitNet-Small");
  ASSERT_EQ(o.sparsities.size(), 2u);
  EXPECT_EQ(o.sparsities[1].str(), "2:8");
  EXPECT_EQ(o.low_sparsities.front().str(), "2:inf");
  EXPECT_EQ(o.kinds.size(), 2u);
  EXPECT_FALSE(o.tune_fine);
  EXPECT_EQ(o.prefill_ms, (std::vector<int64_t>{512, 2048}));

  PipelineOptions hub;
  hub.model = "microsoft/bitnet-b1.58-2B-4T-bf16";
  apply_quick_profile(hub);
  EXPECT_EQ(hub.preset, "bitnet-2b");  // --model keeps its own size
  PipelineOptions unknown;
  unknown.preset = "bitnet-huge";
  EXPECT_TRUE(error_of([&] { pipeline_model_label(unknown); }).find("bitnet-huge") != std::string::npos);
}

}  // namespace
}  // namespace slidesparse
