// OUT/pipeline_status.json: the pipeline's memory between invocations. Rewritten atomically after
// every finished unit of work, so a run killed at any moment resumes from the last finished unit.
// A unit records the options it ran with; a rerun with other options runs it again.
#pragma once

#include <array>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

namespace slidesparse {

enum class TaskState { Pending, Running, Done, Failed, Skipped, Interrupted };
std::string task_state_name(TaskState state);
TaskState parse_task_state(const std::string& name);  // throws Error on an unknown name

struct TaskStatus {
  int id = 0;
  std::string name;
  TaskState state = TaskState::Pending;
  double seconds = 0;
  std::string reason;  // why skipped / failed / interrupted; empty otherwise
  int units_done = 0, units_total = 0;
};

struct UnitStatus {
  bool done = false;  // false: failed (error says why)
  double seconds = 0;
  std::string error;
  int task = 0;
  nlohmann::json options;  // what the unit ran with; a different request reruns it
  std::string run;         // id of the invocation that recorded it (kept across fresh-process restarts)
};

inline constexpr int kPipelineTasks = 9;
inline constexpr int kPipelineStatusVersion = 1;

struct PipelineStatus {
  std::string model;
  std::string started_utc, updated_utc;
  std::array<TaskStatus, kPipelineTasks> tasks;  // ids 1..9 with their names
  std::map<std::string, UnitStatus> units;

  PipelineStatus();
  // True when `key` finished with exactly these options.
  bool unit_done(const std::string& key, const nlohmann::json& options) const;
  // True when `key` failed with these options during invocation `run`.
  bool unit_failed_in(const std::string& key, const nlohmann::json& options, const std::string& run) const;
  TaskStatus& task(int id) { return tasks.at(static_cast<size_t>(id - 1)); }
  const TaskStatus& task(int id) const { return tasks.at(static_cast<size_t>(id - 1)); }
};

std::string pipeline_task_name(int id);  // 1 -> "base models", ..., 9 -> "perplexity"

nlohmann::json status_to_json(const PipelineStatus& status);
// Throws Error "<source>: ..." naming the first bad field.
PipelineStatus status_from_json(const nlohmann::json& json, const std::string& source);

// A missing file gives a fresh status; a malformed one is an Error naming the file.
PipelineStatus load_pipeline_status(const std::filesystem::path& file);
void save_pipeline_status(const std::filesystem::path& file, const PipelineStatus& status);

// "2026-11-25T08:31:00Z".
std::string utc_now();

}  // namespace slidesparse
