// The SDPA graph the engine hands cuDNN, checked by the cuDNN frontend's own validation (dims,
// strides, ragged offsets, paged caches, masks against what the loaded backend supports) for a
// Hopper GPU — on the CPU, without a device: cuDNN is dlopen'ed here too (the CUDA toolkit ships
// libcudnn.so.9). Skipped, with the reason, where it cannot be loaded.
#include <gtest/gtest.h>

#include <string>

#include "cudnn/cudnn_library.h"
#include "cudnn/cudnn_prefill_attention.h"

namespace slidesparse {
namespace {

// BitNet-2B's attention in the benchmark engine's cache: 20 / 5 heads of 128, blocks of 64.
constexpr CudnnAttentionShape kBitnet{20, 5, 128, 64, 4096, 16, 32, 0.08838834764831845f};

TEST(CudnnGraph, BitnetPrefillBucketsPassTheFrontendsChecksForHopper) {
  std::string why;
  if (!cudnn_library(&why)) GTEST_SKIP() << why;
  for (int seqs : {1, 2, 32})
    for (int len : {256, 512, 1024}) {
      std::string reason;
      EXPECT_TRUE(validate_cudnn_prefill_graph(kBitnet, {seqs, len, len}, 90, &reason))
          << seqs << " x " << len << ": " << reason;
    }
  // Chunked prefill: queries after a cached prefix (bottom-right diagonal, fewer queries than keys).
  std::string reason;
  EXPECT_TRUE(validate_cudnn_prefill_graph(kBitnet, {4, 256, 1024}, 90, &reason)) << reason;
}

TEST(CudnnGraph, SmallHeadsAndBlocksPassToo) {
  std::string why;
  if (!cudnn_library(&why)) GTEST_SKIP() << why;
  const CudnnAttentionShape tiny{4, 2, 64, 16, 40, 16, 32, 0.125f};
  std::string reason;
  EXPECT_TRUE(validate_cudnn_prefill_graph(tiny, {2, 256, 256}, 90, &reason)) << reason;
}

// The frontend's checks can fail: a head size that is not a multiple of 8 is refused with its reason.
TEST(CudnnGraph, AnUnsupportedHeadSizeIsRefusedWithAReason) {
  std::string why;
  if (!cudnn_library(&why)) GTEST_SKIP() << why;
  CudnnAttentionShape odd = kBitnet;
  odd.head_dim = 100;
  std::string reason;
  EXPECT_FALSE(validate_cudnn_prefill_graph(odd, {1, 256, 256}, 90, &reason));
  EXPECT_NE(reason.find("multiple of 8"), std::string::npos) << reason;
}

}  // namespace
}  // namespace slidesparse
