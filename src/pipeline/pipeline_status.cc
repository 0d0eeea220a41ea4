#include "pipeline/pipeline_status.h"

#include <ctime>

#include "core/error.h"
#include "io/model_config.h"
#include "io/staged_directory.h"

namespace slidesparse {

namespace {

constexpr std::array<const char*, 6> kStateNames = {"pending", "running", "done", "failed", "skipped", "interrupted"};

template <typename T>
T field(const nlohmann::json& j, const char* key, const std::string& where) {
  require(j.is_object() && j.contains(key), where + ": missing field '" + key + "'");
  try {
    return j.at(key).get<T>();
  } catch (const nlohmann::json::exception&) {
    fail(where + ": field '" + key + "' has the wrong type");
  }
}

}  // namespace

std::string task_state_name(TaskState state) { return kStateNames.at(static_cast<size_t>(state)); }

TaskState parse_task_state(const std::string& name) {
  for (size_t i = 0; i < kStateNames.size(); ++i)
    if (name == kStateNames[i]) return static_cast<TaskState>(i);
  fail("unknown task status '" + name + "'");
}

std::string pipeline_task_name(int id) {
  static const std::array<const char*, kPipelineTasks> names = {"base models",
                                                                "SlideSparse conversion",
                                                                "offline tuning",
                                                                "prefill throughput",
                                                                "decode throughput",
                                                                "kernel cuBLASLt",
                                                                "kernel cuSPARSELt 2:4..2:10",
                                                                "kernel cuSPARSELt 2:12..2:inf",
                                                                "perplexity"};
  require(id >= 1 && id <= kPipelineTasks, "pipeline task id " + std::to_string(id) + " is not in 1.." + std::to_string(kPipelineTasks));
  return names[static_cast<size_t>(id - 1)];
}

PipelineStatus::PipelineStatus() {
  for (int id = 1; id <= kPipelineTasks; ++id) {
    task(id).id = id;
    task(id).name = pipeline_task_name(id);
  }
}

bool PipelineStatus::unit_done(const std::string& key, const nlohmann::json& options) const {
  const auto it = units.find(key);
  return it != units.end() && it->second.done && it->second.options == options;
}

bool PipelineStatus::unit_failed_in(const std::string& key, const nlohmann::json& options,
                                    const std::string& run) const {
  const auto it = units.find(key);
  return it != units.end() && !it->second.done && !run.empty() && it->second.run == run &&
         it->second.options == options;
}

nlohmann::json status_to_json(const PipelineStatus& s) {
  nlohmann::json tasks = nlohmann::json::array();
  for (const TaskStatus& t : s.tasks)
    tasks.push_back({{"id", t.id},
                     {"name", t.name},
                     {"status", task_state_name(t.state)},
                     {"seconds", t.seconds},
                     {"reason", t.reason},
                     {"units_done", t.units_done},
                     {"units_total", t.units_total}});
  nlohmann::json units = nlohmann::json::object();
  for (const auto& [key, u] : s.units)
    units[key] = {{"status", u.done ? "done" : "failed"},
                  {"seconds", u.seconds},
                  {"error", u.error},
                  {"task", u.task},
                  {"run", u.run},
                  {"options", u.options}};
  return {{"version", kPipelineStatusVersion}, {"model", s.model}, {"started_utc", s.started_utc},
          {"updated_utc", s.updated_utc},      {"tasks", tasks},   {"units", units}};
}

PipelineStatus status_from_json(const nlohmann::json& j, const std::string& source) {
  const int version = field<int>(j, "version", source);
  require(version == kPipelineStatusVersion,
          source + ": status version " + std::to_string(version) + " is not " + std::to_string(kPipelineStatusVersion));
  PipelineStatus s;
  s.model = field<std::string>(j, "model", source);
  s.started_utc = field<std::string>(j, "started_utc", source);
  s.updated_utc = field<std::string>(j, "updated_utc", source);
  const auto tasks = field<nlohmann::json>(j, "tasks", source);
  // Runs of older builds had eight tasks: the ninth then starts pending.
  require(tasks.is_array() && (tasks.size() == kPipelineTasks || tasks.size() == kPipelineTasks - 1),
          source + ": 'tasks' must list the " + std::to_string(kPipelineTasks) + " tasks");
  for (const auto& t : tasks) {
    const int id = field<int>(t, "id", source);
    require(id >= 1 && id <= static_cast<int>(tasks.size()),
            source + ": task id " + std::to_string(id) + " is not in 1.." + std::to_string(tasks.size()));
    TaskStatus& task = s.task(id);
    const std::string where = source + ": task " + std::to_string(id);
    try {
      task.state = parse_task_state(field<std::string>(t, "status", where));
    } catch (const Error& e) {
      fail(where + ": " + e.what());
    }
    task.seconds = field<double>(t, "seconds", where);
    task.reason = field<std::string>(t, "reason", where);
    task.units_done = field<int>(t, "units_done", where);
    task.units_total = field<int>(t, "units_total", where);
  }
  const auto units = field<nlohmann::json>(j, "units", source);
  require(units.is_object(), source + ": 'units' must be an object");
  for (const auto& [key, u] : units.items()) {
    const std::string where = source + ": unit '" + key + "'";
    const std::string state = field<std::string>(u, "status", where);
    require(state == "done" || state == "failed", where + ": status must be done or failed, got '" + state + "'");
    UnitStatus unit;
    unit.done = state == "done";
    unit.seconds = field<double>(u, "seconds", where);
    unit.error = field<std::string>(u, "error", where);
    unit.task = field<int>(u, "task", where);
    unit.options = field<nlohmann::json>(u, "options", where);
    if (u.contains("run")) unit.run = field<std::string>(u, "run", where);  // absent in files of older builds
    s.units[key] = std::move(unit);
  }
  return s;
}

PipelineStatus load_pipeline_status(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return PipelineStatus{};
  return status_from_json(read_json_file(file), file.string());
}

void save_pipeline_status(const std::filesystem::path& file, const PipelineStatus& status) {
  write_file_atomic(file, status_to_json(status).dump(2) + "\n");
}

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

}  // namespace slidesparse
