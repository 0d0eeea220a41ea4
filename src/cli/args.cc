#include "cli/args.h"

#include <charconv>
#include <cstdio>
#include <sstream>

#include "core/error.h"

namespace slidesparse {

ArgParser::ArgParser(std::string command, std::string summary)
    : command_(std::move(command)), summary_(std::move(summary)) {}

void ArgParser::option(const std::string& name, const std::string& value_name, const std::string& help,
                       std::optional<std::string> fallback) {
  specs_[name] = {value_name, help, std::move(fallback), false};
  order_.push_back(name);
}

void ArgParser::flag(const std::string& name, const std::string& help) {
  specs_[name] = {"", help, std::nullopt, true};
  order_.push_back(name);
}

void ArgParser::positional(const std::string& name, const std::string& help) { positionals_.push_back({name, help}); }

bool ArgParser::parse(const std::vector<std::string>& args) {
  size_t next_positional = 0;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(help().c_str(), stdout);
      return false;
    }
    if (arg.starts_with("--")) {
      std::string name = arg.substr(2), value;
      const size_t eq = name.find('=');
      const bool inline_value = eq != std::string::npos;
      if (inline_value) value = name.substr(eq + 1), name = name.substr(0, eq);
      const auto spec = specs_.find(name);
      require(spec != specs_.end(), command_ + ": unknown option '--" + name + "' (see --help)");
      if (spec->second.is_flag) {
        require(!inline_value, command_ + ": option '--" + name + "' takes no value");
        values_[name] = "1";
        continue;
      }
      if (!inline_value) {
        require(i + 1 < args.size(), command_ + ": option '--" + name + "' needs a value (" +
                                         spec->second.value_name + ")");
        value = args[++i];
      }
      values_[name] = value;
      continue;
    }
    require(next_positional < positionals_.size(), command_ + ": unexpected argument '" + arg + "'");
    values_[positionals_[next_positional++].first] = arg;
  }
  require(next_positional == positionals_.size(),
          command_ + ": missing argument " + (next_positional < positionals_.size()
                                                  ? positionals_[next_positional].first : std::string()));
  return true;
}

bool ArgParser::declares(const std::string& name) const { return specs_.count(name) > 0; }

bool ArgParser::has(const std::string& name) const {
  if (values_.count(name)) return true;
  const auto spec = specs_.find(name);
  return spec != specs_.end() && spec->second.fallback.has_value();
}

std::string ArgParser::get(const std::string& name) const {
  if (const auto v = values_.find(name); v != values_.end()) return v->second;
  const auto spec = specs_.find(name);
  require(spec != specs_.end() && spec->second.fallback.has_value(), command_ + ": option '--" + name + "' is required");
  return *spec->second.fallback;
}

int64_t ArgParser::get_int(const std::string& name) const {
  const std::string text = get(name);
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  require(ec == std::errc() && end == text.data() + text.size(),
          command_ + ": option '--" + name + "' expects an integer, got '" + text + "'");
  return value;
}

uint64_t ArgParser::get_uint(const std::string& name) const {
  const std::string text = get(name);
  uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  require(ec == std::errc() && end == text.data() + text.size(),
          command_ + ": option '--" + name + "' expects a non-negative integer, got '" + text + "'");
  return value;
}

std::string ArgParser::help() const {
  std::ostringstream out;
  out << "usage: " << command_ << " [options]";
  for (const auto& [name, _] : positionals_) out << " " << name;
  out << "\n\n" << summary_ << "\n";
  if (!positionals_.empty()) out << "\narguments:\n";
  for (const auto& [name, text] : positionals_) out << "  " << name << "\n      " << text << "\n";
  out << "\noptions:\n";
  for (const auto& name : order_) {
    const Spec& s = specs_.at(name);
    out << "  --" << name << (s.is_flag ? "" : " " + s.value_name) << "\n      " << s.help;
    if (s.fallback) out << " (default: " << *s.fallback << ")";
    out << "\n";
  }
  out << "  --help\n      show this help\n";
  return out.str();
}

}  // namespace slidesparse

namespace slidesparse {

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = text.find(',', start);
    parts.push_back(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return parts;
}

std::vector<int64_t> parse_int_list(const std::string& option, const std::string& text) {
  std::vector<int64_t> values;
  for (const auto& part : split_commas(text)) {
    int64_t v = 0;
    const auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
    require(ec == std::errc() && end == part.data() + part.size() && v > 0,
            "option '--" + option + "' expects positive integers separated by commas, got '" + text + "'");
    values.push_back(v);
  }
  return values;
}

std::vector<QuantKind> parse_dtype_list(const std::string& option, const std::string& text) {
  if (text == "all") return {QuantKind::Int8, QuantKind::Fp8E4M3};
  std::vector<QuantKind> kinds;
  for (const auto& part : split_commas(text)) {
    const std::optional<QuantKind> kind = parse_quant_kind(part);
    require(kind.has_value(), "option '--" + option + "': unknown dtype '" + part + "' (expected int8, fp8 or all)");
    kinds.push_back(*kind);
  }
  return kinds;
}

std::vector<Sparsity> parse_sparsity_list(const std::string& text, bool allow_inf) {
  std::vector<Sparsity> patterns;
  for (const auto& part : split_commas(text)) patterns.push_back(parse_sparsity(part, allow_inf));
  return patterns;
}

}  // namespace slidesparse
