// embedding_gather_gpu and argmax_rows_gpu against CPU references written here (a row copy and a
// first-maximum scan), exactly: aligned (16-byte) and unaligned (element) paths, invalid token ids
// (zero row + error flag), argmax ties (lowest index), NaN (never wins), +-inf and signed zeros,
// vocabularies smaller than one vector and the engine's 128256. sample_rows_gpu against the CPU
// Sampler, token for token: temperatures, top-k, top-p and both, ties at the cuts, NaN and
// infinities. The argmax and sampling cases run at every blocks-per-row choice the GPU has (one
// block, clusters of 2, 4 and 8, the default). Inputs are fresh random non-zero values; outputs are
// poisoned before every run.
#include <gtest/gtest.h>

#include <climits>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "gpu/cuda_check.h"
#include "gpu/device_buffer.h"
#include "gpu/device_info.h"
#include "gpu_test_util.h"
#include "kernels/embedding.h"
#include "kernels/sampling.h"
#include "core/counter_rng.h"
#include "math/numeric_formats.h"
#include "sequences/sampler.h"

namespace slidesparse {
namespace {

constexpr uint8_t kPoison = 0xA5;
constexpr uint16_t kPoisonBf16 = 0xA5A5;
constexpr int32_t kPoisonInt = static_cast<int32_t>(0xA5A5A5A5u);

// ---- embedding -------------------------------------------------------------------------------

std::vector<uint16_t> random_table(int64_t vocab, int64_t hidden, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 0.05f);
  std::vector<uint16_t> table(static_cast<size_t>(vocab * hidden));
  for (uint16_t& v : table) {
    const float f = normal(rng);
    v = float_to_bf16(f != 0.0f ? f : 0.01f);
  }
  return table;
}

// Reference: out[t] = table[id] for a valid id, a zero row otherwise; plus one poisoned row past
// the end that the kernel must not touch.
std::vector<uint16_t> gather_cpu(const std::vector<uint16_t>& table, int64_t vocab, int64_t hidden,
                                 const std::vector<int32_t>& ids) {
  std::vector<uint16_t> out((ids.size() + 1) * hidden, kPoisonBf16);
  for (size_t t = 0; t < ids.size(); ++t)
    for (int64_t i = 0; i < hidden; ++i)
      out[t * hidden + i] = ids[t] >= 0 && ids[t] < vocab ? table[ids[t] * hidden + i] : uint16_t{0};
  return out;
}

struct GatherResult {
  std::vector<uint16_t> out;
  int32_t flag = 0;
};

// `offset` shifts table and out by that many elements (unaligned rows: the element path). With
// carried rows, host_ids holds what the host stages (anything where a row is carried) and
// carried_tokens the previous step's sampled ids.
GatherResult gather_gpu(const std::vector<uint16_t>& table, int64_t vocab, int64_t hidden,
                        const std::vector<int32_t>& ids, int64_t offset, bool with_flag,
                        const std::vector<int32_t>& carried_rows = {}, const std::vector<int32_t>& carried_tokens = {}) {
  const size_t out_elements = (ids.size() + 1) * hidden;
  DeviceBuffer t((table.size() + offset) * 2, "table"), o((out_elements + offset) * 2, "out");
  DeviceBuffer tok(ids.size() * 4, "token ids"), flag(4, "error flag");
  DeviceBuffer rows(std::max<size_t>(carried_rows.size(), 1) * 4, "carried rows");
  DeviceBuffer carried(std::max<size_t>(carried_tokens.size(), 1) * 4, "carried tokens");
  auto* tv = t.as<__nv_bfloat16>() + offset;
  auto* ov = o.as<__nv_bfloat16>() + offset;
  CUDA_CHECK(cudaMemcpy(tv, table.data(), table.size() * 2, cudaMemcpyHostToDevice));
  CUDA_CHECK(cudaMemcpy(tok.data(), ids.data(), ids.size() * 4, cudaMemcpyHostToDevice));
  CUDA_CHECK(cudaMemcpy(rows.data(), carried_rows.data(), carried_rows.size() * 4, cudaMemcpyHostToDevice));
  CUDA_CHECK(cudaMemcpy(carried.data(), carried_tokens.data(), carried_tokens.size() * 4, cudaMemcpyHostToDevice));
  CUDA_CHECK(cudaMemset(o.data(), kPoison, o.bytes()));
  CUDA_CHECK(cudaMemset(flag.data(), 0, 4));
  embedding_gather_gpu(tv, vocab, hidden, tok.as<int32_t>(), carried_rows.empty() ? nullptr : rows.as<int32_t>(),
                       carried.as<int32_t>(), static_cast<int64_t>(ids.size()), ov,
                       with_flag ? flag.as<int32_t>() : nullptr, nullptr);
  CUDA_CHECK(cudaDeviceSynchronize());
  GatherResult r{std::vector<uint16_t>(out_elements), 0};
  CUDA_CHECK(cudaMemcpy(r.out.data(), ov, out_elements * 2, cudaMemcpyDeviceToHost));
  CUDA_CHECK(cudaMemcpy(&r.flag, flag.data(), 4, cudaMemcpyDeviceToHost));
  return r;
}

TEST(EmbeddingGather, MatchesCpu) {
  SKIP_WITHOUT_GPU();
  const int64_t vocab = 1000;
  for (int64_t hidden : {2560, 8192, 30, 2568})
    for (size_t count : {1, 100, 700})
      for (int64_t offset : {0, 1}) {
        SCOPED_TRACE("hidden=" + std::to_string(hidden) + " tokens=" + std::to_string(count) +
                     " offset=" + std::to_string(offset));
        const std::vector<uint16_t> table = random_table(vocab, hidden, static_cast<uint32_t>(hidden + count));
        std::mt19937 rng(static_cast<uint32_t>(count * 7 + offset));
        std::uniform_int_distribution<int32_t> id(0, static_cast<int32_t>(vocab - 1));
        std::vector<int32_t> ids(count);
        for (int32_t& i : ids) i = id(rng);
        ids.front() = 0, ids.back() = vocab - 1;
        const GatherResult r = gather_gpu(table, vocab, hidden, ids, offset, true);
        ASSERT_EQ(r.out, gather_cpu(table, vocab, hidden, ids));
        EXPECT_EQ(r.flag, 0);
      }
}

TEST(EmbeddingGather, InvalidIdsGiveZeroRowsAndSetTheFlag) {
  SKIP_WITHOUT_GPU();
  const int64_t vocab = 500;
  for (int64_t hidden : {2560, 30})
    for (bool with_flag : {true, false}) {
      SCOPED_TRACE("hidden=" + std::to_string(hidden) + " flag=" + std::to_string(with_flag));
      const std::vector<uint16_t> table = random_table(vocab, hidden, 3);
      const std::vector<int32_t> ids{7, -1, 499, 500, INT32_MAX, 0, INT32_MIN, 123};
      const GatherResult r = gather_gpu(table, vocab, hidden, ids, 0, with_flag);
      ASSERT_EQ(r.out, gather_cpu(table, vocab, hidden, ids));
      EXPECT_EQ(r.flag, with_flag ? 1 : 0);
    }
}

// Rows launched before the host knew their token read it from the previous step's sampled ids;
// the others keep the staged id. The result is the gather of the resolved ids.
TEST(EmbeddingGather, CarriedRowsTakeThePreviousStepsSampledTokens) {
  SKIP_WITHOUT_GPU();
  const int64_t vocab = 700;
  for (int64_t hidden : {2560, 30}) {
    SCOPED_TRACE("hidden=" + std::to_string(hidden));
    const std::vector<uint16_t> table = random_table(vocab, hidden, 11);
    std::mt19937 rng(static_cast<uint32_t>(hidden));
    std::uniform_int_distribution<int32_t> id(0, static_cast<int32_t>(vocab - 1));
    std::vector<int32_t> sampled(40), staged(300), rows(300), resolved(300);
    for (int32_t& s : sampled) s = id(rng);
    for (size_t t = 0; t < staged.size(); ++t) {
      const bool carry = t % 3 != 0;
      rows[t] = carry ? static_cast<int32_t>((t * 7) % sampled.size()) : -1;
      staged[t] = carry ? -1 : id(rng);  // a carried row's id is pending on the host
      resolved[t] = carry ? sampled[static_cast<size_t>(rows[t])] : staged[t];
    }
    const GatherResult r = gather_gpu(table, vocab, hidden, staged, 0, true, rows, sampled);
    ASSERT_EQ(r.out, gather_cpu(table, vocab, hidden, resolved));
    EXPECT_EQ(r.flag, 0);
  }
}

TEST(EmbeddingGather, RejectsInvalidShapes) {
  EXPECT_THROW(embedding_gather_gpu(nullptr, 0, 2560, nullptr, nullptr, nullptr, 1, nullptr, nullptr, nullptr), Error);
  EXPECT_THROW(embedding_gather_gpu(nullptr, 10, 0, nullptr, nullptr, nullptr, 1, nullptr, nullptr, nullptr), Error);
  int32_t dummy = 0;  // carried rows without the tokens they index
  auto* p = reinterpret_cast<__nv_bfloat16*>(&dummy);
  EXPECT_THROW(embedding_gather_gpu(p, 10, 8, &dummy, &dummy, nullptr, 1, p, nullptr, nullptr), Error);
}

// ---- argmax ----------------------------------------------------------------------------------

// Reference: the first index of the maximum, NaN skipped; -1 when the row has only NaN.
int32_t argmax_cpu(const float* row, int64_t vocab) {
  int32_t best = -1;
  for (int64_t i = 0; i < vocab; ++i)
    if (!std::isnan(row[i]) && (best < 0 || row[i] > row[best])) best = static_cast<int32_t>(i);
  return best;
}

// The blocks per row the sampling kernels run with on this GPU: the default choice (0), one block,
// and clusters of 2, 4 and 8 where the GPU has them. Every choice must give the same tokens.
std::vector<int> blocks_per_row_choices() {
  if (query_device().cc_major < 9) return {0, 1};
  return {0, 1, 2, 4, 8};
}

// logits [rows, ld] placed `offset` floats past an aligned allocation (offset 1..3: unaligned rows).
std::vector<int32_t> argmax_gpu(const std::vector<float>& logits, int64_t rows, int64_t vocab, int64_t ld,
                                int64_t offset, int blocks_per_row = 0) {
  DeviceBuffer l((logits.size() + offset) * 4, "logits"), o((rows + 1) * 4, "argmax");
  float* lv = l.as<float>() + offset;
  CUDA_CHECK(cudaMemcpy(lv, logits.data(), logits.size() * 4, cudaMemcpyHostToDevice));
  CUDA_CHECK(cudaMemset(o.data(), kPoison, o.bytes()));
  argmax_rows_gpu(lv, rows, vocab, ld, o.as<int32_t>(), nullptr, blocks_per_row);
  CUDA_CHECK(cudaDeviceSynchronize());
  std::vector<int32_t> out(static_cast<size_t>(rows + 1));
  CUDA_CHECK(cudaMemcpy(out.data(), o.data(), out.size() * 4, cudaMemcpyDeviceToHost));
  return out;
}

void expect_argmax(const std::vector<float>& logits, int64_t rows, int64_t vocab, int64_t ld, int64_t offset) {
  for (int blocks : blocks_per_row_choices()) {
    const std::vector<int32_t> got = argmax_gpu(logits, rows, vocab, ld, offset, blocks);
    for (int64_t r = 0; r < rows; ++r)
      ASSERT_EQ(got[r], argmax_cpu(logits.data() + r * ld, vocab)) << "row " << r << ", blocks per row " << blocks;
    EXPECT_EQ(got[rows], kPoisonInt) << "the kernel wrote past the last row, blocks per row " << blocks;
  }
}

// Continuous random logits (distinct values almost surely); values in the padding columns of each
// row (ld > vocab) are larger than any real one, so reading them would show.
std::vector<float> random_logits(int64_t rows, int64_t vocab, int64_t ld, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 4.0f);
  std::vector<float> logits(static_cast<size_t>(rows * ld), 1e30f);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t i = 0; i < vocab; ++i) {
      const float f = normal(rng);
      logits[r * ld + i] = f != 0.0f ? f : 1.0f;
    }
  return logits;
}

