// Which Ms `slidesparse tune` searches: for what the engine runs every step (cuBLASLt GEMMs, fused
// norms) the coarse Ms and the decode batch sizes, for cuSPARSELt the fine Ms and the decode batch
// sizes (where a 2:4 linear's dense fallback compares the two), and the dense GEMMs wherever the
// sparse ones are when 2:L patterns are tuned; sorted and each once.
#include <gtest/gtest.h>

#include "bench/tuner.h"

namespace slidesparse {
namespace {

TEST(TuneMs, EngineStepMsAreTheCoarseAndDecodeMsSortedOnce) {
  TuneOptions o;
  EXPECT_EQ(engine_step_ms(o), (std::vector<int64_t>{64, 128, 256, 512, 1024, 4096, 16384, 32768}));
  o.coarse_ms = {4096, 1024};
  o.decode_ms = {256, 1024, 64};
  EXPECT_EQ(engine_step_ms(o), (std::vector<int64_t>{64, 256, 1024, 4096}));
  o.decode_ms.clear();
  EXPECT_EQ(engine_step_ms(o), (std::vector<int64_t>{1024, 4096}));
}

TEST(TuneMs, SparseSearchMsAreTheFineAndDecodeMsSortedOnce) {
  TuneOptions o;
  EXPECT_EQ(sparse_search_ms(o),
            (std::vector<int64_t>{64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768}));
  o.fine_ms = {32768};
  o.decode_ms = {512, 64};
  EXPECT_EQ(sparse_search_ms(o), (std::vector<int64_t>{64, 512, 32768}));
  o.decode_ms.clear();
  EXPECT_EQ(sparse_search_ms(o), (std::vector<int64_t>{32768}));
}

TEST(TuneMs, DenseGemmsAreSearchedWhereverTheSparseOnesAreWhenPatternsAreTuned) {
  EXPECT_EQ(dense_gemm_search_ms(TuneOptions{}),
            (std::vector<int64_t>{64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768}));
  struct Case {
    bool sparse;
    std::vector<Sparsity> sparsities;
    std::vector<int64_t> want;
  };
  // coarse 32768, fine 2048 and 32768, decode 64: the fine Ms join only with patterns to tune.
  for (const Case& c : {Case{true, {Sparsity::two_of(8)}, {64, 2048, 32768}},
                        Case{false, {Sparsity::two_of(8)}, {64, 32768}}, Case{true, {}, {64, 32768}}}) {
    TuneOptions o;
    o.coarse_ms = {32768};
    o.fine_ms = {2048, 32768};
    o.decode_ms = {64};
    o.sparse = c.sparse;
    o.sparsities = c.sparsities;
    EXPECT_EQ(dense_gemm_search_ms(o), c.want) << "sparse " << c.sparse << ", " << c.sparsities.size() << " patterns";
  }
}

}  // namespace
}  // namespace slidesparse
