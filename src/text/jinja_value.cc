#include "text/jinja_value.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "core/error.h"

namespace slidesparse::jinja {

Value Value::undefined(std::string name) {
  Value v;
  v.string_ = std::move(name);
  return v;
}

Value Value::none() {
  Value v;
  v.kind_ = Kind::kNone;
  return v;
}

Value Value::boolean(bool b) {
  Value v;
  v.kind_ = Kind::kBool;
  v.bool_ = b;
  v.int_ = b ? 1 : 0;  // Python's bool is an int: True + 1 == 2
  return v;
}

Value Value::integer(int64_t i) {
  Value v;
  v.kind_ = Kind::kInt;
  v.int_ = i;
  return v;
}

Value Value::number(double f) {
  Value v;
  v.kind_ = Kind::kFloat;
  v.float_ = f;
  return v;
}

Value Value::string(std::string s) {
  Value v;
  v.kind_ = Kind::kString;
  v.string_ = std::move(s);
  return v;
}

Value Value::list(ValueList items) {
  Value v;
  v.kind_ = Kind::kList;
  v.list_ = std::make_shared<ValueList>(std::move(items));
  return v;
}

Value Value::dict(ValueDict items) {
  Value v;
  v.kind_ = Kind::kDict;
  v.dict_ = std::make_shared<ValueDict>(std::move(items));
  return v;
}

Value Value::name_space(ValueDict items) {
  Value v = dict(std::move(items));
  v.kind_ = Kind::kNamespace;
  return v;
}

Value Value::function(std::string name) {
  Value v;
  v.kind_ = Kind::kFunction;
  v.string_ = std::move(name);
  return v;
}

Value Value::from_json(const nlohmann::ordered_json& json) {
  switch (json.type()) {
    case nlohmann::ordered_json::value_t::null: return none();
    case nlohmann::ordered_json::value_t::boolean: return boolean(json.get<bool>());
    case nlohmann::ordered_json::value_t::number_integer:
    case nlohmann::ordered_json::value_t::number_unsigned: return integer(json.get<int64_t>());
    case nlohmann::ordered_json::value_t::number_float: return number(json.get<double>());
    case nlohmann::ordered_json::value_t::string: return string(json.get<std::string>());
    case nlohmann::ordered_json::value_t::array: {
      ValueList items;
      for (const auto& item : json) items.push_back(from_json(item));
      return list(std::move(items));
    }
    case nlohmann::ordered_json::value_t::object: {
      ValueDict items;
      for (const auto& [key, item] : json.items()) items.emplace_back(key, from_json(item));
      return dict(std::move(items));
    }
    default: fail("chat template: cannot use JSON value " + json.dump() + " as a template value");
  }
}

Value Value::get(const std::string& key) const {
  if (is_mapping())
    for (const auto& [k, v] : *dict_)
      if (k == key) return v;
  return undefined(key);
}

bool Value::truthy() const {
  switch (kind_) {
    case Kind::kUndefined:
    case Kind::kNone: return false;
    case Kind::kBool: return bool_;
    case Kind::kInt: return int_ != 0;
    case Kind::kFloat: return float_ != 0;
    case Kind::kString: return !string_.empty();
    case Kind::kList: return !list_->empty();
    case Kind::kDict: return !dict_->empty();
    default: return true;
  }
}

std::string python_float_repr(double f) {
  if (std::isnan(f)) return "nan";
  if (std::isinf(f)) return f > 0 ? "inf" : "-inf";
  char buf[64];
  // Python switches to exponent form at 1e16 and below 1e-4; shortest digits otherwise.
  const double magnitude = std::fabs(f);
  std::string digits;
  if (magnitude != 0 && (magnitude >= 1e16 || magnitude < 1e-4)) {
    const auto r = std::to_chars(buf, buf + sizeof(buf), f, std::chars_format::scientific);
    digits.assign(buf, r.ptr);
    const size_t e = digits.find('e');
    std::string mantissa = digits.substr(0, e), exponent = digits.substr(e + 1);
    const char sign = exponent[0] == '-' ? '-' : '+';
    if (exponent[0] == '-' || exponent[0] == '+') exponent.erase(0, 1);
    while (exponent.size() > 1 && exponent[0] == '0') exponent.erase(0, 1);
    if (exponent.size() < 2) exponent = std::string(1, '0').append(exponent);
    return mantissa + "e" + sign + exponent;
  }
  const auto r = std::to_chars(buf, buf + sizeof(buf), f, std::chars_format::fixed);
  digits.assign(buf, r.ptr);
  if (digits.find('.') == std::string::npos) digits += ".0";
  return digits;
}

namespace {

std::string python_string_repr(const std::string& s) {
  const bool has_single = s.find('\'') != std::string::npos, has_double = s.find('"') != std::string::npos;
  const char quote = has_single && !has_double ? '"' : '\'';
  std::string out(1, quote);
  for (const unsigned char c : s) {
    if (c == '\\' || c == static_cast<unsigned char>(quote)) {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + quote;
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (const unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);  // ensure_ascii=False: UTF-8 passes through
        }
    }
  }
  return out + "\"";
}

void append_json(const Value& v, int indent, int depth, std::string& out) {
  std::string newline, closing;
  if (indent >= 0) {
    newline.assign(1, '\n').append(static_cast<size_t>(indent * (depth + 1)), ' ');
    closing.assign(1, '\n').append(static_cast<size_t>(indent * depth), ' ');
  }
  const std::string separator = indent < 0 ? ", " : ",";
  switch (v.kind()) {
    case Value::Kind::kNone: out += "null"; return;
    case Value::Kind::kBool: out += v.as_bool() ? "true" : "false"; return;
    case Value::Kind::kInt: out += std::to_string(v.as_int()); return;
    case Value::Kind::kFloat: {
      const double f = v.as_double();
      out += std::isnan(f) ? "NaN" : std::isinf(f) ? (f > 0 ? "Infinity" : "-Infinity") : python_float_repr(f);
      return;
    }
    case Value::Kind::kString: out += json_string(v.as_string()); return;
    case Value::Kind::kList: {
      if (v.items().empty()) {
        out += "[]";
        return;
      }
      out += "[";
      for (size_t i = 0; i < v.items().size(); ++i) {
        if (i) out += separator;
        out += newline;
        append_json(v.items()[i], indent, depth + 1, out);
      }
      out += closing + "]";
      return;
    }
    case Value::Kind::kDict: {
      if (v.entries().empty()) {
        out += "{}";
        return;
      }
      out += "{";
      for (size_t i = 0; i < v.entries().size(); ++i) {
        if (i) out += separator;
        out += newline;
        out += json_string(v.entries()[i].first);
        out += ": ";
        append_json(v.entries()[i].second, indent, depth + 1, out);
      }
      out += closing + "}";
      return;
    }
    default: fail(std::string("chat template: tojson: a value of type ") + v.type_name() + " is not JSON serializable");
  }
}

}  // namespace