TEST(ArgmaxRows, MatchesCpu) {
  SKIP_WITHOUT_GPU();
  for (int64_t vocab : {128256, 4099, 1000, 5, 3, 1})
    for (int64_t rows : {1, 7, 64})
      for (int64_t ld_extra : {0, 3})
        for (int64_t offset : {0, 1, 2}) {
          SCOPED_TRACE("vocab=" + std::to_string(vocab) + " rows=" + std::to_string(rows) +
                       " ld_extra=" + std::to_string(ld_extra) + " offset=" + std::to_string(offset));
          const int64_t ld = vocab + ld_extra;
          expect_argmax(random_logits(rows, vocab, ld, static_cast<uint32_t>(vocab + rows + ld_extra + offset)), rows,
                        vocab, ld, offset);
        }
}

TEST(ArgmaxRows, EngineShape) {
  SKIP_WITHOUT_GPU();
  expect_argmax(random_logits(512, 128256, 128256, 11), 512, 128256, 128256, 0);
}

// Few distinct levels, so every row has its maximum many times, anywhere (head, body, tail, any
// thread): the lowest index must win.
TEST(ArgmaxRows, TiesGoToTheLowestIndex) {
  SKIP_WITHOUT_GPU();
  for (int64_t vocab : {128256, 1000, 7})
    for (int64_t offset : {0, 3}) {
      SCOPED_TRACE("vocab=" + std::to_string(vocab) + " offset=" + std::to_string(offset));
      const int64_t rows = 16;
      std::mt19937 rng(static_cast<uint32_t>(vocab + offset));
      std::uniform_int_distribution<int> level(1, 6);
      std::uniform_int_distribution<int64_t> column(0, vocab - 1);
      std::vector<float> logits(static_cast<size_t>(rows * vocab));
      for (float& v : logits) v = static_cast<float>(level(rng));
      // Row r's maximum 9 at a few random columns, plus at the last column for odd rows.
      for (int64_t r = 0; r < rows; ++r) {
        for (int n = 0; n < 3; ++n) logits[r * vocab + column(rng)] = 9.0f;
        if (r % 2) logits[r * vocab + vocab - 1] = 9.0f;
      }
      expect_argmax(logits, rows, vocab, vocab, offset);
    }
}

