// Prefill attention (kernels/attention_prefill.h) against the CPU reference (math/attention.h):
// head_dim 64 and 128, grouped-query 4:1, 2:1 and 1:1, both CTA shapes, varlen batches with qlen 1,
// lengths that are not multiples of 16 or 64, chunked queries (earlier tokens only in the cache),
// decode-like rows, a padding sequence, block sizes 16 / 48 / 64 / 256 with shuffled block tables.
// Inputs are fresh random bf16 (never zero); cache slots no sequence owns (spare blocks, the tail of
// each last block) hold NaN, so reading one shows in the output; the output is poisoned with NaN.
//
// Tolerance: |gpu - ref| <= 8e-3 + 2^-7 |ref| per element. The GPU rounds each softmax weight to
// bf16 (relative error <= 2^-8) before the P V product, which moves an output by at most 2^-8 times
// the weighted mean |v| (|v| < ~5 here) and typically far less; both sides then round to bf16, which
// can add one bf16 ulp (<= 2^-7 |ref|). A lane-level emulation of the kernel's arithmetic on small
// cases stayed under half of this bound (max |err| 0.0078, one ulp near 1) with mean |err| ~2.7e-4;
// the mean is bounded too (6e-4) so a systematic error cannot hide under the per-element bound.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "gpu/cuda_check.h"
#include "gpu/device_buffer.h"
#include "gpu/device_info.h"
#include "gpu_test_util.h"
#include "cudnn/cudnn_library.h"
#include "cudnn/cudnn_prefill_attention.h"
#include "kernels/attention_prefill.h"
#include "math/attention.h"
#include "math/numeric_formats.h"

