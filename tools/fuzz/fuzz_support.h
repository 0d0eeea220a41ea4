// What the fuzz targets here (scripts/fuzz.sh) check besides memory safety (AddressSanitizer,
// UndefinedBehaviorSanitizer, LeakSanitizer): a reader of untrusted input reports bad input as one
// slidesparse::Error, never as another exception (a library's, whose message names no file or
// position), or, where it answers with an error value, throws nothing. Anything else stops the run
// with its message.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <exception>

#include "core/error.h"

namespace slidesparse::fuzz {

template <class F>
void expect_no_exception(const char* what, F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s threw: %s\n", what, e.what());
    std::abort();
  }
}

template <class F>
void expect_only_errors(const char* what, F&& f) {
  try {
    f();
  } catch (const Error&) {
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: an exception other than slidesparse::Error: %s\n", what, e.what());
    std::abort();
  }
}

}  // namespace slidesparse::fuzz