TEST(ArgmaxRows, NanNeverWinsAndInfinitiesCompare) {
  SKIP_WITHOUT_GPU();
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  for (int64_t vocab : {128256, 1001, 6}) {
    SCOPED_TRACE("vocab=" + std::to_string(vocab));
    const int64_t rows = 8;
    std::vector<float> logits = random_logits(rows, vocab, vocab, static_cast<uint32_t>(vocab));
    float* row[rows];
    for (int64_t r = 0; r < rows; ++r) row[r] = logits.data() + r * vocab;
    std::mt19937 rng(9);
    std::uniform_int_distribution<int64_t> column(0, vocab - 1);
    // 0: NaN at the front, at the back and sprinkled over random logits.
    row[0][0] = row[0][vocab - 1] = nan;
    for (int n = 0; n < 50; ++n) row[0][column(rng)] = nan;
    // 1: only NaN (-1).  2: only -inf (index 0).  3: NaN then -inf (the first -inf).
    for (int64_t i = 0; i < vocab; ++i) row[1][i] = nan, row[2][i] = -inf, row[3][i] = i < vocab / 2 ? nan : -inf;
    // 4: +inf twice (the first).  5: NaN and negative NaN around one +inf.
    row[4][vocab / 3] = row[4][vocab - 2] = inf;
    for (int64_t i = 0; i < vocab; ++i) row[5][i] = i % 2 ? nan : -nan;
    row[5][vocab - 1] = inf;
    // 6: signed zeros only (equal: index 0).  7: one finite value among NaN.
    for (int64_t i = 0; i < vocab; ++i) row[6][i] = i % 2 ? 0.0f : -0.0f, row[7][i] = nan;
    row[7][vocab / 2] = -3.0f;
    const int32_t want[rows] = {argmax_cpu(row[0], vocab), -1, 0, static_cast<int32_t>(vocab / 2),
                                static_cast<int32_t>(vocab / 3), static_cast<int32_t>(vocab - 1), 0,
                                static_cast<int32_t>(vocab / 2)};
    for (int64_t r = 0; r < rows; ++r) EXPECT_EQ(argmax_cpu(row[r], vocab), want[r]) << "reference, row " << r;
    for (int blocks : blocks_per_row_choices()) {
      const std::vector<int32_t> got = argmax_gpu(logits, rows, vocab, vocab, 0, blocks);
      for (int64_t r = 0; r < rows; ++r) EXPECT_EQ(got[r], want[r]) << "row " << r << ", blocks per row " << blocks;
    }
  }
}

