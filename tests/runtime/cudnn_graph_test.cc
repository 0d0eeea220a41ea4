// The SDPA graph the engine hands cuDNN, checked by the cuDNN frontend's own validation (dims,
// strides, ragged offsets, masks against what the loaded backend supports) for a
// Hopper GPU — on the CPU, without a device: cuDNN is dlopen'ed here too (the CUDA toolkit ships
// libcudnn.so.9). Skipped, with the reason, where it cannot be loaded.
#include <gtest/gtest.h>

#include <string>

#include "cudnn/cudnn_library.h"
#include "cudnn/cudnn_prefill_attention.h"

namespace slidesparse {
namespace {

// BitNet-2B's attention in the benchmark engine: 20 / 5 heads of 128, up to 32 sequences of 1024.
constexpr CudnnAttentionShape kBitnet{20, 5, 128, 32, 1024, 0.08838834764831845f};

TEST(CudnnGraph, BitnetPrefillBucketsPassTheFrontendsChecksForHopper) {
  std::string why;
  if (!cudnn_library(&why)) GTEST_SKIP() << why;
  for (int seqs : {1, 2, 32})
    for (int len : {256, 512, 1024}) {
      std::string reason;
      EXPECT_TRUE(validate_cudnn_prefill_graph(kBitnet, {seqs, len}, 90, &reason))
          << seqs << " x " << len << ": " << reason;
    }
}

TEST(CudnnGraph, SmallHeadsAndBlocksPassToo) {
  std::string why;
  if (!cudnn_library(&why)) GTEST_SKIP() << why;
  const CudnnAttentionShape tiny{4, 2, 64, 8, 256, 0.125f};
  std::string reason;
  EXPECT_TRUE(validate_cudnn_prefill_graph(tiny, {2, 256}, 90, &reason)) << reason;
}

// The frontend's checks can fail: a head size that is not a multiple of 8 is refused with its reason.
TEST(CudnnGraph, AnUnsupportedHeadSizeIsRefusedWithAReason) {
  std::string why;
  if (!cudnn_library(&why)) GTEST_SKIP() << why;
  CudnnAttentionShape odd = kBitnet;
  odd.head_dim = 100;
  std::string reason;
  EXPECT_FALSE(validate_cudnn_prefill_graph(odd, {1, 256}, 90, &reason));
  EXPECT_NE(reason.find("multiple of 8"), std::string::npos) << reason;
}

}  // namespace
}  // namespace slidesparse