namespace slidesparse {
namespace {

using testing::upload;

constexpr uint16_t kNanBits = 0x7FC1;

struct Seq {
  int qlen;     // query rows this step
  int seq_len;  // tokens in the cache including this step's (0: padding sequence)
};

struct Case {
  int head_dim, heads, kv_heads, block_size;
  std::vector<Seq> seqs;
  float q_magnitude = 1.0f;  // larger: sharper softmax
  int heads_per_cta = 0;
  int key_tile = 0;
  bool q_in_registers = true;
  bool cudnn = false;  // cuDNN's SDPA instead of our kernel
  int cudnn_max_seqs = 0;  // the engine's sequence limit: the bucket pads to a power of two below it
};

std::string describe(const Case& c) {
  std::ostringstream s;
  s << "D=" << c.head_dim << " heads=" << c.heads << "/" << c.kv_heads << " block=" << c.block_size
    << (c.cudnn ? " cudnn" : "") << " heads_per_cta=" << c.heads_per_cta << " key_tile=" << c.key_tile << " q_in_registers=" << c.q_in_registers
    << " seqs";
  for (const Seq& q : c.seqs) s << " " << q.qlen << "/" << q.seq_len;
  return s.str();
}

uint16_t random_bf16(std::mt19937& rng, float magnitude) {
  std::normal_distribution<float> normal(0.0f, magnitude);
  for (;;) {
    const uint16_t bits = float_to_bf16(normal(rng));
    if ((bits & 0x7FFF) != 0) return bits;
  }
}

void run_case(const Case& c, uint32_t seed) {
  SCOPED_TRACE(describe(c));
  std::mt19937 rng(seed);
  const int num_seqs = static_cast<int>(c.seqs.size());
  HostAttentionBatch batch;
  batch.query_start.push_back(0);
  int max_blocks = 1, total_blocks = 0, max_qlen = 0, max_len = 0;
  for (const Seq& s : c.seqs) {
    batch.query_start.push_back(batch.query_start.back() + s.qlen);
    batch.seq_len.push_back(s.seq_len);
    const int blocks = (s.seq_len + c.block_size - 1) / c.block_size;
    max_blocks = std::max(max_blocks, blocks);
    total_blocks += blocks;
    max_qlen = std::max(max_qlen, s.qlen);
    max_len = std::max(max_len, s.seq_len);
  }
  batch.max_blocks_per_seq = max_blocks + 1;  // one unused (-1) entry past every sequence's blocks
  const int64_t rows = batch.query_start.back();

  // Blocks handed out in shuffled order, with spare blocks nobody owns.
  HostKvCache cache;
  cache.num_blocks = total_blocks + 3;
  cache.block_size = c.block_size;
  cache.kv_heads = c.kv_heads;
  cache.head_dim = c.head_dim;
  std::vector<int32_t> ids(static_cast<size_t>(cache.num_blocks));
  std::iota(ids.begin(), ids.end(), 0);
  std::shuffle(ids.begin(), ids.end(), rng);
  // Unused entries: -1 (the kernel must never read them).
  batch.block_table.assign(static_cast<size_t>(num_seqs) * batch.max_blocks_per_seq, -1);
  const size_t cache_elems = static_cast<size_t>(cache.num_blocks) * c.kv_heads * c.block_size * c.head_dim;
  cache.k.assign(cache_elems, kNanBits);
  cache.v.assign(cache_elems, kNanBits);
  int next = 0;
  for (int s = 0; s < num_seqs; ++s) {
    const int len = c.seqs[s].seq_len;
    for (int b = 0; b * c.block_size < len; ++b) batch.block_table[s * batch.max_blocks_per_seq + b] = ids[next++];
    for (int token = 0; token < len; ++token) {
      const int64_t block = batch.block_table[s * batch.max_blocks_per_seq + token / c.block_size];
      for (int kv = 0; kv < c.kv_heads; ++kv) {
        const int64_t base = ((block * c.kv_heads + kv) * c.block_size + token % c.block_size) * c.head_dim;
        for (int i = 0; i < c.head_dim; ++i) {
          cache.k[base + i] = random_bf16(rng, 1.0f);
          cache.v[base + i] = random_bf16(rng, 1.0f);
        }
      }
    }
  }
  const int64_t width = int64_t{c.heads} * c.head_dim;
  std::vector<uint16_t> q(static_cast<size_t>(rows * width));
  for (uint16_t& x : q) x = random_bf16(rng, c.q_magnitude);
  const float scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));

  std::vector<uint16_t> expected(q.size());
  attention_reference(q.data(), cache, batch, c.heads, scale, expected.data());