TEST(ArgmaxRows, RejectsInvalidShapes) {
  EXPECT_THROW(argmax_rows_gpu(nullptr, 1, 0, 0, nullptr, nullptr), Error);
  EXPECT_THROW(argmax_rows_gpu(nullptr, 1, 100, 99, nullptr, nullptr), Error);
  try {
    argmax_rows_gpu(nullptr, 0, 100, 100, nullptr, nullptr, 3);
    ADD_FAILURE() << "blocks_per_row 3 was accepted";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "sample_rows: blocks_per_row 3 (need 0, 1, 2, 4 or 8)");
  }
}

// ---- sampling --------------------------------------------------------------------------------

// The requests the sampling tests cycle through: greedy ones, plain temperatures (cold, warm, hot),
// top-k, top-p and both.
std::vector<SamplingParams> request_mix() {
  auto make = [](float t, int k, float p) {
    SamplingParams s;
    s.temperature = t, s.top_k = k, s.top_p = p, s.seed = 1234;
    return s;
  };
  return {make(0.0f, 0, 1.0f),  make(1.0f, 0, 1.0f),   make(0.7f, 0, 1.0f),  make(1.3f, 50, 1.0f),
          make(0.9f, 1, 1.0f),  make(1.0f, 0, 0.9f),   make(0.8f, 200, 0.8f), make(0.05f, 0, 1.0f),
          make(5.0f, 0, 0.95f), make(1.0f, 3, 0.3f),   make(2.0f, 7, 1.0f),  make(1.0f, 0, 0.999f)};
}

