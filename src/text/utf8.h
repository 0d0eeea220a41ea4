// UTF-8 code points for the tokenizer: decoding valid text, encoding code points, and making any
// byte string valid the way Python's bytes.decode("utf-8", errors="replace") and Rust's
// String::from_utf8_lossy do (each maximal ill-formed subsequence becomes one U+FFFD).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace slidesparse {

inline constexpr char32_t kReplacementCharacter = 0xFFFD;

// Length in bytes of the well-formed UTF-8 sequence starting at text[pos], or 0 when the bytes
// there are not one.
size_t utf8_sequence_length(std::string_view text, size_t pos);

// The code point starting at text[pos] (which must be well formed); pos moves past it.
char32_t next_code_point(std::string_view text, size_t& pos);

void append_utf8(std::string& out, char32_t code_point);

bool is_valid_utf8(std::string_view text);

// `bytes` with every maximal ill-formed subsequence replaced by U+FFFD ("\xE4\xB8" is one
// replacement, "\xFF\xFF" two): the Unicode-recommended practice that Python and Rust follow.
std::string to_valid_utf8(std::string_view bytes);

}  // namespace slidesparse
