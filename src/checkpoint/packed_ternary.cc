#include "checkpoint/packed_ternary.h"

#include <array>
#include <string>

#include "core/error.h"
#include "core/parallel.h"
#include "math/numeric_formats.h"

namespace slidesparse {

void unpack_ternary(QuantKind kind, const uint8_t* packed, int64_t n, int64_t k, uint8_t* out) {
  const int64_t packed_rows = packed_ternary_rows(n);
  // Field value 0, 1, 2 -> ternary -1, 0, +1 in the requested code; 3 is invalid (marked 0xFF).
  const std::array<uint8_t, 4> codes =
      kind == QuantKind::Int8 ? std::array<uint8_t, 4>{0xFF, 0x00, 0x01, 0x00}
                              : std::array<uint8_t, 4>{float_to_e4m3(-1.0f), 0x00, float_to_e4m3(1.0f), 0x00};
  parallel_for(n, 16, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const int shift = static_cast<int>(2 * (row / packed_rows));
      const uint8_t* src = packed + (row % packed_rows) * k;
      uint8_t* dst = out + row * k;
      for (int64_t col = 0; col < k; ++col) {
        const unsigned field = (src[col] >> shift) & 3u;
        if (field == 3)
          fail("packed ternary weight holds the invalid 2-bit value 3 at row " + std::to_string(row) +
               ", column " + std::to_string(col));
        dst[col] = codes[field];
      }
    }
  });
}

}  // namespace slidesparse