// Row r of `rows` takes request r % mix size, as sequence r at position 17 + r (its own random bits).
std::vector<SampleRowParams> row_params(int64_t rows, const std::vector<SamplingParams>& mix) {
  std::vector<SampleRowParams> params;
  for (int64_t r = 0; r < rows; ++r)
    params.push_back(sample_row_params(mix[static_cast<size_t>(r) % mix.size()], r, 17 + static_cast<int>(r)));
  return params;
}

std::vector<int32_t> sample_gpu(const std::vector<float>& logits, int64_t rows, int64_t vocab, int64_t ld,
                                int64_t offset, const std::vector<SampleRowParams>& params, int blocks_per_row = 0) {
  DeviceBuffer l((logits.size() + offset) * 4, "logits"), o((rows + 1) * 4, "tokens"),
      p(params.size() * sizeof(SampleRowParams), "params");
  float* lv = l.as<float>() + offset;
  CUDA_CHECK(cudaMemcpy(lv, logits.data(), logits.size() * 4, cudaMemcpyHostToDevice));
  CUDA_CHECK(cudaMemcpy(p.data(), params.data(), p.bytes(), cudaMemcpyHostToDevice));
  CUDA_CHECK(cudaMemset(o.data(), kPoison, o.bytes()));
  sample_rows_gpu(lv, rows, vocab, ld, p.as<SampleRowParams>(), o.as<int32_t>(), nullptr, blocks_per_row);
  CUDA_CHECK(cudaDeviceSynchronize());
  std::vector<int32_t> out(static_cast<size_t>(rows + 1));
  CUDA_CHECK(cudaMemcpy(out.data(), o.data(), out.size() * 4, cudaMemcpyDeviceToHost));
  return out;
}