  const DeviceBuffer q_d = upload(q, "q"), k_d = upload(cache.k, "k cache"), v_d = upload(cache.v, "v cache");
  const DeviceBuffer starts_d = upload(batch.query_start, "query_start"), lens_d = upload(batch.seq_len, "seq_len");
  const DeviceBuffer table_d = upload(batch.block_table, "block_table");
  DeviceBuffer out_d(std::max<size_t>(q.size() * 2, 16), "out");
  CUDA_CHECK(cudaMemset(out_d.data(), 0xFF, out_d.bytes()));  // NaN bits
  const KvCacheLayer layer{k_d.as<__nv_bfloat16>(), v_d.as<__nv_bfloat16>(), cache.num_blocks, c.block_size,
                           c.kv_heads, c.head_dim};
  // Host bounds above the real maxima, as a CUDA-graph bucket would give: extra CTAs must idle.
  const AttentionBatch device_batch{num_seqs,        starts_d.as<int32_t>(), lens_d.as<int32_t>(),
                                    table_d.as<int32_t>(), batch.max_blocks_per_seq, max_qlen + 65,
                                    max_len + 65};
  if (c.cudnn) {
    // A fresh-prompt step as ModelRunner stages it for cuDNN: every sequence's keys and values packed
    // in its own rows (k heads, then v heads, as rope_kv_write_gpu's kv_out), ragged offsets and
    // lengths of the padded sequence bucket (padding sequences empty, starting at the end).
    const int64_t kv_width = 2 * int64_t{c.kv_heads} * c.head_dim;
    std::vector<uint16_t> kv(static_cast<size_t>(std::max<int64_t>(rows, 1) * kv_width), kNanBits);
    for (int s = 0; s < num_seqs; ++s) {
      ASSERT_EQ(c.seqs[s].qlen, c.seqs[s].seq_len) << "cuDNN runs steps of fresh prompts only";
      for (int token = 0; token < c.seqs[s].seq_len; ++token) {
        const int64_t block = batch.block_table[s * batch.max_blocks_per_seq + token / c.block_size];
        for (int h = 0; h < c.kv_heads; ++h) {
          const int64_t from = ((block * c.kv_heads + h) * c.block_size + token % c.block_size) * c.head_dim;
          const int64_t to = (batch.query_start[s] + token) * kv_width + int64_t{h} * c.head_dim;
          std::copy_n(cache.k.begin() + from, c.head_dim, kv.begin() + to);
          std::copy_n(cache.v.begin() + from, c.head_dim, kv.begin() + to + int64_t{c.kv_heads} * c.head_dim);
        }
      }
    }
    constexpr int kMaxLen = 4096;
    const CudnnAttentionBucket bucket{cudnn_sequence_bucket(num_seqs, c.cudnn_max_seqs),
                                      cudnn_length_bucket(max_len, kMaxLen)};
    std::vector<int32_t> q_offsets(static_cast<size_t>(bucket.seqs) + 1, static_cast<int32_t>(rows * width));
    std::vector<int32_t> kv_offsets(q_offsets.size(), static_cast<int32_t>(rows * kv_width));
    std::vector<int32_t> lens(static_cast<size_t>(bucket.seqs), 0);
    for (int s = 0; s < num_seqs; ++s) {
      q_offsets[s] = static_cast<int32_t>(batch.query_start[s] * width);
      kv_offsets[s] = static_cast<int32_t>(batch.query_start[s] * kv_width);
      lens[s] = batch.seq_len[s];
    }
    const DeviceBuffer kv_d = upload(kv, "packed k / v"), q_offsets_d = upload(q_offsets, "q offsets");
    const DeviceBuffer kv_offsets_d = upload(kv_offsets, "kv offsets"), lens_bucket_d = upload(lens, "seq_len");
    cudaStream_t stream = nullptr;
    CUDA_CHECK(cudaStreamCreate(&stream));
    {
      CudnnPrefillAttention attention({c.heads, c.kv_heads, c.head_dim, c.cudnn_max_seqs, kMaxLen, scale}, stream);
      std::string why;
      ASSERT_TRUE(attention.prepare(bucket, &why)) << why;
      const CudnnAttentionBatch cb{bucket, q_offsets_d.as<int32_t>(), kv_offsets_d.as<int32_t>(),
                                   lens_bucket_d.as<int32_t>()};
      ASSERT_TRUE(attention.run(q_d.as<__nv_bfloat16>(), kv_d.as<__nv_bfloat16>(), cb, out_d.as<__nv_bfloat16>(), &why))
          << why;
      CUDA_CHECK(cudaStreamSynchronize(stream));
    }
    CUDA_CHECK(cudaStreamDestroy(stream));
  } else {
    attention_prefill_gpu(q_d.as<__nv_bfloat16>(), layer, device_batch, c.heads, scale, out_d.as<__nv_bfloat16>(),
                          nullptr, AttentionPrefillConfig{c.heads_per_cta, c.key_tile, c.q_in_registers});
  }
  CUDA_CHECK(cudaDeviceSynchronize());
  std::vector<uint16_t> got(q.size());
  CUDA_CHECK(cudaMemcpy(got.data(), out_d.data(), got.size() * 2, cudaMemcpyDeviceToHost));

