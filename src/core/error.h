// One error path for the whole project: library code throws slidesparse::Error with a one-line,
// user-readable message; only the CLI's main() turns it into "slidesparse: error: ..." and an exit code.
#pragma once

#include <concepts>
#include <stdexcept>
#include <string>

namespace slidesparse {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

[[noreturn]] inline void fail(const std::string& message) { throw Error(message); }

inline void require(bool condition, const std::string& message) {
  if (!condition) fail(message);
}

// For checks on hot paths (per request, per step): the message is built only on failure. The form
// above builds it before the call, which costs more than the check when it runs millions of times.
template <std::invocable MakeMessage>
inline void require(bool condition, MakeMessage&& make_message) {
  if (!condition) fail(make_message());
}

}  // namespace slidesparse
