// What `tune` and `bench kernel` check every GEMM candidate against before they time it: a plain
// tiled GEMM of our own on the same operands (the uncompressed weight, zeros included), and a
// comparison kernel, so that a library configuration that computes a wrong result, or leaves part
// of the output unwritten, is dropped like one that fails to run.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <string>

#include "gemm/gemm_types.h"

namespace slidesparse {

// acc [rows, n] row-major = x [rows, k] . w [n, k]^T: int32 for INT8 (exact), fp32 for FP8.
void reference_gemm_gpu(QuantKind kind, const uint8_t* x, const uint8_t* w, int64_t rows, int64_t n, int64_t k,
                        void* acc, cudaStream_t stream);

struct GemmCheck {
  int64_t elements = 0;
  int64_t mismatches = 0;  // outside the tolerance of the shape's kind and output (or not finite)
  double relative_error = 0;  // ||got - want|| / ||want||
  bool ok() const { return elements > 0 && mismatches == 0; }
  std::string describe() const;  // "12 of 4194304 outputs wrong, relative error 3.1e-01"
};

// Compares d [rows, n] (the shape's output type) with what the shape's epilogue makes of acc:
// Int32 output exact; otherwise, per element, |d - want| <= rel * |want| + abs * rms(want), with
// (rel, abs) = (2^-7, 0) for INT8 (exact accumulation, one bf16 rounding) and (2e-2, 2e-2) for FP8
// (accumulation order, fast accumulation). scale_w [n], scale_x [rows] as the shape's mode uses
// them. Synchronizes the stream.
GemmCheck check_gemm_output_gpu(const GemmShape& shape, const void* d, const void* acc, int64_t rows,
                                const float* scale_w, const float* scale_x, cudaStream_t stream);

}  // namespace slidesparse
