#include "text/normalizer.h"

#include <cstdlib>
#include <memory>

#include <utf8proc.h>

#include "core/error.h"

namespace slidesparse {

namespace {

void parse_into(const nlohmann::json& json, const std::string& source, bool& nfc) {
  const std::string type = json.is_object() && json.contains("type") && json["type"].is_string()
                               ? json["type"].get<std::string>()
                               : "";
  if (type == "Sequence" && json.contains("normalizers") && json["normalizers"].is_array()) {
    for (const auto& n : json["normalizers"]) parse_into(n, source, nfc);
    return;
  }
  require(type == "NFC", source + ": normalizer '" + (type.empty() ? json.dump() : type) +
                             "' is not supported (supported: NFC, Sequence, none)");
  nfc = true;
}

}  // namespace

std::string to_nfc(std::string_view text) {
  if (text.empty()) return "";
  utf8proc_uint8_t* composed = nullptr;
  // An explicit length (no UTF8PROC_NULLTERM), so NUL characters in the text are kept.
  const utf8proc_ssize_t length =
      utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()), static_cast<utf8proc_ssize_t>(text.size()),
                   &composed, static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  const std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> owner(composed, &std::free);
  require(length >= 0, std::string("NFC normalization failed: ") + utf8proc_errmsg(length));
  return std::string(reinterpret_cast<const char*>(composed), static_cast<size_t>(length));
}

Normalizer Normalizer::from_json(const nlohmann::json& json, const std::string& source) {
  Normalizer n;
  if (!json.is_null()) parse_into(json, source, n.nfc_);
  return n;
}

std::string Normalizer::normalize(std::string_view text) const { return nfc_ ? to_nfc(text) : std::string(text); }

}  // namespace slidesparse
