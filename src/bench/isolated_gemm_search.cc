#include "bench/isolated_gemm_search.h"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <set>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/interrupt.h"
#include "core/pipe_lines.h"
#include "gpu/device_info.h"

extern char** environ;

namespace slidesparse {

namespace {

template <typename Enum, size_t N>
Enum enum_named(const std::string& name, const Enum (&values)[N], std::string_view (*spell)(Enum), const char* what) {
  for (Enum v : values)
    if (spell(v) == name) return v;
  fail(std::string("GEMM search job: unknown ") + what + " '" + name + "'");
}

constexpr GemmBackend kBackends[] = {GemmBackend::CublasLt, GemmBackend::CusparseLt};
constexpr QuantKind kKinds[] = {QuantKind::Int8, QuantKind::Fp8E4M3};
constexpr GemmOutput kOutputs[] = {GemmOutput::Int32, GemmOutput::Float32, GemmOutput::BFloat16};
constexpr ScaleMode kScales[] = {ScaleMode::Epilogue, ScaleMode::WeightInGemm, ScaleMode::BothInGemm};

nlohmann::json outcome_json(const GemmSearchOutcome& o) {
  nlohmann::json rejected = nlohmann::json::array();
  for (const RejectedGemm& r : o.rejected) rejected.push_back({{"choice", r.choice}, {"reason", r.reason}});
  return {{"m", o.m}, {"best", gemm_choice_json(o.best)}, {"candidates", o.candidates}, {"rejected", rejected}};
}

GemmSearchOutcome outcome_from_json(const std::string& text) {
  try {
    const nlohmann::json j = nlohmann::json::parse(text);
    GemmSearchOutcome o;
    o.m = j.at("m").get<int64_t>();
    o.best = gemm_choice_from_json(j.at("best"), "GEMM search worker");
    o.candidates = j.at("candidates").get<int>();
    for (const auto& r : j.at("rejected"))
      o.rejected.push_back({r.at("choice").get<std::string>(), r.at("reason").get<std::string>()});
    return o;
  } catch (const nlohmann::json::exception& e) {
    fail(std::string("GEMM search worker: malformed result (") + e.what() + ")");
  }
}

std::string self_executable() {
  std::vector<char> exe(4096);
  const ssize_t n = ::readlink("/proc/self/exe", exe.data(), exe.size() - 1);
  if (n <= 0) fail(std::string("cannot find this executable: /proc/self/exe: ") + std::strerror(errno));
  return std::string(exe.data(), static_cast<size_t>(n));
}

std::string describe_exit(int status) {
  if (WIFSIGNALED(status))
    return "killed by signal " + std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) + ")";
  return "exit code " + std::to_string(WEXITSTATUS(status));
}

struct WorkerRun {
  std::vector<GemmSearchOutcome> done;
  bool clean = false;
  std::string how;          // describe_exit
  int64_t last_m = -1;      // the candidate running when it ended
  int last_index = -1;
  std::string last_choice;
  std::string failure;      // an ordinary error the worker reported ("fail <message>"): not a crash
};

// Runs one worker over `job` (whose ms are still to do), skipping `skip`; returns what it finished.
WorkerRun run_worker(const GemmSearchJob& job, const std::map<int64_t, std::vector<int>>& skip,
                     const std::function<void(const GemmSearchOutcome&)>& on_done,
                     std::chrono::milliseconds stuck_after) {
  int fds[2];
  if (::pipe(fds) != 0) fail(std::string("GEMM search: pipe: ") + std::strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  posix_spawn_file_actions_addclose(&actions, fds[1]);
  const std::string exe = self_executable(), command = "__search-gemm", arg = gemm_search_job_json(job, skip);
  char* argv[] = {const_cast<char*>(exe.c_str()), const_cast<char*>(command.c_str()), const_cast<char*>(arg.c_str()),
                  nullptr};
  std::fflush(nullptr);
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (spawned != 0) {
    ::close(fds[0]);
    fail("GEMM search: cannot start " + exe + ": " + std::strerror(spawned));
  }
  WorkerRun run;
  const PipeEnd end = read_lines(fds[0], stuck_after, [&](const std::string& text) {
    if (text.rfind("try ", 0) == 0) {
      long long m = 0;
      int index = 0, used = 0;
      if (std::sscanf(text.c_str() + 4, "%lld %d %n", &m, &index, &used) >= 2) {
        run.last_m = m;
        run.last_index = index;
        run.last_choice = text.substr(4 + static_cast<size_t>(used));
      }
    } else if (text.rfind("fail ", 0) == 0) {
      run.failure = text.substr(5);
    } else if (text.rfind("done ", 0) == 0) {
      run.done.push_back(outcome_from_json(text.substr(5)));
      run.last_m = -1;
      if (on_done) on_done(run.done.back());
    }
  });
  ::close(fds[0]);
  // A worker that went silent is stuck (a library kernel that never returns): it is killed, and its
  // candidate is dropped like one that crashed.
  const bool stuck = end == PipeEnd::Silent;
  if (stuck) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  run.clean = !stuck && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  run.how = stuck ? "stuck: nothing reported for " + std::to_string(stuck_after.count() / 1000) + " s, killed"
                  : describe_exit(status);
  return run;
}

}  // namespace

std::string gemm_search_job_json(const GemmSearchJob& job, const std::map<int64_t, std::vector<int>>& skip) {
  nlohmann::json skips = nlohmann::json::object();
  for (const auto& [m, indices] : skip) skips[std::to_string(m)] = indices;
  const SearchProtocol& p = job.protocol;
  return nlohmann::json{{"backend", gemm_backend_name(job.backend)},
                        {"kind", quant_kind_name(job.shape.kind)},
                        {"output", gemm_output_name(job.shape.output)},
                        {"scales", scale_mode_name(job.shape.scales)},
                        {"n", job.shape.n},
                        {"k", job.shape.k},
                        {"fast_accum", job.shape.fast_accum},
                        {"max_m", job.max_m},
                        {"ms", job.ms},
                        {"skip", skips},
                        {"protocol",
                         {p.warmup, p.repeat, p.screen_warmup, p.screen_repeat, p.finalists, p.max_cublaslt_candidates,
                          p.max_workspace}}}
      .dump();
}

GemmSearchJob gemm_search_job_from_json(const std::string& text, std::map<int64_t, std::vector<int>>* skip) {
  try {
    const nlohmann::json j = nlohmann::json::parse(text);
    GemmSearchJob job;
    job.backend = enum_named(j.at("backend").get<std::string>(), kBackends, gemm_backend_name, "backend");
    job.shape.kind = enum_named(j.at("kind").get<std::string>(), kKinds, quant_kind_name, "type");
    job.shape.output = enum_named(j.at("output").get<std::string>(), kOutputs, gemm_output_name, "output");
    job.shape.scales = enum_named(j.at("scales").get<std::string>(), kScales, scale_mode_name, "scale mode");
    job.shape.n = j.at("n").get<int64_t>();
    job.shape.k = j.at("k").get<int64_t>();
    job.shape.fast_accum = j.at("fast_accum").get<bool>();
    job.max_m = j.at("max_m").get<int64_t>();
    job.ms = j.at("ms").get<std::vector<int64_t>>();
    const auto& p = j.at("protocol");
    job.protocol = {p.at(0).get<int>(), p.at(1).get<int>(), p.at(2).get<int>(), p.at(3).get<int>(),
                    p.at(4).get<int>(), p.at(5).get<int>(), p.at(6).get<size_t>()};
    if (skip) {
      skip->clear();
      for (const auto& [m, indices] : j.at("skip").items()) (*skip)[std::stoll(m)] = indices.get<std::vector<int>>();
    }
    return job;
  } catch (const nlohmann::json::exception& e) {
    fail(std::string("GEMM search job: malformed (") + e.what() + ")");
  } catch (const std::logic_error& e) {  // stoll
    fail(std::string("GEMM search job: malformed (") + e.what() + ")");
  }
}

std::vector<GemmSearchOutcome> search_gemm_isolated(const GemmSearchJob& job,
                                                    const std::function<void(const GemmSearchOutcome&)>& on_done,
                                                    int max_crashes, std::chrono::seconds stuck_after) {
  std::vector<GemmSearchOutcome> outcomes;
  std::map<int64_t, std::vector<int>> skip;
  std::map<int64_t, std::vector<RejectedGemm>> crashed;  // candidates that took a worker down
  GemmSearchJob rest = job;
  for (int crashes = 0; !rest.ms.empty();) {
    WorkerRun run = run_worker(rest, skip, [&](const GemmSearchOutcome& o) {
      GemmSearchOutcome with_crashes = o;
      const auto c = crashed.find(o.m);
      if (c != crashed.end()) with_crashes.rejected.insert(with_crashes.rejected.begin(), c->second.begin(), c->second.end());
      outcomes.push_back(with_crashes);
      if (on_done) on_done(with_crashes);
    }, stuck_after);
    throw_if_interrupted();
    std::set<int64_t> finished;
    for (const auto& o : run.done) finished.insert(o.m);
    std::vector<int64_t> left;
    for (int64_t m : rest.ms)
      if (!finished.count(m)) left.push_back(m);
    rest.ms = left;
    if (run.clean) {
      require(rest.ms.empty(), "GEMM search worker ended without searching every M");
      break;
    }
    if (!run.failure.empty()) fail(run.failure);  // e.g. no candidate ran correctly: nothing to retry
    // The worker died: the candidate it was trying is the culprit (a crash between candidates,
    // or before the first, is a failure of its own).
    const std::string what = std::string(gemm_backend_name(job.backend)) + " " + std::string(quant_kind_name(job.shape.kind)) +
                             " N=" + std::to_string(job.shape.n) + " K=" + std::to_string(job.shape.k);
    if (run.last_m < 0) fail("GEMM search for " + what + " failed outside any candidate (" + run.how + ")");
    require(++crashes <= max_crashes, "GEMM search for " + what + ": more than " + std::to_string(max_crashes) +
                                          " candidates crashed; giving up");
    skip[run.last_m].push_back(run.last_index);
    crashed[run.last_m].push_back({run.last_choice, "took the search process down (" + run.how + ")"});
    std::fprintf(stderr, "slidesparse: %s M=%lld: %s took the search process down (%s); dropped, searching on\n",
                 what.c_str(), static_cast<long long>(run.last_m), run.last_choice.c_str(), run.how.c_str());
  }
  return outcomes;
}

namespace {

int search_gemm_worker(const GemmSearchJob& job, const std::map<int64_t, std::vector<int>>& skip) {
  cudaStream_t stream;
  require(cudaStreamCreate(&stream) == cudaSuccess, "GEMM search worker: cannot create a CUDA stream");
  GemmSearcher searcher(job.backend, job.shape, job.max_m, stream);
  for (int64_t m : job.ms) {
    throw_if_interrupted();
    std::set<int> skipped;
    if (const auto it = skip.find(m); it != skip.end()) skipped.insert(it->second.begin(), it->second.end());
    const SearchResult r = searcher.search(m, job.protocol, skipped, [m](int index, const std::string& choice) {
      std::printf("try %lld %d %s\n", static_cast<long long>(m), index, choice.c_str());
      std::fflush(stdout);
    });
    GemmSearchOutcome o;
    o.m = m;
    o.best = r.ranked.front();
    o.candidates = r.candidates;
    for (const RejectedChoice& x : r.rejected) o.rejected.push_back({x.choice, x.reason});
    std::printf("done %s\n", outcome_json(o).dump().c_str());
    std::fflush(stdout);
  }
  cudaStreamDestroy(stream);
  return 0;
}

}  // namespace

int run_gemm_search_worker(const std::vector<std::string>& args) {
  require(args.size() == 1, "usage: slidesparse __search-gemm JOB_JSON (started by slidesparse tune)");
  std::map<int64_t, std::vector<int>> skip;
  const GemmSearchJob job = gemm_search_job_from_json(args[0], &skip);
  try {
    return search_gemm_worker(job, skip);
  } catch (const Error& e) {
    // A broken CUDA context means the running candidate crashed: exit like a crash, and the parent
    // drops that candidate. Any other error is the search's own: the parent reports it.
    if (cuda_context_broken()) throw;
    std::printf("fail %s\n", e.what());
    std::fflush(stdout);
    throw;
  }
}

}  // namespace slidesparse
