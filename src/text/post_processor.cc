#include "text/post_processor.h"

#include "core/error.h"

namespace slidesparse {

namespace {

// The ids a template's SpecialToken piece stands for, from the processor's "special_tokens" table.
std::vector<int32_t> special_token_ids(const nlohmann::json& processor, const std::string& name,
                                       const std::string& source) {
  const auto table = processor.find("special_tokens");
  require(table != processor.end() && table->is_object() && table->contains(name),
          source + ": TemplateProcessing uses special token '" + name + "' missing from its 'special_tokens'");
  const auto& ids = (*table)[name]["ids"];
  require(ids.is_array(), source + ": TemplateProcessing special token '" + name + "' has no 'ids' list");
  std::vector<int32_t> out;
  for (const auto& id : ids) {
    require(id.is_number_integer(), source + ": TemplateProcessing special token '" + name + "' has a non-integer id");
    out.push_back(id.get<int32_t>());
  }
  return out;
}

// Appends the single-sequence template's special tokens to `before` / `after` of $A.
void parse_template(const nlohmann::json& processor, const std::string& source, std::vector<int32_t>& before,
                    std::vector<int32_t>& after) {
  const auto single = processor.find("single");
  require(single != processor.end() && single->is_array(), source + ": TemplateProcessing without a 'single' template");
  std::vector<int32_t> template_before, template_after;
  bool seen_sequence = false;
  for (const auto& piece : *single) {
    if (piece.contains("Sequence")) {
      const std::string id = piece["Sequence"].value("id", "");
      require(id == "A" && !seen_sequence,
              source + ": TemplateProcessing 'single' template must hold $A exactly once, found " + piece.dump());
      seen_sequence = true;
    } else if (piece.contains("SpecialToken") && piece["SpecialToken"].contains("id") &&
               piece["SpecialToken"]["id"].is_string()) {
      const auto ids = special_token_ids(processor, piece["SpecialToken"]["id"].get<std::string>(), source);
      auto& side = seen_sequence ? template_after : template_before;
      side.insert(side.end(), ids.begin(), ids.end());
    } else {
      fail(source + ": unknown TemplateProcessing piece " + piece.dump());
    }
  }
  require(seen_sequence, source + ": TemplateProcessing 'single' template has no $A");
  // A later processor in a Sequence wraps the result of the earlier ones.
  before.insert(before.begin(), template_before.begin(), template_before.end());
  after.insert(after.end(), template_after.begin(), template_after.end());
}

void parse_into(const nlohmann::json& json, const std::string& source, std::vector<int32_t>& before,
                std::vector<int32_t>& after) {
  require(json.is_object() && json.contains("type") && json["type"].is_string(),
          source + ": post_processor must be an object with a 'type'");
  const std::string type = json["type"].get<std::string>();
  if (type == "Sequence") {
    require(json.contains("processors") && json["processors"].is_array(),
            source + ": Sequence post-processor without 'processors'");
    for (const auto& p : json["processors"]) parse_into(p, source, before, after);
  } else if (type == "TemplateProcessing") {
    parse_template(json, source, before, after);
  } else if (type != "ByteLevel") {
    fail(source + ": post-processor type '" + type +
         "' is not supported (supported: TemplateProcessing, ByteLevel, Sequence)");
  }
}

}  // namespace

PostProcessor PostProcessor::from_json(const nlohmann::json& json, const std::string& source) {
  PostProcessor p;
  if (!json.is_null()) parse_into(json, source, p.before_, p.after_);
  return p;
}

std::vector<int32_t> PostProcessor::add_special_tokens(const std::vector<int32_t>& ids) const {
  std::vector<int32_t> out(before_);
  out.insert(out.end(), ids.begin(), ids.end());
  out.insert(out.end(), after_.begin(), after_.end());
  return out;
}

}  // namespace slidesparse
