#include "text/pre_tokenizer.h"

#include <algorithm>
#include <utility>

#include "core/error.h"
#include "text/byte_level.h"

namespace slidesparse {

namespace {

// GPT-2's pre-tokenizer pattern, which ByteLevel(use_regex=true) applies.
constexpr const char* kGpt2Pattern = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

const UnicodeRegex& gpt2_regex() {
  static const UnicodeRegex regex(kGpt2Pattern);
  return regex;
}

struct Segment {
  size_t begin, end;
  bool is_match;
};

// `text` as alternating runs of matched and unmatched text, covering all of it.
std::vector<Segment> segments(std::string_view text, const UnicodeRegex& pattern, bool invert) {
  std::vector<Segment> out;
  size_t previous = 0;
  for (const auto& [begin, end] : pattern.find_all(text)) {
    if (begin > previous) out.push_back({previous, begin, invert});
    out.push_back({begin, end, !invert});
    previous = end;
  }
  if (previous < text.size()) out.push_back({previous, text.size(), invert});
  return out;
}

SplitBehavior parse_behavior(const nlohmann::json& json, const std::string& source) {
  require(json.is_string(), source + ": Split pre-tokenizer without a 'behavior'");
  const std::string name = json.get<std::string>();
  if (name == "Removed") return SplitBehavior::kRemoved;
  if (name == "Isolated") return SplitBehavior::kIsolated;
  if (name == "MergedWithPrevious") return SplitBehavior::kMergedWithPrevious;
  if (name == "MergedWithNext") return SplitBehavior::kMergedWithNext;
  if (name == "Contiguous") return SplitBehavior::kContiguous;
  fail(source + ": unknown Split behavior '" + name + "'");
}

SplitStep parse_split(const nlohmann::json& json, const std::string& source) {
  const auto pattern = json.find("pattern");
  require(pattern != json.end() && pattern->is_object(), source + ": Split pre-tokenizer without a 'pattern'");
  std::string regex;
  if (pattern->contains("Regex") && (*pattern)["Regex"].is_string()) regex = (*pattern)["Regex"].get<std::string>();
  else if (pattern->contains("String") && (*pattern)["String"].is_string())
    regex = escape_regex((*pattern)["String"].get<std::string>());
  else fail(source + ": Split pattern must be {\"Regex\": ...} or {\"String\": ...}");
  return {UnicodeRegex(regex), parse_behavior(json.value("behavior", nlohmann::json()), source),
          json.value("invert", false)};
}

void parse_into(const nlohmann::json& json, const std::string& source,
                std::vector<std::variant<SplitStep, ByteLevelStep>>& steps) {
  require(json.is_object() && json.contains("type") && json["type"].is_string(),
          source + ": pre_tokenizer must be an object with a 'type'");
  const std::string type = json["type"].get<std::string>();
  if (type == "Sequence") {
    require(json.contains("pretokenizers") && json["pretokenizers"].is_array(),
            source + ": Sequence pre-tokenizer without 'pretokenizers'");
    for (const auto& step : json["pretokenizers"]) parse_into(step, source, steps);
  } else if (type == "Split") {
    steps.emplace_back(parse_split(json, source));
  } else if (type == "ByteLevel") {
    steps.emplace_back(ByteLevelStep{json.value("add_prefix_space", true), json.value("use_regex", true)});
  } else {
    fail(source + ": pre-tokenizer type '" + type + "' is not supported (supported: Split, ByteLevel, Sequence)");
  }
}

}  // namespace

std::vector<std::string> split_by_pattern(std::string_view text, const UnicodeRegex& pattern, SplitBehavior behavior,
                                          bool invert) {
  // Each entry: a piece's [begin, end) and whether it is dropped; merging follows Hugging Face's
  // NormalizedString::split.
  std::vector<Segment> pieces;
  bool previous_match = false;
  const std::vector<Segment> parts = segments(text, pattern, invert);
  switch (behavior) {
    case SplitBehavior::kRemoved:
    case SplitBehavior::kIsolated:
      pieces = parts;
      break;
    case SplitBehavior::kContiguous:
      for (const Segment& s : parts) {
        if (s.is_match == previous_match && !pieces.empty()) pieces.back().end = s.end;
        else pieces.push_back(s);
        previous_match = s.is_match;
      }
      break;
    case SplitBehavior::kMergedWithPrevious:
      for (const Segment& s : parts) {
        if (s.is_match && !previous_match && !pieces.empty()) pieces.back().end = s.end;
        else pieces.push_back(s);
        previous_match = s.is_match;
      }
      break;
    case SplitBehavior::kMergedWithNext:
      for (auto s = parts.rbegin(); s != parts.rend(); ++s) {
        if (s->is_match && !previous_match && !pieces.empty()) pieces.back().begin = s->begin;
        else pieces.push_back(*s);
        previous_match = s->is_match;
      }
      std::reverse(pieces.begin(), pieces.end());
      break;
  }
  std::vector<std::string> out;
  for (const Segment& s : pieces) {
    const bool removed = behavior == SplitBehavior::kRemoved && s.is_match;
    if (!removed && s.end > s.begin) out.emplace_back(text.substr(s.begin, s.end - s.begin));
  }
  return out;
}

PreTokenizer PreTokenizer::from_json(const nlohmann::json& json, const std::string& source) {
  PreTokenizer p;
  if (!json.is_null()) parse_into(json, source, p.steps_);
  return p;
}

std::vector<std::string> PreTokenizer::pre_tokenize(std::string_view text) const {
  std::vector<std::string> pieces;
  if (!text.empty()) pieces.emplace_back(text);
  for (const auto& step : steps_) {
    std::vector<std::string> next;
    for (const std::string& piece : pieces) {
      if (const auto* split = std::get_if<SplitStep>(&step)) {
        for (std::string& p : split_by_pattern(piece, split->pattern, split->behavior, split->invert))
          next.push_back(std::move(p));
        continue;
      }
      const auto& byte_level = std::get<ByteLevelStep>(step);
      const std::string spaced = byte_level.add_prefix_space && piece[0] != ' ' ? " " + piece : piece;
      if (!byte_level.use_regex) {
        next.push_back(to_byte_level(spaced));
        continue;
      }
      for (const std::string& p : split_by_pattern(spaced, gpt2_regex(), SplitBehavior::kIsolated, false))
        next.push_back(to_byte_level(p));
    }
    pieces = std::move(next);
  }
  return pieces;
}

}  // namespace slidesparse
