// cuDNN as an optional run-time dependency of the prefill attention: libcudnn.so.9 is dlopen'ed on
// first use (SLIDESPARSE_CUDNN_LIB, the dynamic loader path, then the nvidia-cudnn-cu13 wheel that
// PyTorch installs) and handed to the cuDNN frontend, which is compiled with
// NV_CUDNN_FRONTEND_USE_DYNAMIC_LOADING and calls the backend through dlsym. Without cuDNN the
// engine runs its own attention kernel; nothing else needs it.
#pragma once

#include <cstddef>
#include <string>

namespace slidesparse {

struct CudnnLibrary {
  std::string path;    // where it was found
  size_t version = 0;  // cudnnGetVersion(): 91000 = 9.10.0
  std::string version_string() const;
};

// The oldest backend whose SDPA reads a paged KV cache with ragged (packed) queries.
inline constexpr size_t kCudnnMinimumVersion = 90700;

// The process-wide library, loaded once; nullptr when it cannot be used, with the reason (not
// found, too old, SLIDESPARSE_CUDNN_ATTENTION=0) in `why` (and, on the first call, in a note on
// stderr that prefill attention runs on the built-in kernel).
const CudnnLibrary* cudnn_library(std::string* why);

}  // namespace slidesparse
