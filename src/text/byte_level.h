// GPT-2's byte-level alphabet: every byte maps to one printable code point (printable Latin-1 bytes
// to themselves, the other 68 to U+0100..U+0143), so BPE vocabularies can hold arbitrary bytes as text.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace slidesparse {

// Each byte of `bytes` replaced by its byte-level character (UTF-8 encoded).
std::string to_byte_level(std::string_view bytes);

// The bytes a byte-level token stands for; nullopt when it holds a character outside the alphabet
// (Hugging Face's ByteLevel decoder then keeps the token's own UTF-8 bytes).
std::optional<std::string> from_byte_level(std::string_view token);

}  // namespace slidesparse
