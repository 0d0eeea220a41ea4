#include "text/byte_level.h"

#include <array>

#include "text/utf8.h"

namespace slidesparse {

namespace {

struct ByteLevelAlphabet {
  std::array<char32_t, 256> char_of_byte{};
  std::array<int, 0x144> byte_of_char{};  // -1 where the code point is not in the alphabet

  ByteLevelAlphabet() {
    byte_of_char.fill(-1);
    char32_t next_unprintable = 0x100;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      char_of_byte[b] = printable ? static_cast<char32_t>(b) : next_unprintable++;
      byte_of_char[char_of_byte[b]] = b;
    }
  }
};

const ByteLevelAlphabet& alphabet() {
  static const ByteLevelAlphabet table;
  return table;
}

}  // namespace

std::string to_byte_level(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const char c : bytes) append_utf8(out, alphabet().char_of_byte[static_cast<uint8_t>(c)]);
  return out;
}

std::optional<std::string> from_byte_level(std::string_view token) {
  std::string bytes;
  for (size_t pos = 0; pos < token.size();) {
    if (utf8_sequence_length(token, pos) == 0) return std::nullopt;
    const char32_t cp = next_code_point(token, pos);
    if (cp >= alphabet().byte_of_char.size() || alphabet().byte_of_char[cp] < 0) return std::nullopt;
    bytes += static_cast<char>(alphabet().byte_of_char[cp]);
  }
  return bytes;
}

}  // namespace slidesparse
