#include "text/jinja_builtins.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <set>

#include "core/error.h"
#include "text/utf8.h"

namespace slidesparse::jinja {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::string strip(const std::string& s, bool left, bool right, const std::optional<std::string>& chars) {
  auto strippable = [&](char c) { return chars ? chars->find(c) != std::string::npos : is_space(c); };
  size_t begin = 0, end = s.size();
  while (left && begin < end && strippable(s[begin])) ++begin;
  while (right && end > begin && strippable(s[end - 1])) --end;
  return s.substr(begin, end - begin);
}

// Case mapping is ASCII-only: chat templates apply it to roles and keywords.
std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string capitalize(const std::string& s) {
  std::string out = lower(s);
  if (!out.empty()) out[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));
  return out;
}

// Python's str.title(): a letter after a non-letter starts a word.
std::string python_title(const std::string& s) {
  std::string out = s;
  bool previous_letter = false;
  for (char& c : out) {
    const bool letter = std::isalpha(static_cast<unsigned char>(c));
    c = static_cast<char>(previous_letter ? std::tolower(static_cast<unsigned char>(c))
                                          : std::toupper(static_cast<unsigned char>(c)));
    previous_letter = letter;
  }
  return out;
}

// Jinja's title filter: words start after whitespace or one of - ( { [ <.
std::string jinja_title(const std::string& s) {
  std::string out = s;
  bool word_start = true;
  for (char& c : out) {
    const bool separator = is_space(c) || c == '-' || c == '(' || c == '{' || c == '[' || c == '<';
    c = static_cast<char>(word_start ? std::toupper(static_cast<unsigned char>(c))
                                     : std::tolower(static_cast<unsigned char>(c)));
    word_start = separator;
  }
  return out;
}

std::string replace(const std::string& s, const std::string& from, const std::string& to, int64_t count) {
  std::string out;
  size_t pos = 0;
  for (int64_t done = 0; count < 0 || done < count; ++done) {
    if (from.empty()) {  // Python inserts `to` between every character
      if (pos > s.size()) break;
      out += to;
      if (pos < s.size()) out += s[pos];
      ++pos;
      continue;
    }
    const size_t found = s.find(from, pos);
    if (found == std::string::npos) break;
    out += s.substr(pos, found - pos) + to;
    pos = found + from.size();
  }
  return pos < s.size() ? out + s.substr(pos) : out;
}

ValueList split(const std::string& s, const Value& separator, int64_t max_split) {
  ValueList parts;
  if (separator.kind() == Value::Kind::kString) {
    const std::string& sep = separator.as_string();
    require(!sep.empty(), "split: empty separator");
    size_t pos = 0;
    for (size_t found; (max_split < 0 || static_cast<int64_t>(parts.size()) < max_split) &&
                       (found = s.find(sep, pos)) != std::string::npos;
         pos = found + sep.size())
      parts.push_back(Value::string(s.substr(pos, found - pos)));
    parts.push_back(Value::string(s.substr(pos)));
    return parts;
  }
  size_t pos = 0;
  while (true) {
    while (pos < s.size() && is_space(s[pos])) ++pos;
    if (pos >= s.size()) break;
    if (max_split >= 0 && static_cast<int64_t>(parts.size()) == max_split) {
      parts.push_back(Value::string(s.substr(pos)));  // Python keeps the rest as is
      break;
    }
    size_t end = pos;
    while (end < s.size() && !is_space(s[end])) ++end;
    parts.push_back(Value::string(s.substr(pos, end - pos)));
    pos = end;
  }
  return parts;
}

// Positional or keyword argument `index`/`name`, or `fallback`.
Value argument(const ValueList& args, const Keywords& kwargs, size_t index, const std::string& name,
               Value fallback = Value()) {
  if (index < args.size()) return args[index];
  for (const auto& [key, value] : kwargs)
    if (key == name) return value;
  return fallback;
}

std::string require_string(const Value& v, const std::string& where) {
  if (v.is_undefined()) fail(where + ": '" + v.undefined_name() + "' is undefined");
  require(v.kind() == Value::Kind::kString, where + ": expected a string, got " + v.type_name());
  return v.as_string();
}

Value length(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined: return Value::integer(0);
    case Value::Kind::kString: return Value::integer(static_cast<int64_t>(code_points(v.as_string()).size()));
    case Value::Kind::kList: return Value::integer(static_cast<int64_t>(v.items().size()));
    case Value::Kind::kDict:
    case Value::Kind::kNamespace: return Value::integer(static_cast<int64_t>(v.entries().size()));
    default: fail(std::string("length: a value of type ") + v.type_name() + " has no length");
  }
}

