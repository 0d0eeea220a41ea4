// attention_decode_gpu against the CPU reference (math/attention.h): head_dim 64 / 128, GQA 4:1 and
// 2:1, block sizes 16 / 64 / 256, contexts 1, 15, 16, 17, 100, 1000, 5000 and padding sequences in
// one batch, shuffled block tables (unused entries -1), the split + combine path, the single-kernel
// path, and one CUDA-graph capture replayed with new seq_len / block_table / cache contents.
// Inputs are fresh random non-zero values; outputs and the workspace are poisoned with NaN.
//
// Tolerance, element by element (R = reference, A = the reference run on |V|, i.e. sum_j w_j |v_j|):
//   |gpu - R| <= 1.02 * (2^-7 |R| + 2^-9 (A + |R|)).
// The GPU rounds each softmax weight p_j to bf16 (relative error <= 2^-9) and divides by the sum of
// the rounded weights, which moves the output by sum_j w_j delta_j (v_j - out), at most
// 2^-9 (A + |R|); both sides round the output to bf16 once (2^-8 |x| each). The 2% covers fp32
// scores, exp2 and accumulation. Padding rows must be exactly zero.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "gpu/cuda_check.h"
#include "gpu/device_buffer.h"
#include "gpu/device_info.h"
#include "gpu_test_util.h"
#include "kernels/attention_decode.h"
#include "kernels/rope_kv.h"
#include "math/attention.h"
#include "math/numeric_formats.h"
#include "math/rope.h"

namespace slidesparse {
namespace {

constexpr uint8_t kPoisonNan = 0xFF;  // bf16 0xFFFF and fp32 0xFFFFFFFF are NaN

struct Shape {
  int heads, kv_heads, head_dim, block_size;
};

std::string describe(const Shape& s) {
  return "H=" + std::to_string(s.heads) + " KV=" + std::to_string(s.kv_heads) + " D=" + std::to_string(s.head_dim) +
         " block=" + std::to_string(s.block_size);
}

// One decode step on the host: cache, batch (one query per sequence) and queries.
struct Step {
  Shape shape;
  HostKvCache cache;
  HostAttentionBatch batch;
  std::vector<uint16_t> q;
  float scale = 0;
};

uint16_t random_bf16(std::mt19937& rng, float sigma) {
  std::normal_distribution<float> normal(0.0f, sigma);
  for (;;) {
    const uint16_t b = float_to_bf16(normal(rng));
    if ((b & 0x7FFF) != 0) return b;
  }
}

// Sequences get the blocks of a shuffled pool; the pool has spare blocks nobody owns.
Step make_step(const Shape& shape, const std::vector<int>& seq_lens, int num_blocks, uint32_t seed) {
  std::mt19937 rng(seed);
  Step st{shape, {}, {}, {}, 1.0f / std::sqrt(static_cast<float>(shape.head_dim))};
  int max_blocks = 1, used = 0;
  for (int len : seq_lens) {
    const int blocks = (len + shape.block_size - 1) / shape.block_size;
    max_blocks = std::max(max_blocks, blocks);
    used += blocks;
  }
  EXPECT_LE(used, num_blocks);
  std::vector<int32_t> pool(static_cast<size_t>(num_blocks));
  for (int i = 0; i < num_blocks; ++i) pool[i] = i;
  std::shuffle(pool.begin(), pool.end(), rng);

  st.batch.max_blocks_per_seq = max_blocks;
  st.batch.block_table.assign(seq_lens.size() * max_blocks, -1);
  size_t next = 0;
  for (size_t s = 0; s < seq_lens.size(); ++s) {
    st.batch.query_start.push_back(static_cast<int32_t>(s));
    st.batch.seq_len.push_back(seq_lens[s]);
    for (int b = 0; b < (seq_lens[s] + shape.block_size - 1) / shape.block_size; ++b)
      st.batch.block_table[s * max_blocks + b] = pool[next++];
  }
  st.batch.query_start.push_back(static_cast<int32_t>(seq_lens.size()));

  st.cache.num_blocks = num_blocks;
  st.cache.block_size = shape.block_size;
  st.cache.kv_heads = shape.kv_heads;
  st.cache.head_dim = shape.head_dim;
  const size_t elems = static_cast<size_t>(num_blocks) * shape.kv_heads * shape.block_size * shape.head_dim;
  for (size_t i = 0; i < elems; ++i) st.cache.k.push_back(random_bf16(rng, 1.0f));
  for (size_t i = 0; i < elems; ++i) st.cache.v.push_back(random_bf16(rng, 1.0f));
  // Query magnitudes from diffuse (0.3) to peaked (4) attention, varying by sequence.
  const float sigmas[] = {0.3f, 1.0f, 4.0f};
  for (size_t s = 0; s < seq_lens.size(); ++s)
    for (int i = 0; i < shape.heads * shape.head_dim; ++i) st.q.push_back(random_bf16(rng, sigmas[s % 3]));
  return st;
}

int blocks_needed(const Shape& shape, const std::vector<int>& seq_lens) {
  int n = 0;
  for (int len : seq_lens) n += (len + shape.block_size - 1) / shape.block_size;
  return n;
}

// Device copies of a step, sized for the largest step a test uploads.
struct DeviceStep {
  DeviceBuffer k, v, q, out, seq_len, block_table, workspace;
  KvCacheLayer cache;
  AttentionBatch batch;