std::string Value::str() const {
  switch (kind_) {
    case Kind::kUndefined: return "";
    case Kind::kString: return string_;
    case Kind::kNamespace: {
      // A namespace may hold itself (`set ns.me = ns`, directly or in a list or dict): as Python's
      // repr does, the inner occurrence prints as {...} instead of recursing without end.
      thread_local std::vector<const ValueDict*> printing;
      if (std::find(printing.begin(), printing.end(), dict_.get()) != printing.end()) return "<Namespace {...}>";
      printing.push_back(dict_.get());
      struct Pop {
        std::vector<const ValueDict*>& stack;
        ~Pop() { stack.pop_back(); }
      } pop{printing};
      return "<Namespace " + Value::dict(*dict_).repr() + ">";
    }
    case Kind::kFunction: return "<function " + string_ + ">";
    default: return repr();
  }
}

std::string Value::repr() const {
  switch (kind_) {
    case Kind::kUndefined: return "Undefined";
    case Kind::kNone: return "None";
    case Kind::kBool: return bool_ ? "True" : "False";
    case Kind::kInt: return std::to_string(int_);
    case Kind::kFloat: return python_float_repr(float_);
    case Kind::kString: return python_string_repr(string_);
    case Kind::kList: {
      std::string out = "[";
      for (size_t i = 0; i < list_->size(); ++i) out += (i ? ", " : "") + (*list_)[i].repr();
      return out + "]";
    }
    case Kind::kDict: {
      std::string out = "{";
      for (size_t i = 0; i < dict_->size(); ++i)
        out += (i ? ", " : "") + python_string_repr((*dict_)[i].first) + ": " + (*dict_)[i].second.repr();
      return out + "}";
    }
    default: return str();
  }
}

std::string Value::to_json(int indent) const {
  std::string out;
  append_json(*this, indent, 0, out);
  return out;
}

const char* Value::type_name() const {
  switch (kind_) {
    case Kind::kUndefined: return "undefined";
    case Kind::kNone: return "none";
    case Kind::kBool: return "bool";
    case Kind::kInt: return "int";
    case Kind::kFloat: return "float";
    case Kind::kString: return "string";
    case Kind::kList: return "list";
    case Kind::kDict: return "dict";
    case Kind::kNamespace: return "namespace";
    default: return "function";
  }
}

bool values_equal(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.kind() == Value::Kind::kFloat || b.kind() == Value::Kind::kFloat) return a.as_double() == b.as_double();
    return a.as_int() == b.as_int();
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Value::Kind::kUndefined:
    case Value::Kind::kNone: return true;
    case Value::Kind::kString:
    case Value::Kind::kFunction: return a.as_string() == b.as_string();
    case Value::Kind::kList: {
      if (a.items().size() != b.items().size()) return false;
      for (size_t i = 0; i < a.items().size(); ++i)
        if (!values_equal(a.items()[i], b.items()[i])) return false;
      return true;
    }
    case Value::Kind::kDict: {
      if (a.entries().size() != b.entries().size()) return false;
      for (const auto& [key, value] : a.entries()) {
        const Value other = b.get(key);
        if (other.is_undefined() || !values_equal(value, other)) return false;
      }
      return true;
    }
    default: return &a.entries() == &b.entries();
  }
}

}  // namespace slidesparse::jinja
