// Element types of checkpoint tensors, named as safetensors names them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace slidesparse {

enum class DType { BF16, F16, F32, I8, U8, I32, F8_E4M3 };

// "BF16", "F16", "F32", "I8", "U8", "I32", "F8_E4M3"; nullopt for anything else.
std::optional<DType> dtype_from_name(std::string_view name);
std::string_view dtype_name(DType dtype);
size_t dtype_size(DType dtype);

// Bytes of a tensor of `shape` (a scalar for []); nullopt when a dimension is negative or the count
// passes INT64_MAX, which no file can hold and which would overflow element counts downstream.
std::optional<uint64_t> tensor_nbytes(DType dtype, std::span<const int64_t> shape);

}  // namespace slidesparse
