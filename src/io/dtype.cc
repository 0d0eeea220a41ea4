#include "io/dtype.h"

#include <array>
#include <utility>

namespace slidesparse {

namespace {
struct DTypeEntry {
  DType dtype;
  std::string_view name;
  size_t size;
};
constexpr std::array<DTypeEntry, 7> kDTypes{{
    {DType::BF16, "BF16", 2},
    {DType::F16, "F16", 2},
    {DType::F32, "F32", 4},
    {DType::I8, "I8", 1},
    {DType::U8, "U8", 1},
    {DType::I32, "I32", 4},
    {DType::F8_E4M3, "F8_E4M3", 1},
}};
}  // namespace

std::optional<DType> dtype_from_name(std::string_view name) {
  for (const auto& e : kDTypes)
    if (e.name == name) return e.dtype;
  return std::nullopt;
}

std::string_view dtype_name(DType dtype) { return kDTypes[static_cast<size_t>(dtype)].name; }

size_t dtype_size(DType dtype) { return kDTypes[static_cast<size_t>(dtype)].size; }

std::optional<uint64_t> tensor_nbytes(DType dtype, std::span<const int64_t> shape) {
  // Checked in order, like the official library: every prefix product stays representable, so
  // TensorInfo::numel() cannot overflow on an accepted shape.
  uint64_t bytes = dtype_size(dtype);
  for (int64_t d : shape)
    if (d < 0 || __builtin_mul_overflow(bytes, static_cast<uint64_t>(d), &bytes) || bytes > uint64_t{INT64_MAX})
      return std::nullopt;
  return bytes;
}

}  // namespace slidesparse
