// What a linear weight is, in one type for every layer that has to say it (checkpoints, the engine's
// linears, tuning names, benchmarks, result folders): dense, or pruned to 2:L — at least 2 zeros in
// every L consecutive weights of a row, L even in [4, 16] — and run on the 2:4 sparse tensor cores by
// sliding windows (L = 4 is the hardware pattern itself). Kernel benchmarks add 2:inf, the slide's
// limit shape (K' = 2K), which is no weight pattern.
#pragma once

#include <climits>
#include <compare>
#include <string>
#include <string_view>

namespace slidesparse {

inline constexpr int kMinGroup = 4;
inline constexpr int kMaxGroup = 16;

class Sparsity {
 public:
  constexpr Sparsity() = default;  // dense
  static constexpr Sparsity dense() { return Sparsity(); }
  // 2:L; throws Error "sparsity 2:<L>: L must be even in [4, 16]" otherwise.
  static Sparsity two_of(int group);
  static constexpr Sparsity two_of_inf() { return Sparsity(kInf); }

  constexpr bool is_dense() const { return group_ == kDense; }
  constexpr bool is_inf() const { return group_ == kInf; }
  constexpr bool is_finite_sparse() const { return !is_dense() && !is_inf(); }
  // L of a finite 2:L; throws Error for dense and 2:inf (neither has an L).
  int group() const;
  // The L of the activation slide a quantizer applies for this weight: L, or 4 (the identity map)
  // for dense. Throws Error for 2:inf.
  int slide_group() const { return is_dense() ? kMinGroup : group(); }
  std::string str() const;  // "dense", "2:8", "2:inf"

  // dense < 2:4 < 2:6 < ... < 2:16 < 2:inf
  constexpr auto operator<=>(const Sparsity&) const = default;

 private:
  static constexpr int kDense = 0;
  static constexpr int kInf = INT_MAX;
  constexpr explicit Sparsity(int group) : group_(group) {}
  int group_ = kDense;
};

// Parses "2:L" with L even in [4, 16]; "2:inf" only when allow_inf ("dense" is not a pattern: callers
// that take it say so). Throws Error with a one-line reason naming the string, e.g.
// "invalid sparsity '2:5': L must be even".
Sparsity parse_sparsity(std::string_view text, bool allow_inf = false);

}  // namespace slidesparse