Value items(const Value& v) {
  if (v.is_undefined()) return Value::list({});
  require(v.kind() == Value::Kind::kDict, std::string("items: expected a mapping, got ") + v.type_name());
  ValueList pairs;
  for (const auto& [key, value] : v.entries()) pairs.push_back(Value::list({Value::string(key), value}));
  return Value::list(std::move(pairs));
}

}  // namespace

std::vector<std::string> code_points(const std::string& s) {
  std::vector<std::string> out;
  for (size_t pos = 0; pos < s.size();) {
    const size_t n = std::max<size_t>(1, utf8_sequence_length(s, pos));
    out.push_back(s.substr(pos, n));
    pos += n;
  }
  return out;
}

ValueList iterate(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined: return {};
    case Value::Kind::kList: return v.items();
    case Value::Kind::kDict: {
      ValueList keys;
      for (const auto& entry : v.entries()) keys.push_back(Value::string(entry.first));
      return keys;
    }
    case Value::Kind::kString: {
      ValueList chars;
      for (auto& c : code_points(v.as_string())) chars.push_back(Value::string(std::move(c)));
      return chars;
    }
    default: fail(std::string("a value of type ") + v.type_name() + " is not iterable");
  }
}

bool is_supported_filter(const std::string& name) {
  static const std::set<std::string> kFilters = {"default", "d", "trim", "length", "count", "upper", "lower",
                                                 "capitalize", "title", "string", "safe", "tojson", "join",
                                                 "first", "last", "items", "list", "reverse", "replace", "int",
                                                 "abs"};
  return kFilters.count(name) > 0;
}

bool is_supported_test(const std::string& name) {
  static const std::set<std::string> kTests = {"defined", "undefined", "none", "string", "mapping", "iterable",
                                               "sequence", "number", "integer", "float", "boolean", "true",
                                               "false", "odd", "even", "equalto", "eq"};
  return kTests.count(name) > 0;
}

Value apply_filter(const std::string& name, const Value& input, const ValueList& args, const Keywords& kwargs) {
  if (name == "default" || name == "d") {
    const bool use_default = input.is_undefined() || (argument(args, kwargs, 1, "boolean").truthy() && !input.truthy());
    return use_default ? argument(args, kwargs, 0, "default_value", Value::string("")) : input;
  }
  if (name == "trim") {
    const Value chars = argument(args, kwargs, 0, "chars");
    return Value::string(strip(input.str(), true, true,
                               chars.kind() == Value::Kind::kString ? std::optional(chars.as_string()) : std::nullopt));
  }
  if (name == "length" || name == "count") return length(input);
  if (name == "upper") return Value::string(upper(input.str()));
  if (name == "lower") return Value::string(lower(input.str()));
  if (name == "capitalize") return Value::string(capitalize(input.str()));
  if (name == "title") return Value::string(jinja_title(input.str()));
  if (name == "string") return Value::string(input.str());
  if (name == "safe") return input;
  if (name == "tojson") {
    const Value indent = argument(args, kwargs, 0, "indent");
    return Value::string(input.to_json(indent.is_number() ? static_cast<int>(indent.as_int()) : -1));
  }
  if (name == "join") {
    const std::string separator = argument(args, kwargs, 0, "d", Value::string("")).str();
    const Value attribute = argument(args, kwargs, 1, "attribute");
    std::string out;
    bool first = true;
    for (const Value& item : iterate(input)) {
      out += (first ? "" : separator) + (attribute.is_undefined() ? item : item.get(attribute.str())).str();
      first = false;
    }
    return Value::string(out);
  }
  if (name == "first" || name == "last") {
    const ValueList all = iterate(input);
    if (all.empty()) return Value::undefined("No " + name + " item, sequence was empty.");
    return name == "first" ? all.front() : all.back();
  }
  if (name == "items") return items(input);
  if (name == "list") return Value::list(iterate(input));
  if (name == "reverse") {
    if (input.kind() == Value::Kind::kString) {
      std::string out;
      const auto chars = code_points(input.as_string());
      for (auto it = chars.rbegin(); it != chars.rend(); ++it) out += *it;
      return Value::string(out);
    }
    ValueList all = iterate(input);
    std::reverse(all.begin(), all.end());
    return Value::list(std::move(all));
  }
  if (name == "replace") {
    const Value count = argument(args, kwargs, 2, "count");
    return Value::string(replace(input.str(), require_string(argument(args, kwargs, 0, "old"), "replace"),
                                 require_string(argument(args, kwargs, 1, "new"), "replace"),
                                 count.is_number() ? count.as_int() : -1));
  }
  if (name == "int") {
    if (input.is_number()) return Value::integer(input.as_int());
    char* end = nullptr;
    const std::string s = strip(input.str(), true, true, std::nullopt);
    const long long parsed = std::strtoll(s.c_str(), &end, 10);
    return Value::integer(end && *end == '\0' && !s.empty() ? parsed : 0);
  }
  if (name == "abs") {
    require(input.is_number(), std::string("abs: expected a number, got ") + input.type_name());
    return input.kind() == Value::Kind::kFloat ? Value::number(std::abs(input.as_double()))
                                               : Value::integer(std::llabs(input.as_int()));
  }
  fail("unsupported filter '" + name + "'");
}

