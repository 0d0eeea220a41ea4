#include "gemm/gemm_types.h"

#include <string>

#include "core/error.h"

namespace slidesparse {

std::string_view gemm_backend_name(GemmBackend backend) {
  return backend == GemmBackend::CublasLt ? "cublaslt" : "cusparselt";
}

std::string_view gemm_output_name(GemmOutput output) {
  switch (output) {
    case GemmOutput::Int32: return "int32";
    case GemmOutput::Float32: return "fp32";
    case GemmOutput::BFloat16: return "bf16";
  }
  return "?";
}

std::string_view scale_mode_name(ScaleMode mode) {
  switch (mode) {
    case ScaleMode::Epilogue: return "epilogue";
    case ScaleMode::WeightInGemm: return "weight-in-gemm";
    case ScaleMode::BothInGemm: return "both-in-gemm";
  }
  return "?";
}

size_t gemm_output_bytes(GemmOutput output) { return output == GemmOutput::BFloat16 ? 2 : 4; }

cudaDataType cuda_input_type(QuantKind kind) { return kind == QuantKind::Int8 ? CUDA_R_8I : CUDA_R_8F_E4M3; }

cudaDataType cuda_output_type(GemmOutput output) {
  switch (output) {
    case GemmOutput::Int32: return CUDA_R_32I;
    case GemmOutput::Float32: return CUDA_R_32F;
    case GemmOutput::BFloat16: return CUDA_R_16BF;
  }
  return CUDA_R_32F;
}

void validate_gemm_shape(GemmBackend backend, const GemmShape& s, int compute_capability) {
  const std::string what = std::string(gemm_backend_name(backend)) + " " + std::string(quant_kind_name(s.kind)) +
                           " GEMM N=" + std::to_string(s.n) + " K=" + std::to_string(s.k);
  require(s.n > 0 && s.k > 0 && s.n % 32 == 0 && s.k % 32 == 0,
          what + ": N and K must be positive multiples of 32");
  require(s.kind == QuantKind::Int8 || compute_capability >= 89,
          what + ": FP8 needs compute capability 8.9 or newer (this GPU is " + std::to_string(compute_capability / 10) +
              "." + std::to_string(compute_capability % 10) + ")");
  const bool int8 = s.kind == QuantKind::Int8;
  if (backend == GemmBackend::CublasLt) {
    // cuBLASLt IMMA: int32 output only (int8 output would re-quantize). FP8: bf16 or fp32 output.
    require(int8 ? s.output == GemmOutput::Int32 : s.output != GemmOutput::Int32,
            what + ": cuBLASLt supports " + (int8 ? "int32" : "bf16 or fp32") + " output, not " +
                std::string(gemm_output_name(s.output)));
    require(int8 ? s.scales == ScaleMode::Epilogue : true,
            what + ": INT8 cuBLASLt has an int32 output, so scales go to the epilogue");
  } else {
    require(int8 ? s.output != GemmOutput::Float32 : s.output != GemmOutput::Int32,
            what + ": cuSPARSELt supports " + (int8 ? "int32 or bf16" : "bf16 or fp32") + " output here, not " +
                std::string(gemm_output_name(s.output)));
    require(s.scales != ScaleMode::BothInGemm, what + ": cuSPARSELt cannot apply a per-token scale");
  }
  require(s.scales == ScaleMode::Epilogue || s.output == GemmOutput::BFloat16,
          what + ": scales inside the GEMM need a bf16 output");
}

}  // namespace slidesparse
