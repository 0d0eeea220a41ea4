#include "math/key_window.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

namespace slidesparse {
namespace {

TEST(KeyWindow, NarrowestBucketsThatKeepAtMost2048) {
  EXPECT_EQ(key_window(7, 7).shift, 0);
  EXPECT_EQ(window_buckets(key_window(7, 7)), 1u);
  EXPECT_EQ(key_window(100, 100 + 2047).shift, 0);  // 2,048 keys: one bucket each
  EXPECT_EQ(window_buckets(key_window(100, 100 + 2047)), 2048u);
  EXPECT_EQ(key_window(100, 100 + 2048).shift, 1);  // 2,049 keys: two per bucket
  EXPECT_EQ(window_buckets(key_window(100, 100 + 2048)), 1025u);
  EXPECT_EQ(key_window(0, 0xFFFFFFFFu).shift, 21);  // every key
  EXPECT_EQ(window_buckets(key_window(0, 0xFFFFFFFFu)), 2048u);
  std::mt19937 rng(3);
  for (int i = 0; i < 10000; ++i) {
    uint32_t lo = rng(), hi = rng();
    if (lo > hi) std::swap(lo, hi);
    hi = i % 2 ? hi : lo + (hi - lo) % 5000;  // narrow windows as often as wide ones
    const KeyWindow w = key_window(lo, hi);
    ASSERT_LE(window_buckets(w), kKeyWindowBuckets);
    ASSERT_TRUE(w.shift == 0 || window_buckets(key_window(lo, hi)) > kKeyWindowBuckets / 2) << lo << " " << hi;
  }
}

TEST(KeyWindow, MembershipAndBuckets) {
  const KeyWindow w = key_window(1000, 1000 + 4095 + 7);  // shift 2: buckets of 4 keys, the last of 3
  ASSERT_EQ(w.shift, 2);
  EXPECT_FALSE(key_in_window(w, 999));
  EXPECT_TRUE(key_in_window(w, 1000));
  EXPECT_TRUE(key_in_window(w, 5102));
  EXPECT_FALSE(key_in_window(w, 5103));
  EXPECT_FALSE(key_in_window(w, 0));
  EXPECT_FALSE(key_in_window(w, 0xFFFFFFFFu));
  EXPECT_EQ(key_bucket(w, 1000), 0u);
  EXPECT_EQ(key_bucket(w, 1003), 0u);
  EXPECT_EQ(key_bucket(w, 1004), 1u);
  EXPECT_EQ(key_bucket(w, 5102), 1025u);
  EXPECT_EQ(window_buckets(w), 1026u);
}

TEST(KeyWindow, ABucketIsAWindowOfItsOwn) {
  const KeyWindow w = key_window(1000, 1000 + 4095 + 7);
  const KeyWindow first = bucket_window(w, 0), last = bucket_window(w, 1025);
  EXPECT_EQ(first.lo, 1000u);
  EXPECT_EQ(first.hi, 1003u);
  EXPECT_EQ(first.shift, 0);
  EXPECT_EQ(last.lo, 5100u);
  EXPECT_EQ(last.hi, 5102u);  // clamped to the window
  // At the top of the key range the bucket's end does not wrap around.
  const KeyWindow top = key_window(0xFFFFFFFFu - 10000, 0xFFFFFFFFu);
  const KeyWindow top_bucket = bucket_window(top, window_buckets(top) - 1);
  EXPECT_EQ(top_bucket.hi, 0xFFFFFFFFu);
  EXPECT_LE(top_bucket.lo, top_bucket.hi);
  // Buckets tile the window: every key lies in exactly the bucket key_bucket names.
  const KeyWindow wide = key_window(0, 0xFFFFFFFFu);
  for (const uint32_t key : {0u, 1u, 2097151u, 2097152u, 0x80000000u, 0xFFFFFFFFu}) {
    const KeyWindow b = bucket_window(wide, key_bucket(wide, key));
    EXPECT_TRUE(key_in_window(b, key)) << key;
    EXPECT_EQ(b.hi - b.lo, 2097151u) << key;
  }
}

TEST(KeyWindow, CrossingFromTheTop) {
  const std::vector<uint64_t> measure{5, 0, 3, 2, 4};  // bucket 4 holds the largest keys
  BucketCrossing c = crossing_bucket(measure.data(), 5, 0, 4);
  EXPECT_TRUE(c.found);
  EXPECT_EQ(c.bucket, 4u);
  EXPECT_EQ(c.above, 0u);
  c = crossing_bucket(measure.data(), 5, 0, 5);  // 4 + 2 reaches 5 at bucket 3
  EXPECT_EQ(c.bucket, 3u);
  EXPECT_EQ(c.above, 4u);
  c = crossing_bucket(measure.data(), 5, 0, 9);  // exactly reached at bucket 2
  EXPECT_EQ(c.bucket, 2u);
  EXPECT_EQ(c.above, 6u);
  c = crossing_bucket(measure.data(), 5, 0, 10);  // bucket 1 is empty: the crossing is bucket 0
  EXPECT_EQ(c.bucket, 0u);
  EXPECT_EQ(c.above, 9u);
  c = crossing_bucket(measure.data(), 5, 10, 17);  // the measure above the window counts
  EXPECT_EQ(c.bucket, 2u);
  EXPECT_EQ(c.above, 16u);
  c = crossing_bucket(measure.data(), 5, 0, 15);
  EXPECT_FALSE(c.found);
  EXPECT_EQ(c.above, 14u);  // the whole window's measure
}

}  // namespace
}  // namespace slidesparse
