// The job a `tune` worker process receives: what it searches, at which Ms, which candidates it
// leaves out (the ones that crashed an earlier worker).
#include "bench/isolated_gemm_search.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "test_support.h"

namespace slidesparse {
namespace {

TEST(GemmSearchJob, RoundTripsThroughItsJson) {
  GemmSearchJob job;
  job.backend = GemmBackend::CusparseLt;
  job.shape = {QuantKind::Fp8E4M3, GemmOutput::BFloat16, ScaleMode::Epilogue, 13824, 3456, false};
  job.max_m = 32768;
  job.ms = {64, 256, 32768};
  job.protocol.warmup = 7;
  job.protocol.finalists = 2;
  job.protocol.max_workspace = size_t{5} << 32;
  const std::map<int64_t, std::vector<int>> skip = {{256, {3, 9}}};
  std::map<int64_t, std::vector<int>> skip_back;
  const GemmSearchJob back = gemm_search_job_from_json(gemm_search_job_json(job, skip), &skip_back);
  EXPECT_EQ(back.backend, GemmBackend::CusparseLt);
  EXPECT_EQ(back.shape.kind, QuantKind::Fp8E4M3);
  EXPECT_EQ(back.shape.output, GemmOutput::BFloat16);
  EXPECT_EQ(back.shape.scales, ScaleMode::Epilogue);
  EXPECT_EQ(back.shape.n, 13824);
  EXPECT_EQ(back.shape.k, 3456);
  EXPECT_EQ(back.max_m, 32768);
  EXPECT_EQ(back.ms, job.ms);
  EXPECT_EQ(back.protocol.warmup, 7);
  EXPECT_EQ(back.protocol.repeat, job.protocol.repeat);
  EXPECT_EQ(back.protocol.finalists, 2);
  EXPECT_EQ(back.protocol.max_workspace, size_t{5} << 32);
  EXPECT_EQ(skip_back, skip);
}

TEST(GemmSearchJob, MalformedJobsAreOneError) {
  for (const std::string text : {"", "{}", R"({"backend": "cutlass"})", "[1, 2]"}) {
    try {
      gemm_search_job_from_json(text, nullptr);
      ADD_FAILURE() << "no error for " << text;
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()).rfind("GEMM search job: ", 0), 0u) << e.what();
    }
  }
}

TEST(GemmSearchWorker, TheHiddenCommandRefusesABadJobWithOneLine) {
  const auto r = testing::run_slidesparse({"__search-gemm", "{not json"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err.rfind("slidesparse: error: GEMM search job: malformed (", 0), 0u) << r.err;
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
}

TEST(GemmSearchWorker, TheHiddenCommandIsNotListedInTheUsage) {
  const auto r = testing::run_slidesparse({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.find("__search-gemm"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  tune "), std::string::npos) << r.out;
}

}  // namespace
}  // namespace slidesparse