void expect_samples(const std::vector<float>& logits, int64_t rows, int64_t vocab, int64_t ld, int64_t offset,
                    const std::vector<SampleRowParams>& params) {
  Sampler cpu(vocab);
  std::vector<int32_t> want;
  for (int64_t r = 0; r < rows; ++r) want.push_back(cpu.sample(logits.data() + r * ld, params[static_cast<size_t>(r)]));
  for (int blocks : blocks_per_row_choices()) {
    const std::vector<int32_t> got = sample_gpu(logits, rows, vocab, ld, offset, params, blocks);
    for (int64_t r = 0; r < rows; ++r) ASSERT_EQ(got[r], want[r]) << "row " << r << ", blocks per row " << blocks;
    EXPECT_EQ(got[rows], kPoisonInt) << "the kernel wrote past the last row, blocks per row " << blocks;
  }
}

TEST(SampleRows, MatchesTheCpuSampler) {
  SKIP_WITHOUT_GPU();
  const auto mix = request_mix();
  for (int64_t vocab : {128256, 4099, 1000, 5, 1})
    for (int64_t ld_extra : {0, 3})
      for (int64_t offset : {0, 1}) {
        SCOPED_TRACE("vocab=" + std::to_string(vocab) + " ld_extra=" + std::to_string(ld_extra) +
                     " offset=" + std::to_string(offset));
        const int64_t rows = 36, ld = vocab + ld_extra;
        expect_samples(random_logits(rows, vocab, ld, static_cast<uint32_t>(vocab + ld_extra + offset)), rows, vocab,
                       ld, offset, row_params(rows, mix));
      }
}

// Many draws from one row per request: every part of the distribution, the cuts' edges included.
TEST(SampleRows, ManyDrawsMatchTheCpuSampler) {
  SKIP_WITHOUT_GPU();
  const int64_t rows = 480, vocab = 1000;
  std::vector<float> one = random_logits(1, vocab, vocab, 5), logits;
  for (int64_t r = 0; r < rows; ++r) logits.insert(logits.end(), one.begin(), one.end());
  expect_samples(logits, rows, vocab, vocab, 0, row_params(rows, request_mix()));
}