  DeviceStep(const Step& st, int max_seq_len, size_t workspace_bytes)
      : k(st.cache.k.size() * 2, "k cache"),
        v(st.cache.v.size() * 2, "v cache"),
        q(st.q.size() * 2, "q"),
        out(st.q.size() * 2, "out"),
        seq_len(st.batch.seq_len.size() * 4, "seq_len"),
        block_table(st.batch.block_table.size() * 4, "block_table"),
        workspace(workspace_bytes, "attention workspace") {
    cache = KvCacheLayer{k.as<__nv_bfloat16>(), v.as<__nv_bfloat16>(), st.cache.num_blocks, st.cache.block_size,
                         st.cache.kv_heads, st.cache.head_dim};
    batch.num_seqs = static_cast<int>(st.batch.seq_len.size());
    batch.seq_len = seq_len.as<int32_t>();
    batch.block_table = block_table.as<int32_t>();
    batch.max_blocks_per_seq = st.batch.max_blocks_per_seq;
    batch.max_query_len = 1;
    batch.max_seq_len = max_seq_len;
  }

  // Same shapes as the constructor's step; new contents.
  void upload(const Step& st) {
    ASSERT_EQ(st.cache.k.size() * 2, k.bytes());
    ASSERT_EQ(st.batch.block_table.size() * 4, block_table.bytes());
    CUDA_CHECK(cudaMemcpy(k.data(), st.cache.k.data(), k.bytes(), cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMemcpy(v.data(), st.cache.v.data(), v.bytes(), cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMemcpy(q.data(), st.q.data(), q.bytes(), cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMemcpy(seq_len.data(), st.batch.seq_len.data(), seq_len.bytes(), cudaMemcpyHostToDevice));
    CUDA_CHECK(
        cudaMemcpy(block_table.data(), st.batch.block_table.data(), block_table.bytes(), cudaMemcpyHostToDevice));
  }

  void poison() {
    CUDA_CHECK(cudaMemset(out.data(), kPoisonNan, out.bytes()));
    if (workspace.bytes()) CUDA_CHECK(cudaMemset(workspace.data(), kPoisonNan, workspace.bytes()));
  }

  void launch(const Step& st, const AttentionDecodeConfig& config, cudaStream_t stream) {
    attention_decode_gpu(q.as<__nv_bfloat16>(), cache, batch, st.shape.heads, st.scale, out.as<__nv_bfloat16>(),
                         workspace.data(), workspace.bytes(), stream, config);
  }

  std::vector<uint16_t> download() const {
    std::vector<uint16_t> h(out.bytes() / 2);
    CUDA_CHECK(cudaMemcpy(h.data(), out.data(), out.bytes(), cudaMemcpyDeviceToHost));
    return h;
  }
};

void expect_matches_reference(const Step& st, const std::vector<uint16_t>& got) {
  const int heads = st.shape.heads, d = st.shape.head_dim;
  std::vector<uint16_t> want(st.q.size()), want_abs(st.q.size());
  attention_reference(st.q.data(), st.cache, st.batch, heads, st.scale, want.data());
  HostKvCache abs_cache = st.cache;
  for (uint16_t& v : abs_cache.v) v &= 0x7FFF;
  attention_reference(st.q.data(), abs_cache, st.batch, heads, st.scale, want_abs.data());

  ASSERT_EQ(got.size(), want.size());
  int failures = 0;
  double worst_ratio = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    const int seq = static_cast<int>(i / (heads * d)), head = static_cast<int>(i / d % heads);
    const double r = bf16_to_float(want[i]), a = bf16_to_float(want_abs[i]), g = bf16_to_float(got[i]);
    const bool padding = st.batch.seq_len[seq] == 0;
    const double tol = padding ? 0.0 : 1.02 * (std::ldexp(std::fabs(r), -7) + std::ldexp(a + std::fabs(r), -9));
    const double err = std::fabs(g - r);
    if (!(err <= tol) || (padding && got[i] != 0)) {
      if (++failures <= 8)
        ADD_FAILURE() << "seq " << seq << " (len " << st.batch.seq_len[seq] << ") head " << head << " dim " << i % d
                      << ": gpu " << g << " reference " << r << " |error| " << err << " > tolerance " << tol;
    } else if (tol > 0) {
      worst_ratio = std::max(worst_ratio, err / tol);
    }
  }
  EXPECT_EQ(failures, 0) << failures << " of " << want.size() << " outputs outside tolerance";
  ::testing::Test::RecordProperty("worst_error_over_tolerance", std::to_string(worst_ratio));
}

// Contexts of the brief, padding sequences between them.
const std::vector<int> kMixedLens = {1, 15, 0, 16, 17, 100, 1000, 0, 5000};

std::vector<Shape> shapes() {
  std::vector<Shape> out;
  for (int d : {64, 128})
    for (auto [heads, kv] : {std::pair{8, 2}, std::pair{4, 2}})
      for (int block : {16, 64, 256}) out.push_back({heads, kv, d, block});
  return out;
}

// One eager launch on step st (its longest sequence as the bound) against the reference.
void run_eager(const Step& st, const AttentionDecodeConfig& config) {
  const std::vector<int32_t>& lens = st.batch.seq_len;
  const int max_len = *std::max_element(lens.begin(), lens.end());
  const size_t ws = attention_decode_workspace_bytes(static_cast<int>(lens.size()), st.shape.heads,
                                                     st.shape.head_dim, max_len, config);
  DeviceStep dev(st, max_len, ws);
  dev.upload(st);
  dev.poison();
  dev.launch(st, config, nullptr);
  CUDA_CHECK(cudaDeviceSynchronize());
  expect_matches_reference(st, dev.download());
}

void run_eager(const Shape& shape, const std::vector<int>& lens, const AttentionDecodeConfig& config, uint32_t seed) {
  run_eager(make_step(shape, lens, blocks_needed(shape, lens) + 3, seed), config);
}

TEST(AttentionDecodeGpu, SplitPathMatchesReference) {
  SKIP_WITHOUT_GPU();
  for (const Shape& shape : shapes()) {
    SCOPED_TRACE(describe(shape));
    const AttentionDecodeConfig config{};
    ASSERT_GT(attention_decode_splits(static_cast<int>(kMixedLens.size()), shape.kv_heads, 5000, config), 1);
    run_eager(shape, kMixedLens, config,
              static_cast<uint32_t>(shape.head_dim * 131 + shape.heads * 7 + shape.block_size));
  }
}

// Splits as small as one key group, and fewer splits than the fill target would ask for.
TEST(AttentionDecodeGpu, OtherSplitConfigsMatchReference) {
  SKIP_WITHOUT_GPU();
  for (const AttentionDecodeConfig config : {AttentionDecodeConfig{16, 1}, AttentionDecodeConfig{16, 100000},
                                              AttentionDecodeConfig{512, 64}}) {
    for (const Shape& shape : {Shape{8, 2, 128, 16}, Shape{4, 2, 64, 64}}) {
      SCOPED_TRACE(describe(shape) + " min_chunk=" + std::to_string(config.min_chunk) +
                   " target_blocks=" + std::to_string(config.target_blocks));
      run_eager(shape, kMixedLens, config, static_cast<uint32_t>(config.min_chunk + config.target_blocks));
    }
  }
}

// Contexts up to the max chunk with no fill target: one kernel, no workspace at all.
TEST(AttentionDecodeGpu, SingleKernelPathMatchesReference) {
  SKIP_WITHOUT_GPU();
  const std::vector<int> lens = {1, 15, 16, 0, 17, 100, 300, kAttentionDecodeMaxChunk, 0, 33};
  const AttentionDecodeConfig config{128, 1};
  for (const Shape& shape : shapes()) {
    SCOPED_TRACE(describe(shape));
    ASSERT_EQ(attention_decode_splits(static_cast<int>(lens.size()), shape.kv_heads, kAttentionDecodeMaxChunk, config),
              1);
    ASSERT_EQ(attention_decode_workspace_bytes(static_cast<int>(lens.size()), shape.heads, shape.head_dim,
                                               kAttentionDecodeMaxChunk, config),
              0u);
    run_eager(shape, lens, config, static_cast<uint32_t>(shape.head_dim + shape.heads + shape.block_size));
  }
}

// Cache rows past each sequence's length, and blocks no sequence owns, hold NaN bits: the output is
// still the reference's (rows past the length must not reach P V, where 0 * NaN would), for
// contexts shorter than one tile, one key group and one cache block, through one split and through
// splits of one key group.
TEST(AttentionDecodeGpu, CacheRowsPastTheLengthDoNotReachTheOutput) {
  SKIP_WITHOUT_GPU();
  const std::vector<int> lens = {1, 2, 15, 0, 16, 17, 31, 33, 100};
  for (const AttentionDecodeConfig config : {AttentionDecodeConfig{}, AttentionDecodeConfig{16, 100000}})
    for (const Shape& shape : shapes()) {
      SCOPED_TRACE(describe(shape) + " min_chunk=" + std::to_string(config.min_chunk));
      Step st = make_step(shape, lens, blocks_needed(shape, lens) + 3, 4242 + shape.block_size);
      std::vector<bool> live(st.cache.k.size(), false);
      const size_t row = static_cast<size_t>(shape.head_dim);
      for (size_t s = 0; s < lens.size(); ++s)
        for (int pos = 0; pos < lens[s]; ++pos) {
          const int32_t block = st.batch.block_table[s * st.batch.max_blocks_per_seq + pos / shape.block_size];
          for (int h = 0; h < shape.kv_heads; ++h) {
            const size_t at = ((size_t(block) * shape.kv_heads + h) * shape.block_size + pos % shape.block_size) * row;
            std::fill_n(live.begin() + static_cast<std::ptrdiff_t>(at), row, true);
          }
        }
      for (size_t i = 0; i < live.size(); ++i)
        if (!live[i]) st.cache.k[i] = st.cache.v[i] = 0xFFFF;  // NaN
      run_eager(st, config);
    }
}

// Captured once with max_seq_len as an upper bound; replayed with different lengths (and split
// counts), block tables, padding positions and cache contents.
TEST(AttentionDecodeGpu, GraphReplaysWithNewLengthsAndTables) {
  SKIP_WITHOUT_GPU();
  for (const Shape& shape : {Shape{8, 2, 128, 64}, Shape{4, 2, 64, 16}}) {
    SCOPED_TRACE(describe(shape));
    const std::vector<int> lens_a = {5000, 1, 0, 17, 100, 1000, 16, 15, 0};
    const std::vector<int> lens_b = {0, 4000, 300, 1, 2047, 0, 64, 4999, 16};
    const int bound = 5000, num_blocks = std::max(blocks_needed(shape, lens_a), blocks_needed(shape, lens_b)) + 3;
    Step a = make_step(shape, lens_a, num_blocks, 11), b = make_step(shape, lens_b, num_blocks, 12);
    // One table width for both, so the device arrays keep their shape between replays.
    const int width = (bound + shape.block_size - 1) / shape.block_size;
    for (Step* st : {&a, &b}) {
      std::vector<int32_t> table(lens_a.size() * width, -1);
      for (size_t s = 0; s < lens_a.size(); ++s)
        std::copy_n(st->batch.block_table.begin() + s * st->batch.max_blocks_per_seq, st->batch.max_blocks_per_seq,
                    table.begin() + s * width);
      st->batch.block_table = table;
      st->batch.max_blocks_per_seq = width;
    }
    const AttentionDecodeConfig config{};
    const size_t ws =
        attention_decode_workspace_bytes(static_cast<int>(lens_a.size()), shape.heads, shape.head_dim, bound, config);
    DeviceStep dev(a, bound, ws);

    cudaStream_t stream;
    CUDA_CHECK(cudaStreamCreate(&stream));
    cudaGraph_t graph;
    cudaGraphExec_t exec;
    CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeGlobal));
    dev.launch(a, config, stream);
    CUDA_CHECK(cudaStreamEndCapture(stream, &graph));
    CUDA_CHECK(cudaGraphInstantiate(&exec, graph, 0));
    for (const Step* st : {&a, &b}) {
      dev.upload(*st);
      dev.poison();
      CUDA_CHECK(cudaGraphLaunch(exec, stream));
      CUDA_CHECK(cudaStreamSynchronize(stream));
      expect_matches_reference(*st, dev.download());
    }
    cudaGraphExecDestroy(exec);
    cudaGraphDestroy(graph);
    cudaStreamDestroy(stream);
  }
}

// With a fixed chunk, each sequence's keys are cut by its own length alone: its output is the same
// bits alone as inside a batch of other lengths (whose longest sets the launch's split count), and
// matches the reference.
TEST(AttentionDecodeGpu, FixedChunkOutputDoesNotDependOnTheBatch) {
  SKIP_WITHOUT_GPU();
  AttentionDecodeConfig config;
  config.fixed_chunk = 256;
  const std::vector<int> lens = {1000, 40, 0, 300, 5000, 257, 256};
  for (const Shape& shape : {Shape{8, 2, 128, 64}, Shape{4, 2, 64, 16}}) {
    SCOPED_TRACE(describe(shape));
    const Step st = make_step(shape, lens, blocks_needed(shape, lens) + 3, 11);
    auto run = [&](const Step& step) {
      const int max_len = *std::max_element(step.batch.seq_len.begin(), step.batch.seq_len.end());
      DeviceStep dev(step, max_len,
                     attention_decode_workspace_bytes(static_cast<int>(step.batch.seq_len.size()), shape.heads,
                                                      shape.head_dim, max_len, config));
      dev.upload(step);
      dev.poison();
      dev.launch(step, config, nullptr);
      CUDA_CHECK(cudaDeviceSynchronize());
      return dev.download();
    };
    const std::vector<uint16_t> batched = run(st);
    expect_matches_reference(st, batched);
    const size_t row = static_cast<size_t>(shape.heads * shape.head_dim);
    for (size_t s = 0; s < lens.size(); ++s) {
      if (lens[s] == 0) continue;
      Step alone = st;
      const auto table = st.batch.block_table.begin() + static_cast<std::ptrdiff_t>(s * st.batch.max_blocks_per_seq);
      alone.batch.block_table.assign(table, table + st.batch.max_blocks_per_seq);
      alone.batch.seq_len = {lens[s]};
      alone.batch.query_start = {0, 1};
      alone.q.assign(st.q.begin() + static_cast<std::ptrdiff_t>(s * row),
                     st.q.begin() + static_cast<std::ptrdiff_t>((s + 1) * row));
      const std::vector<uint16_t> got = run(alone);
      EXPECT_TRUE(std::equal(got.begin(), got.end(), batched.begin() + static_cast<std::ptrdiff_t>(s * row)))
          << "sequence " << s << " (" << lens[s] << " keys) alone differs from its row in the batch";
    }
  }
}

// attention_decode_rope_gpu against rope_kv_write_gpu followed by attention_decode_gpu on the same
// inputs: the same output bits and the same cache, for bf16 QKV rows as they are and with scales
// still to apply (a token scale and per-column weight scales), through one split and through
// several (the fresh key is in the last), with padding sequences and a sequence of one key (its
// own), and for contexts whose last key opens a new cache block.
TEST(AttentionDecodeGpu, FusedRopeGivesTheBitsOfRopeThenAttention) {
  SKIP_WITHOUT_GPU();
  const std::vector<int> lens = {1, 15, 0, 16, 17, 65, 100, 1000, 0, 300};
  for (const Shape& shape : {Shape{8, 2, 128, 64}, Shape{4, 2, 64, 16}, Shape{20, 5, 128, 64}})
    for (bool scaled : {false, true})
      for (const AttentionDecodeConfig config :
           {AttentionDecodeConfig{}, AttentionDecodeConfig{16, 100000}, AttentionDecodeConfig{128, 0, 256}}) {
        SCOPED_TRACE(describe(shape) + (scaled ? " scaled" : " plain") +
                     " min_chunk=" + std::to_string(config.min_chunk) +
                     " target_blocks=" + std::to_string(config.target_blocks) +
                     " fixed_chunk=" + std::to_string(config.fixed_chunk));
        const int max_len = *std::max_element(lens.begin(), lens.end());
        const int seqs = static_cast<int>(lens.size());
        const Step st = make_step(shape, lens, blocks_needed(shape, lens) + 3, 9000 + shape.heads + scaled);
        const size_t ws = attention_decode_workspace_bytes(seqs, shape.heads, shape.head_dim, max_len, config);
        DeviceStep separate(st, max_len, ws), fused(st, max_len, ws);
        separate.upload(st);
        fused.upload(st);
        separate.poison();
        fused.poison();

        // The fresh token of sequence s sits at position len - 1, in the cache slot of that key.
        std::vector<int32_t> positions, slots;
        for (int s = 0; s < seqs; ++s) {
          const int len = lens[static_cast<size_t>(s)];
          positions.push_back(std::max(len - 1, 0));
          const int32_t block =
              len > 0 ? st.batch.block_table[static_cast<size_t>(s * st.batch.max_blocks_per_seq + (len - 1) /
                                                                                                      shape.block_size)]
                      : -1;
          slots.push_back(len > 0 ? block * shape.block_size + (len - 1) % shape.block_size : -1);
        }
        const int64_t width = int64_t{shape.heads + 2 * shape.kv_heads} * shape.head_dim;
        std::mt19937 rng(static_cast<uint32_t>(width + seqs));
        std::vector<uint16_t> qkv(static_cast<size_t>(seqs * width));
        for (auto& x : qkv) x = random_bf16(rng, scaled ? 30.0f : 1.0f);
        std::uniform_real_distribution<float> scale(0.01f, 0.05f);
        std::vector<float> scale_x(static_cast<size_t>(seqs)), scale_w(static_cast<size_t>(width));
        for (auto& x : scale_x) x = scale(rng);
        for (auto& x : scale_w) x = scale(rng);
        const RopeTable rope = make_rope_table(shape.head_dim, max_len, 500000.0);
        const DeviceBuffer qkv_gpu = testing::upload(qkv, "qkv");
        const DeviceBuffer positions_gpu = testing::upload(positions, "positions");
        const DeviceBuffer slots_gpu = testing::upload(slots, "slots"), cos = testing::upload(rope.cos, "cos");
        const DeviceBuffer sin = testing::upload(rope.sin, "sin"), scale_x_gpu = testing::upload(scale_x, "scale_x");
        const DeviceBuffer scale_w_gpu = testing::upload(scale_w, "scale_w");
        AccView view;
        view.type = AccumulatorType::BFloat16;
        view.data = qkv_gpu.data();
        view.ld = width;
        if (scaled) view.scale_x = scale_x_gpu.as<float>(), view.scale_w = scale_w_gpu.as<float>();
        ASSERT_TRUE(attention_decode_fuses_rope(view));

        rope_kv_write_gpu(view, seqs, positions_gpu.as<int32_t>(), slots_gpu.as<int32_t>(), cos.as<__nv_bfloat16>(),
                          sin.as<__nv_bfloat16>(), shape.heads, separate.cache, separate.q.as<__nv_bfloat16>(),
                          nullptr);
        separate.launch(st, config, nullptr);
        attention_decode_rope_gpu({view, positions_gpu.as<int32_t>(), slots_gpu.as<int32_t>(), cos.as<__nv_bfloat16>(),
                                   sin.as<__nv_bfloat16>()},
                                  fused.cache, fused.batch, shape.heads, st.scale, fused.out.as<__nv_bfloat16>(),
                                  fused.workspace.data(), fused.workspace.bytes(), nullptr, config);
        CUDA_CHECK(cudaDeviceSynchronize());
        const std::vector<uint16_t> want = separate.download(), got = fused.download();
        ASSERT_EQ(got.size(), want.size());
        int differing = 0;
        for (size_t i = 0; i < want.size(); ++i)
          if (got[i] != want[i] && ++differing <= 4)
            ADD_FAILURE() << "output " << i << ": fused " << bf16_to_float(got[i]) << ", separate "
                          << bf16_to_float(want[i]);
        EXPECT_EQ(differing, 0);
        EXPECT_EQ(testing::download<uint16_t>(fused.k, st.cache.k.size()),
                  testing::download<uint16_t>(separate.k, st.cache.k.size()));
        EXPECT_EQ(testing::download<uint16_t>(fused.v, st.cache.v.size()),
                  testing::download<uint16_t>(separate.v, st.cache.v.size()));
      }
  // Other forms go through the separate kernels: refused here with one clear error.
  AccView int32_rows;
  int32_rows.type = AccumulatorType::Int32;
  EXPECT_FALSE(attention_decode_fuses_rope(int32_rows));
}

// The default split plan on this device (tests/kernels/attention_decode_plan_test.cc checks the plan
// with explicit fill targets on the CPU): the workspace bound holds for every launch of at most the
// bound's sequences and any kv head count, and the fill target is twice the SM count: below it a
// sequence splits (down to min_chunk), from it on none does.
TEST(AttentionDecodeSplits, DefaultFillTargetIsTwiceTheSmCount) {
  SKIP_WITHOUT_GPU();
  for (int num_seqs : {1, 3, 64, 512})
    for (int max_len : {0, 1, 16, 272, 513, 4096, 32768})
      for (int kv : {1, 2, 5, 8, 32}) {
        SCOPED_TRACE("seqs=" + std::to_string(num_seqs) + " max_len=" + std::to_string(max_len) +
                     " kv=" + std::to_string(kv));
        const int heads = kv * 4;
        const size_t bound = attention_decode_workspace_bytes(num_seqs, heads, 128, max_len);
        for (int fewer = 1; fewer <= num_seqs; ++fewer) {
          const int s = attention_decode_splits(fewer, kv, max_len);
          ASSERT_GE(bound, attention_decode_partials_bytes(fewer, heads, 128, s)) << fewer << " sequences";
        }
      }
  int device = 0, sms = 0;
  ASSERT_EQ(cudaGetDevice(&device), cudaSuccess);
  ASSERT_EQ(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device), cudaSuccess);
  EXPECT_EQ(attention_decode_splits(1, 5, 4096), std::min((2 * sms + 4) / 5, 4096 / 128));
  EXPECT_EQ(attention_decode_splits((2 * sms + 4) / 5, 5, 512), 1);
  EXPECT_EQ(attention_decode_splits(512, 5, 272), 1);  // enough blocks already: no split, no combine
  EXPECT_EQ(attention_decode_splits(512, 5, 4096), 4096 / kAttentionDecodeMaxChunk);
}

TEST(AttentionDecodeGpu, RejectsBadShapesAndSmallWorkspace) {
  SKIP_WITHOUT_GPU();
  const Shape shape{8, 2, 128, 16};
  const Step st = make_step(shape, {1000, 7}, 70, 5);
  DeviceStep dev(st, 1000, 16);
  dev.upload(st);
  EXPECT_THROW(dev.launch(st, {}, nullptr), Error);  // the split path needs more than 16 bytes
  Step wide = st;
  wide.shape.heads = 18;  // 9 query heads per kv head
  EXPECT_THROW(dev.launch(wide, {}, nullptr), Error);
  EXPECT_THROW(dev.launch(st, AttentionDecodeConfig{24, 1024}, nullptr), Error);
}

}  // namespace
}  // namespace slidesparse