  double max_err = 0, sum_err = 0;
  int64_t compared = 0;
  for (int s = 0; s < num_seqs; ++s)
    for (int64_t row = batch.query_start[s]; row < batch.query_start[s + 1]; ++row)
      for (int64_t i = 0; i < width; ++i) {
        const size_t at = static_cast<size_t>(row * width + i);
        const std::string where = "sequence " + std::to_string(s) + " row " + std::to_string(row) + " head " +
                                  std::to_string(i / c.head_dim) + " dim " + std::to_string(i % c.head_dim);
        if (c.seqs[s].seq_len == 0) {
          if (!c.cudnn) ASSERT_EQ(got[at], 0) << "padding output not zero at " << where;
          continue;  // cuDNN leaves the rows of empty sequences alone (the engine never reads them)
        }
        const float g = bf16_to_float(got[at]), r = bf16_to_float(expected[at]);
        ASSERT_TRUE(std::isfinite(g)) << "non-finite output at " << where;
        const double err = std::fabs(double{g} - r);
        ASSERT_LE(err, 8e-3 + std::ldexp(std::fabs(r), -7)) << where << ": gpu " << g << " cpu " << r;
        max_err = std::max(max_err, err);
        sum_err += err;
        ++compared;
      }
  const double mean_err = compared ? sum_err / compared : 0.0;
  std::printf("  [%s] max |err| %.3g, mean |err| %.3g over %lld values\n", describe(c).c_str(), max_err, mean_err,
              static_cast<long long>(compared));
  EXPECT_LE(mean_err, 6e-4);
}

// A varlen step: qlen 1, a full 64-row tile, lengths off the 16 / 64 grid, chunked queries (seq_len
// > qlen), a decode-like row late in its sequence and a padding sequence.
std::vector<Seq> varlen_batch() {
  return {{1, 1}, {17, 17}, {64, 64}, {2, 0}, {100, 100}, {77, 300}, {1, 45}, {130, 130}, {33, 161}, {200, 200}};
}

TEST(AttentionPrefill, HeadDim128Gqa4) {
  SKIP_WITHOUT_GPU();
  for (int per_cta : {0, 1, 2}) run_case({128, 20, 5, 16, varlen_batch(), 1.0f, per_cta}, 11 + per_cta);
}

TEST(AttentionPrefill, HeadDim64Gqa2) {
  SKIP_WITHOUT_GPU();
  for (int per_cta : {0, 1}) run_case({64, 8, 4, 64, varlen_batch(), 1.0f, per_cta}, 21 + per_cta);
}

// Every kernel variant (heads per CTA x keys per tile x Q in registers or shared memory), both head
// sizes, and a sharp softmax whose running max moves between the smaller tiles.
TEST(AttentionPrefill, EveryTileShape) {
  SKIP_WITHOUT_GPU();
  uint32_t seed = 70;
  for (int keys : {64, 32})
    for (bool q_regs : {true, false}) {
      for (int per_cta : {1, 2}) run_case({128, 20, 5, 16, varlen_batch(), 1.0f, per_cta, keys, q_regs}, seed++);
      run_case({64, 8, 4, 64, varlen_batch(), 1.0f, 2, keys, q_regs}, seed++);
      run_case({128, 20, 5, 16, {{150, 150}, {90, 220}, {1, 70}}, 4.0f, 2, keys, q_regs}, seed++);
    }
}

TEST(AttentionPrefill, BlockSize256LongChunk) {
  SKIP_WITHOUT_GPU();
  run_case({128, 4, 2, 256, {{333, 600}, {7, 7}, {256, 256}, {65, 513}}, 1.0f, 0}, 31);
  run_case({64, 4, 1, 256, {{300, 300}, {1, 257}, {129, 129}}, 1.0f, 0}, 32);
}

TEST(AttentionPrefill, BlockSizeNotAPowerOfTwo) {
  SKIP_WITHOUT_GPU();
  run_case({64, 3, 3, 48, varlen_batch(), 1.0f, 0}, 41);
  run_case({128, 6, 3, 48, varlen_batch(), 1.0f, 2}, 42);
}