// Few distinct levels: the cuts fall inside runs of equal logits (all of a tie is kept); NaN (never
// drawn), -inf (weight 0), a +inf row and an all-NaN row (the argmax rule's answer), and top-k of
// the whole vocabulary or more.
TEST(SampleRows, TiesAndSpecialValuesMatchTheCpuSampler) {
  SKIP_WITHOUT_GPU();
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  for (int64_t vocab : {128256, 1001, 6}) {
    SCOPED_TRACE("vocab=" + std::to_string(vocab));
    const int64_t rows = 24;
    std::mt19937 rng(static_cast<uint32_t>(vocab));
    std::uniform_int_distribution<int> level(0, 5);
    std::uniform_int_distribution<int64_t> column(0, vocab - 1);
    std::vector<float> logits(static_cast<size_t>(rows * vocab));
    for (float& v : logits) v = 0.5f * static_cast<float>(level(rng));
    for (int64_t r = 0; r < rows; ++r)
      for (int n = 0; n < 20; ++n) logits[r * vocab + column(rng)] = r % 3 ? nan : -inf;
    for (int64_t i = 0; i < vocab; ++i) logits[1 * vocab + i] = nan;  // all NaN
    logits[2 * vocab + vocab / 2] = inf;                                 // +inf
    std::vector<SamplingParams> mix = request_mix();
    SamplingParams all_k;
    all_k.temperature = 1.0f, all_k.top_k = static_cast<int>(vocab), all_k.seed = 3;
    mix.push_back(all_k);
    all_k.top_k = static_cast<int>(vocab) + 5;
    mix.push_back(all_k);
    std::vector<SampleRowParams> params = row_params(rows, mix);
    params[1] = params[2] = sample_row_params(mix[1], 1, 1);  // sampled rows, not greedy
    expect_samples(logits, rows, vocab, vocab, 0, params);
    const std::vector<int32_t> got = sample_gpu(logits, rows, vocab, vocab, 0, params);
    EXPECT_EQ(got[1], -1);
    EXPECT_EQ(got[2], vocab / 2);
  }
}

// The rows a search over buckets of the keys between the lowest weighted one and the top's
// (math/key_window.h) must get right, at the engine's vocabulary: every logit equal (one key), a
// window narrower than its 2,048 buckets (T 1e-5: ~1,800 keys of weight), and a crossing bucket
// crowded with distinct keys (T 50: one token at 20, the rest within 0.5 of 5, where a bucket of the
// first histogram is ~1 wide and every cut falls in it).
TEST(SampleRows, WindowEdgeRowsMatchTheCpuSampler) {
  SKIP_WITHOUT_GPU();
  const int64_t vocab = 128256, rows = 12;
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> ulps(0, 2999), spread(0, 999999);
  std::vector<float> logits(static_cast<size_t>(rows * vocab));
  std::vector<SamplingParams> mix;
  const auto request = [](float t, int k, float p) {
    SamplingParams s;
    s.temperature = t, s.top_k = k, s.top_p = p, s.seed = 77;
    return s;
  };
  for (int64_t r = 0; r < rows; ++r) {
    float* row = logits.data() + r * vocab;
    const int kind = static_cast<int>(r % 3);
    for (int64_t i = 0; i < vocab; ++i)
      row[i] = kind == 0   ? 1.5f
               : kind == 1 ? std::nextafter(1.5f, 2.0f) + 1.2e-7f * static_cast<float>(ulps(rng))
                           : 5.0f + (static_cast<float>(spread(rng)) / 1e6f - 0.5f);
    if (kind == 2) row[static_cast<size_t>(rng() % vocab)] = 20.0f;
    const float t = kind == 1 ? 1e-5f : kind == 2 ? 50.0f : 1.0f;
    const int k = r / 3 == 1 ? 50 : r / 3 == 3 ? 5000 : 0;
    const float p = r / 3 == 2 ? 0.95f : r / 3 == 3 ? 0.5f : 1.0f;
    mix.push_back(request(t, k, p));
  }
  std::vector<SampleRowParams> params;
  for (int64_t r = 0; r < rows; ++r) params.push_back(sample_row_params(mix[static_cast<size_t>(r)], r, 3));
  expect_samples(logits, rows, vocab, vocab, 0, params);
}

TEST(SampleRows, RejectsInvalidShapes) {
  alignas(16) float logits[4] = {};
  const auto* misaligned = reinterpret_cast<const SampleRowParams*>(reinterpret_cast<const char*>(logits) + 4);
  EXPECT_THROW(sample_rows_gpu(logits, 1, 4, 4, misaligned, reinterpret_cast<int32_t*>(logits), nullptr), Error);
  EXPECT_THROW(sample_rows_gpu(nullptr, 1, 100, 99, nullptr, nullptr, nullptr), Error);
}

}  // namespace
}  // namespace slidesparse
