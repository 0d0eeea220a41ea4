// rope_kv_write_gpu against the CPU reference (math/rope.h's apply_rope on the AccView's bf16
// values), bit for bit: q_out and the whole K / V cache (so a stray write anywhere shows up), for
// every accumulator form the linear layer leaves (int32 + both scales, bf16 + scale_x, bf16 + both,
// bf16 without scales: the packed bf16x2 kernel where rows are 16-byte aligned, fp32 + both),
// head_dim 64 / 128, MHA and GQA, block sizes 16 / 64, padding
// tokens (slot -1), a slot past the cache, padded and unaligned QKV rows (the scalar-load path),
// with and without the packed k / v copy (kv_out).
// Inputs are fresh random non-zero values; outputs are poisoned before every run.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "gpu/cuda_check.h"
#include "gpu/device_buffer.h"
#include "gpu/device_info.h"
#include "acc_forms.h"
#include "gpu_test_util.h"
#include "kernels/rope_kv.h"
#include "math/numeric_formats.h"
#include "math/rope.h"

namespace slidesparse {
namespace {

using testing::download;
using testing::upload;

constexpr uint8_t kPoison = 0xA5;
constexpr uint16_t kPoisonBf16 = 0xA5A5;
constexpr int kMaxPositions = 4096;
constexpr double kTheta = 500000.0;

struct Case {
  AccumulatorType type;
  bool scale_x, scale_w;
  int heads, kv_heads, head_dim, block_size;
  int64_t tokens;
  int64_t ld_extra;     // columns past (heads + 2 kv_heads) * head_dim in each QKV row
  bool kv_out = true;  // also write the packed k / v rows
};

std::string describe(const Case& c) {
  const char* type = c.type == AccumulatorType::Int32 ? "int32" : c.type == AccumulatorType::Float32 ? "fp32" : "bf16";
  return std::string(type) + (c.scale_x ? "+sx" : "") + (c.scale_w ? "+sw" : "") + " H=" + std::to_string(c.heads) +
         " KV=" + std::to_string(c.kv_heads) + " D=" + std::to_string(c.head_dim) +
         " block=" + std::to_string(c.block_size) + " T=" + std::to_string(c.tokens) +
         " ld_extra=" + std::to_string(c.ld_extra) + (c.kv_out ? " kv_out" : "");
}

size_t element_bytes(AccumulatorType type) { return type == AccumulatorType::BFloat16 ? 2 : 4; }

// One step's inputs on the host. The QKV tensor has two padding rows past `tokens`, as the GEMM's
// padded output does.
struct Step {
  Case c;
  int64_t width = 0, ld = 0, rows = 0;
  int num_blocks = 0;
  std::vector<uint8_t> acc;  // rows x ld raw accumulators of c.type
  std::vector<float> scale_x, scale_w;
  std::vector<int32_t> positions, slots;
};

Step random_step(const Case& c, uint32_t seed) {
  std::mt19937 rng(seed);
  Step s{c};
  s.width = int64_t{c.heads + 2 * c.kv_heads} * c.head_dim;
  s.ld = s.width + c.ld_extra;
  s.rows = c.tokens + 2;
  const int64_t n = s.rows * s.ld;
  s.acc.resize(static_cast<size_t>(n) * element_bytes(c.type));
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> decades(-2.0f, 2.0f);
  std::uniform_int_distribution<int32_t> int_acc(1, 400000);  // |acc| of a K=2560 ternary GEMM
  for (int64_t i = 0; i < n; ++i) {
    const float magnitude = std::pow(10.0f, decades(rng));
    float f = normal(rng) * magnitude;
    if (f == 0.0f) f = magnitude;
    switch (c.type) {
      case AccumulatorType::Int32: {
        const int32_t v = int_acc(rng) * (rng() % 2 ? 1 : -1);
        std::memcpy(s.acc.data() + i * 4, &v, 4);
        break;
      }
      case AccumulatorType::Float32:
        std::memcpy(s.acc.data() + i * 4, &f, 4);
        break;
      case AccumulatorType::BFloat16: {
        const uint16_t v = float_to_bf16(f);
        std::memcpy(s.acc.data() + i * 2, &v, 2);
        break;
      }
    }
  }
  std::uniform_real_distribution<float> scale(0.25f, 2.0f);
  const float int_scale = c.type == AccumulatorType::Int32 ? 1e-4f : 1.0f;  // int32 sums are large
  for (int64_t r = 0; r < s.rows; ++r) s.scale_x.push_back(scale(rng) * int_scale);
  for (int64_t i = 0; i < s.ld; ++i) s.scale_w.push_back(scale(rng));

  // Distinct slots (one writer per cache row) out of a cache about 1.5x the tokens; every 5th token
  // is padding and token 3 (when present) points one slot past the end of the cache.
  s.num_blocks = static_cast<int>((c.tokens * 3 / 2) / c.block_size + 2);
  std::vector<int32_t> free_slots(static_cast<size_t>(s.num_blocks) * c.block_size);
  std::iota(free_slots.begin(), free_slots.end(), 0);
  std::shuffle(free_slots.begin(), free_slots.end(), rng);
  std::uniform_int_distribution<int32_t> position(0, kMaxPositions - 1);
  for (int64_t t = 0; t < c.tokens; ++t) {
    s.positions.push_back(position(rng));
    s.slots.push_back(t % 5 == 4 ? -1 : free_slots[static_cast<size_t>(t)]);
  }
  if (c.tokens > 3) s.slots[3] = s.num_blocks * c.block_size;
  return s;
}

// acc_value on the host: bf16((float(acc) * scale_x[m]) * scale_w[n]), null scales skipped.
uint16_t host_value(const Step& s, int64_t row, int64_t col) {
  const int64_t i = row * s.ld + col;
  float y;
  switch (s.c.type) {
    case AccumulatorType::Int32: {
      int32_t v;
      std::memcpy(&v, s.acc.data() + i * 4, 4);
      y = static_cast<float>(v);
      break;
    }
    case AccumulatorType::Float32:
      std::memcpy(&y, s.acc.data() + i * 4, 4);
      break;
    default: {
      uint16_t v;
      std::memcpy(&v, s.acc.data() + i * 2, 2);
      y = bf16_to_float(v);
    }
  }
  if (s.c.scale_x) y = y * s.scale_x[static_cast<size_t>(row)];
  if (s.c.scale_w) y = y * s.scale_w[static_cast<size_t>(col)];
  return float_to_bf16(y);
}

struct Result {
  std::vector<uint16_t> q, k, v, kv;  // q, kv: tokens + 1 rows (the extra row must stay poisoned)
};

size_t cache_elements(const Step& s) {
  return static_cast<size_t>(s.num_blocks) * s.c.kv_heads * s.c.block_size * s.c.head_dim;
}

Result run_cpu(const Step& s, const RopeTable& table) {
  const Case& c = s.c;
  const size_t q_row = static_cast<size_t>(c.heads) * c.head_dim;
  const size_t kv_row = 2 * static_cast<size_t>(c.kv_heads) * c.head_dim;
  Result r{std::vector<uint16_t>((c.tokens + 1) * q_row, kPoisonBf16),
           std::vector<uint16_t>(cache_elements(s), kPoisonBf16), std::vector<uint16_t>(cache_elements(s), kPoisonBf16),
           std::vector<uint16_t>((c.tokens + 1) * kv_row, kPoisonBf16)};
  std::vector<uint16_t> head(static_cast<size_t>(c.head_dim));
  const auto load_head = [&](int64_t t, int unit) {
    for (int d = 0; d < c.head_dim; ++d) head[d] = host_value(s, t, int64_t{unit} * c.head_dim + d);
  };
  const int64_t cache_slots = int64_t{s.num_blocks} * c.block_size;
  for (int64_t t = 0; t < c.tokens; ++t) {
    for (int h = 0; h < c.heads; ++h) {
      load_head(t, h);
      apply_rope(table, s.positions[t], head.data());
      std::copy(head.begin(), head.end(), r.q.begin() + (t * c.heads + h) * c.head_dim);
    }
    const int32_t slot = s.slots[t];
    if (slot < 0 || slot >= cache_slots) continue;
    const int64_t block = slot / c.block_size, offset = slot % c.block_size;
    for (int h = 0; h < c.kv_heads; ++h) {
      const int64_t at = ((block * c.kv_heads + h) * c.block_size + offset) * c.head_dim;
      const int64_t packed = t * static_cast<int64_t>(kv_row) + int64_t{h} * c.head_dim;
      load_head(t, c.heads + h);
      apply_rope(table, s.positions[t], head.data());
      std::copy(head.begin(), head.end(), r.k.begin() + at);
      if (c.kv_out) std::copy(head.begin(), head.end(), r.kv.begin() + packed);
      load_head(t, c.heads + c.kv_heads + h);
      std::copy(head.begin(), head.end(), r.v.begin() + at);
      if (c.kv_out) std::copy(head.begin(), head.end(), r.kv.begin() + packed + int64_t{c.kv_heads} * c.head_dim);
    }
  }
  return r;
}

Result run_gpu(const Step& s, const RopeTable& table) {
  const Case& c = s.c;
  DeviceBuffer acc(s.acc.size(), "qkv"), sx(s.scale_x.size() * 4, "scale_x"), sw(s.scale_w.size() * 4, "scale_w");
  DeviceBuffer positions(s.positions.size() * 4, "positions"), slots(s.slots.size() * 4, "slots");
  DeviceBuffer cos(table.cos.size() * 2, "cos"), sin(table.sin.size() * 2, "sin");
  const size_t q_elements = static_cast<size_t>(c.tokens + 1) * c.heads * c.head_dim;
  const size_t kv_elements = static_cast<size_t>(c.tokens + 1) * 2 * c.kv_heads * c.head_dim;
  DeviceBuffer q(q_elements * 2, "q_out"), k(cache_elements(s) * 2, "k cache"), v(cache_elements(s) * 2, "v cache");
  DeviceBuffer kv(kv_elements * 2, "kv_out");
  upload(acc, s.acc);
  upload(sx, s.scale_x);
  upload(sw, s.scale_w);
  upload(positions, s.positions);
  upload(slots, s.slots);
  upload(cos, table.cos);
  upload(sin, table.sin);
  for (const DeviceBuffer* out : {&q, &k, &v, &kv}) CUDA_CHECK(cudaMemset(out->data(), kPoison, out->bytes()));

  AccView view{c.type, acc.data(), s.ld, c.scale_x ? sx.as<float>() : nullptr, c.scale_w ? sw.as<float>() : nullptr};
  KvCacheLayer cache{k.as<__nv_bfloat16>(), v.as<__nv_bfloat16>(), s.num_blocks, c.block_size, c.kv_heads, c.head_dim};
  rope_kv_write_gpu(view, c.tokens, positions.as<int32_t>(), slots.as<int32_t>(), cos.as<__nv_bfloat16>(),
                    sin.as<__nv_bfloat16>(), c.heads, cache, q.as<__nv_bfloat16>(), nullptr,
                    c.kv_out ? kv.as<__nv_bfloat16>() : nullptr);
  CUDA_CHECK(cudaDeviceSynchronize());
  return {download<uint16_t>(q, q_elements), download<uint16_t>(k, cache_elements(s)),
          download<uint16_t>(v, cache_elements(s)), download<uint16_t>(kv, kv_elements)};
}

// First mismatch, located, so a failure says which token / head / column went wrong.
void expect_same(const std::vector<uint16_t>& got, const std::vector<uint16_t>& want, int head_dim, const char* what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < want.size(); ++i)
    ASSERT_EQ(got[i], want[i]) << what << " differs at element " << i << " (head vector " << i / head_dim
                               << ", column " << i % head_dim << "): gpu " << bf16_to_float(got[i]) << " cpu "
                               << bf16_to_float(want[i]);
}

void check(const Case& c, uint32_t seed) {
  SCOPED_TRACE(describe(c));
  const RopeTable table = make_rope_table(c.head_dim, kMaxPositions, kTheta);
  const Step s = random_step(c, seed);
  const Result want = run_cpu(s, table), got = run_gpu(s, table);
  expect_same(got.q, want.q, c.head_dim, "q_out");
  expect_same(got.k, want.k, c.head_dim, "k cache");
  expect_same(got.v, want.v, c.head_dim, "v cache");
  expect_same(got.kv, want.kv, c.head_dim, "kv_out");
}

using testing::AccForm;

// Every form the engine feeds (docs/ENGINE.md), weight scales alone and an fp32 accumulator.
const AccForm kForms[] = {testing::kBf16Plain,       testing::kInt32BothScales, testing::kBf16ScaleX,
                          testing::kBf16BothScales, testing::kBf16ScaleW,      testing::kFloat32BothScales};

TEST(RopeKvWrite, MatchesCpuForEveryAccumulatorFormAndShape) {
  SKIP_WITHOUT_GPU();
  struct Heads {
    int heads, kv_heads, head_dim;
  };
  // BitNet-2B (GQA 4:1, D = 128), MHA at D = 64, GQA 8:1 at D = 64.
  const Heads shapes[] = {{20, 5, 128}, {8, 8, 64}, {16, 2, 64}};
  uint32_t seed = 1;
  for (const AccForm& f : kForms)
    for (const Heads& h : shapes)
      for (int block_size : {16, 64})
        for (int64_t tokens : {1, 37, 300})
          check({f.type, f.scale_x, f.scale_w, h.heads, h.kv_heads, h.head_dim, block_size, tokens, 0}, seed++);
}

TEST(RopeKvWrite, PaddedAndUnalignedQkvRows) {
  SKIP_WITHOUT_GPU();
  uint32_t seed = 1000;
  // ld_extra 8 keeps rows 16-byte aligned for every type; 1 and 3 break alignment (scalar loads).
  for (const AccForm& f : kForms)
    for (int64_t ld_extra : {8, 1, 3})
      check({f.type, f.scale_x, f.scale_w, 20, 5, 128, 16, 45, ld_extra}, seed++);
}

TEST(RopeKvWrite, LargePrefill) {
  SKIP_WITHOUT_GPU();
  check({AccumulatorType::Int32, true, true, 20, 5, 128, 64, 4096, 0}, 77);
  check({AccumulatorType::Int32, true, true, 20, 5, 128, 64, 4096, 0, /*kv_out=*/false}, 78);  // cache only
  check({AccumulatorType::BFloat16, false, false, 20, 5, 128, 64, 4096, 0}, 79);  // the packed kernel
}

TEST(RopeKvWrite, ZeroTokensIsANoOp) {
  SKIP_WITHOUT_GPU();
  const Case c{AccumulatorType::Int32, true, true, 20, 5, 128, 16, 0, 0};
  const RopeTable table = make_rope_table(c.head_dim, kMaxPositions, kTheta);
  const Step s = random_step(c, 5);
  const Result want = run_cpu(s, table), got = run_gpu(s, table);
  expect_same(got.k, want.k, c.head_dim, "k cache");
  expect_same(got.q, want.q, c.head_dim, "q_out");
}

// Shape checks happen before anything touches the device.
TEST(RopeKvWrite, RejectsTooNarrowQkvRows) {
  AccView view{AccumulatorType::BFloat16, nullptr, 100, nullptr, nullptr};
  KvCacheLayer cache{nullptr, nullptr, 1, 16, 5, 128};
  EXPECT_THROW(rope_kv_write_gpu(view, 1, nullptr, nullptr, nullptr, nullptr, 20, cache, nullptr, nullptr), Error);
}

}  // namespace
}  // namespace slidesparse