bool apply_test(const std::string& name, const Value& v, const ValueList& args) {
  using K = Value::Kind;
  if (name == "defined") return !v.is_undefined();
  if (name == "undefined") return v.is_undefined();
  if (name == "none") return v.kind() == K::kNone;
  if (name == "string") return v.kind() == K::kString;
  if (name == "mapping") return v.kind() == K::kDict;
  if (name == "iterable") return v.kind() == K::kUndefined || v.kind() == K::kList || v.kind() == K::kDict ||
                                 v.kind() == K::kString;
  if (name == "sequence") return v.kind() == K::kList || v.kind() == K::kDict || v.kind() == K::kString;
  if (name == "number") return v.is_number();
  if (name == "integer") return v.kind() == K::kInt;
  if (name == "float") return v.kind() == K::kFloat;
  if (name == "boolean") return v.kind() == K::kBool;
  if (name == "true") return v.kind() == K::kBool && v.as_bool();
  if (name == "false") return v.kind() == K::kBool && !v.as_bool();
  if (name == "odd" || name == "even") {
    require(v.kind() == K::kInt, "test '" + name + "': expected an integer, got " + v.type_name());
    return (v.as_int() % 2 != 0) == (name == "odd");
  }
  if (name == "equalto" || name == "eq") {
    require(args.size() == 1, "test '" + name + "' takes one argument");
    return values_equal(v, args[0]);
  }
  fail("unsupported test '" + name + "'");
}

std::optional<Value> call_method(const Value& object, const std::string& name, const ValueList& args,
                                 const Keywords& kwargs) {
  if (object.kind() == Value::Kind::kString) {
    const std::string& s = object.as_string();
    if (name == "strip" || name == "lstrip" || name == "rstrip") {
      const Value chars = argument(args, kwargs, 0, "chars");
      return Value::string(
          strip(s, name != "rstrip", name != "lstrip",
                chars.kind() == Value::Kind::kString ? std::optional(chars.as_string()) : std::nullopt));
    }
    if (name == "startswith" || name == "endswith") {
      const std::string affix = require_string(argument(args, kwargs, 0, "prefix"), name);
      const bool match = affix.size() <= s.size() &&
                         (name == "startswith" ? s.compare(0, affix.size(), affix) == 0
                                               : s.compare(s.size() - affix.size(), affix.size(), affix) == 0);
      return Value::boolean(match);
    }
    if (name == "split") {
      const Value max_split = argument(args, kwargs, 1, "maxsplit");
      return Value::list(split(s, argument(args, kwargs, 0, "sep"), max_split.is_number() ? max_split.as_int() : -1));
    }
    if (name == "upper") return Value::string(upper(s));
    if (name == "lower") return Value::string(lower(s));
    if (name == "title") return Value::string(python_title(s));
    if (name == "capitalize") return Value::string(capitalize(s));
    if (name == "replace") {
      const Value count = argument(args, kwargs, 2, "count");
      return Value::string(replace(s, require_string(argument(args, kwargs, 0, "old"), name),
                                   require_string(argument(args, kwargs, 1, "new"), name),
                                   count.is_number() ? count.as_int() : -1));
    }
    return std::nullopt;
  }
  if (object.kind() == Value::Kind::kDict) {
    if (name == "items") return items(object);
    if (name == "keys") return Value::list(iterate(object));
    if (name == "values") {
      ValueList values;
      for (const auto& entry : object.entries()) values.push_back(entry.second);
      return Value::list(std::move(values));
    }
    if (name == "get") {
      const Value found = object.get(require_string(argument(args, kwargs, 0, "key"), "get"));
      return found.is_undefined() ? argument(args, kwargs, 1, "default", Value::none()) : found;
    }
  }
  return std::nullopt;
}

}  // namespace slidesparse::jinja
