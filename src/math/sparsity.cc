#include "math/sparsity.h"

#include <charconv>
#include <cstdint>

#include "core/error.h"

namespace slidesparse {

namespace {

// The whole of `text` as a (possibly negative) decimal integer; false on anything else.
bool parse_whole_integer(std::string_view text, int64_t& value) {
  if (text.empty()) return false;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  return ec == std::errc() && ptr == end;
}

}  // namespace

Sparsity Sparsity::two_of(int group) {
  if (group < kMinGroup || group > kMaxGroup || group % 2 != 0)
    fail("sparsity 2:" + std::to_string(group) + ": L must be even in [" + std::to_string(kMinGroup) + ", " +
         std::to_string(kMaxGroup) + "]");
  return Sparsity(group);
}

int Sparsity::group() const {
  if (!is_finite_sparse()) fail("sparsity " + str() + " has no group size L");
  return group_;
}

std::string Sparsity::str() const {
  if (is_dense()) return "dense";
  return is_inf() ? "2:inf" : "2:" + std::to_string(group_);
}

Sparsity parse_sparsity(std::string_view text, bool allow_inf) {
  const std::string prefix = "invalid sparsity '" + std::string(text) + "': ";
  const size_t colon = text.find(':');
  const std::string_view z_text = text.substr(0, colon);
  const std::string_view l_text = colon == std::string_view::npos ? std::string_view() : text.substr(colon + 1);
  int64_t zeros = 0;
  int64_t group = 0;
  const bool l_is_inf = l_text == "inf";
  if (colon == std::string_view::npos || !parse_whole_integer(z_text, zeros) ||
      (!l_is_inf && !parse_whole_integer(l_text, group)))
    fail(prefix + "expected the form Z:L, e.g. 2:8");
  if (zeros != 2) fail(prefix + "only Z = 2 is supported (2:L)");
  if (l_is_inf) {
    if (!allow_inf) fail(prefix + "2:inf is a kernel-benchmark shape only, not a weight pattern");
    return Sparsity::two_of_inf();
  }
  if (group < kMinGroup) fail(prefix + "L must be at least " + std::to_string(kMinGroup));
  if (group > kMaxGroup) fail(prefix + "L must be at most " + std::to_string(kMaxGroup));
  if (group % 2 != 0) fail(prefix + "L must be even");
  return Sparsity::two_of(static_cast<int>(group));
}

}  // namespace slidesparse
