// `tune`'s GEMM searches, each in a process of its own: a library configuration that crashes
// (a kernel fault breaks the CUDA context for good) or hangs (a kernel that never returns) is
// dropped and recorded as such, and the search goes on in a fresh process without it, instead of
// taking the tuning run down. The worker
// is this executable run with the hidden command `__search-gemm`; it reports on its stdout, one
// line per event: "try <M> <candidate index>" before a candidate first runs, "done <json>" after
// each M.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "bench/gemm_search.h"

namespace slidesparse {

struct GemmSearchJob {
  GemmBackend backend = GemmBackend::CublasLt;
  GemmShape shape;
  int64_t max_m = 0;
  std::vector<int64_t> ms;
  SearchProtocol protocol;
};

struct GemmSearchOutcome {
  int64_t m = 0;
  GemmChoice best;
  int candidates = 0;  // that ran correctly
  std::vector<RejectedGemm> rejected;
};

// Searches every M of the job, restarting the worker after each crash without the candidate it
// was running (at most `max_crashes` times, then Error). A worker that reports nothing for
// `stuck_after` (each candidate is checked and timed in well under a second) counts as crashed.
// on_done(outcome) follows each M.
std::vector<GemmSearchOutcome> search_gemm_isolated(const GemmSearchJob& job,
                                                    const std::function<void(const GemmSearchOutcome&)>& on_done,
                                                    int max_crashes = 64,
                                                    std::chrono::seconds stuck_after = std::chrono::seconds(120));

// The job as the worker's argument, and back (throws Error when malformed).
std::string gemm_search_job_json(const GemmSearchJob& job, const std::map<int64_t, std::vector<int>>& skip);
GemmSearchJob gemm_search_job_from_json(const std::string& text, std::map<int64_t, std::vector<int>>* skip);

// The hidden `__search-gemm JOB_JSON` command.
int run_gemm_search_worker(const std::vector<std::string>& args);

}  // namespace slidesparse
