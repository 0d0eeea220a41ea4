#include "text/normalizer.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace slidesparse {
namespace {

// Expected strings are Python's unicodedata.normalize("NFC", ...).
TEST(Normalizer, NfcComposesCanonicalSequences) {
  EXPECT_EQ(to_nfc("cafe\xCC\x81"), "caf\xC3\xA9");                              // e + combining acute
  EXPECT_EQ(to_nfc("A\xCC\x8A"), "\xC3\x85");                                    // A + ring above
  EXPECT_EQ(to_nfc("\xE1\x84\x80\xE1\x85\xA1\xE1\x86\xA8"), "\xEA\xB0\x81");     // Hangul jamo -> 각
  EXPECT_EQ(to_nfc("\xE2\x84\xAB"), "\xC3\x85");                                 // Angstrom sign (a singleton)
  EXPECT_EQ(to_nfc("\xEF\xAC\x81"), "\xEF\xAC\x81");                             // the fi ligature stays (NFKC only)
  EXPECT_EQ(to_nfc(std::string("a\0b", 3)), std::string("a\0b", 3));
  EXPECT_EQ(to_nfc(""), "");
}

TEST(Normalizer, FromJson) {
  EXPECT_EQ(Normalizer::from_json(nullptr, "t").normalize("e\xCC\x81"), "e\xCC\x81");
  EXPECT_EQ(Normalizer::from_json({{"type", "NFC"}}, "t").normalize("e\xCC\x81"), "\xC3\xA9");
  const nlohmann::json sequence = {{"type", "Sequence"}, {"normalizers", {{{"type", "NFC"}}}}};
  EXPECT_EQ(Normalizer::from_json(sequence, "t").normalize("e\xCC\x81"), "\xC3\xA9");
  EXPECT_THROW(Normalizer::from_json({{"type", "NFKC"}}, "t"), Error);
}

}  // namespace
}  // namespace slidesparse