TEST(AttentionPrefill, SharpSoftmax) {
  SKIP_WITHOUT_GPU();
  // |q| ~ 4: scores spread over tens of units, the running max changes often across tiles.
  run_case({128, 20, 5, 16, {{150, 150}, {90, 220}, {1, 70}}, 4.0f, 0}, 51);
  run_case({64, 8, 2, 64, {{150, 150}, {90, 220}}, 4.0f, 1}, 52);
}

TEST(AttentionPrefill, LongSequence) {
  SKIP_WITHOUT_GPU();
  run_case({128, 8, 2, 16, {{1024, 1024}}, 1.0f, 0}, 61);
}

// cuDNN's SDPA under our kernel's contract on steps of fresh prompts (the only steps the engine
// gives it): lengths off every tile grid, a padded sequence bucket (5 sequences -> 8), GQA 4:1 and
// 2:1, both head sizes, a sharp softmax, keys and values packed in the step's rows. Skipped, with
// the reason, where libcudnn 9.7+ is absent.
TEST(AttentionPrefill, Cudnn) {
  SKIP_WITHOUT_GPU();
  std::string why;
  if (!cudnn_library(&why)) GTEST_SKIP() << why;
  const std::vector<Seq> fresh{{1, 1}, {17, 17}, {100, 100}, {130, 130}, {333, 333}};
  Case c{128, 20, 5, 16, fresh, 1.0f};
  c.cudnn = true;
  c.cudnn_max_seqs = 16;
  run_case(c, 81);
  c.seqs = {{1024, 1024}, {512, 512}, {256, 256}};
  c.block_size = 64;
  run_case(c, 82);
  c = Case{64, 8, 4, 64, fresh, 4.0f};
  c.cudnn = true;
  c.cudnn_max_seqs = 8;
  run_case(c, 83);
  c.seqs = {{150, 150}, {90, 90}, {1, 1}};
  run_case(c, 85);
}

TEST(AttentionPrefill, EmptyBatchLaunchesNothing) {
  SKIP_WITHOUT_GPU();
  const KvCacheLayer layer{nullptr, nullptr, 0, 16, 5, 128};
  attention_prefill_gpu(nullptr, layer, AttentionBatch{}, 20, 0.1f, nullptr, nullptr);
  CUDA_CHECK(cudaDeviceSynchronize());
}

TEST(AttentionPrefill, RejectsUnsupportedGeometry) {
  const AttentionBatch batch{};
  EXPECT_THROW(attention_prefill_gpu(nullptr, {nullptr, nullptr, 1, 16, 4, 96}, batch, 8, 1.0f, nullptr, nullptr),
               Error);  // head_dim 96
  EXPECT_THROW(attention_prefill_gpu(nullptr, {nullptr, nullptr, 1, 24, 4, 64}, batch, 8, 1.0f, nullptr, nullptr),
               Error);  // block_size not a multiple of 16
  EXPECT_THROW(attention_prefill_gpu(nullptr, {nullptr, nullptr, 1, 16, 3, 64}, batch, 8, 1.0f, nullptr, nullptr),
               Error);  // 8 heads over 3 kv heads
  EXPECT_THROW(attention_prefill_gpu(nullptr, {nullptr, nullptr, 1, 16, 3, 64}, batch, 9, 1.0f, nullptr, nullptr,
                                     AttentionPrefillConfig{2}),
               Error);  // 2 heads per CTA with groups of 3
  EXPECT_THROW(attention_prefill_gpu(nullptr, {nullptr, nullptr, 1, 16, 4, 64}, batch, 8, 1.0f, nullptr, nullptr,
                                     AttentionPrefillConfig{0, 48}),
               Error);  // 48 keys per tile
}

}  // namespace
}  // namespace slidesparse
