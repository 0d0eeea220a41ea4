#include "text/utf8.h"

#include <cstdint>

namespace slidesparse {

namespace {

struct LeadByte {
  size_t length;             // 0: never starts a sequence
  uint8_t second_min, second_max;  // the allowed range of the second byte (excludes overlongs, surrogates)
};

LeadByte lead_byte(uint8_t b) {
  if (b < 0x80) return {1, 0, 0};
  if (b >= 0xC2 && b <= 0xDF) return {2, 0x80, 0xBF};
  if (b == 0xE0) return {3, 0xA0, 0xBF};
  if (b == 0xED) return {3, 0x80, 0x9F};
  if (b >= 0xE1 && b <= 0xEF) return {3, 0x80, 0xBF};
  if (b == 0xF0) return {4, 0x90, 0xBF};
  if (b >= 0xF1 && b <= 0xF3) return {4, 0x80, 0xBF};
  if (b == 0xF4) return {4, 0x80, 0x8F};
  return {0, 0, 0};
}

// Number of leading bytes at text[pos] that form a well-formed sequence or a prefix of one.
size_t well_formed_prefix(std::string_view text, size_t pos, size_t& expected) {
  const LeadByte lead = lead_byte(static_cast<uint8_t>(text[pos]));
  expected = lead.length;
  if (lead.length <= 1) return lead.length;
  size_t n = 1;
  for (; n < lead.length && pos + n < text.size(); ++n) {
    const auto b = static_cast<uint8_t>(text[pos + n]);
    const bool ok = n == 1 ? (b >= lead.second_min && b <= lead.second_max) : (b >= 0x80 && b <= 0xBF);
    if (!ok) break;
  }
  return n;
}

}  // namespace

size_t utf8_sequence_length(std::string_view text, size_t pos) {
  size_t expected = 0;
  const size_t n = well_formed_prefix(text, pos, expected);
  return expected > 0 && n == expected ? n : 0;
}

char32_t next_code_point(std::string_view text, size_t& pos) {
  const auto b0 = static_cast<uint8_t>(text[pos]);
  const size_t length = lead_byte(b0).length;
  char32_t cp = length == 1 ? b0 : length == 2 ? (b0 & 0x1F) : length == 3 ? (b0 & 0x0F) : (b0 & 0x07);
  for (size_t i = 1; i < length; ++i) cp = (cp << 6) | (static_cast<uint8_t>(text[pos + i]) & 0x3F);
  pos += length;
  return cp;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

bool is_valid_utf8(std::string_view text) {
  for (size_t pos = 0; pos < text.size();) {
    const size_t n = utf8_sequence_length(text, pos);
    if (n == 0) return false;
    pos += n;
  }
  return true;
}

std::string to_valid_utf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (size_t pos = 0; pos < bytes.size();) {
    size_t expected = 0;
    const size_t n = well_formed_prefix(bytes, pos, expected);
    if (expected > 0 && n == expected) {
      out.append(bytes.substr(pos, n));
      pos += n;
    } else {
      append_utf8(out, kReplacementCharacter);
      pos += n == 0 ? 1 : n;  // a stray byte, or a truncated sequence replaced as a whole
    }
  }
  return out;
}

}  // namespace slidesparse
