// "Z:L" patterns: at least Z zeros in every L consecutive weights of a row. Only Z = 2 maps onto the
// 2:4 sparse tensor cores by sliding windows; L = 4 is the hardware pattern itself.
#pragma once

#include <string>
#include <string_view>

namespace slidesparse {

struct SparsityPattern {
  int zeros = 2;
  int group = 4;  // L; 0 encodes "2:inf", the dense-limit shape used only by kernel benchmarks

  bool is_inf() const { return group == 0; }
  std::string str() const;  // "2:8", "2:inf"
};

inline constexpr int kMinGroup = 4;
inline constexpr int kMaxGroup = 16;

// Parses "2:L" with L even in [4, 16]; "2:inf" only when allow_inf. Throws Error with a one-line
// reason naming the string, e.g. "invalid sparsity '2:5': L must be even".
SparsityPattern parse_sparsity(std::string_view text, bool allow_inf = false);

}  // namespace slidesparse
