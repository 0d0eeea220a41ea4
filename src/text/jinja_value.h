// The values a chat template computes with: Python's None/bool/int/float/str/list/dict plus Jinja's
// Undefined and namespace(), rendered and serialized exactly as Jinja under Python would.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace slidesparse::jinja {

class Value;
using ValueList = std::vector<Value>;
using ValueDict = std::vector<std::pair<std::string, Value>>;  // insertion order, as Python dicts keep

class Value {
 public:
  enum class Kind { kUndefined, kNone, kBool, kInt, kFloat, kString, kList, kDict, kNamespace, kFunction };

  Value() = default;  // Undefined
  static Value undefined(std::string name);
  static Value none();
  static Value boolean(bool b);
  static Value integer(int64_t i);
  static Value number(double f);
  static Value string(std::string s);
  static Value list(ValueList items);
  static Value dict(ValueDict items);
  static Value name_space(ValueDict items);  // namespace(): the one mutable object, shared by reference
  static Value function(std::string name);   // a global such as raise_exception, called by name
  // Objects keep key order (ordered_json), as Python's json.loads does.
  static Value from_json(const nlohmann::ordered_json& json);

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::kUndefined; }
  bool is_number() const { return kind_ == Kind::kInt || kind_ == Kind::kFloat || kind_ == Kind::kBool; }
  bool is_mapping() const { return kind_ == Kind::kDict || kind_ == Kind::kNamespace; }

  bool as_bool() const { return bool_; }
  int64_t as_int() const { return kind_ == Kind::kFloat ? static_cast<int64_t>(float_) : int_; }
  double as_double() const { return kind_ == Kind::kFloat ? float_ : static_cast<double>(int_); }
  const std::string& as_string() const { return string_; }  // the text of a string, or a function's name
  const ValueList& items() const { return *list_; }
  const ValueDict& entries() const { return *dict_; }
  ValueDict& mutable_entries() const { return *dict_; }
  // An Undefined's name, for "'x' is undefined" messages.
  const std::string& undefined_name() const { return string_; }

  // Dict member or Undefined named `key`.
  Value get(const std::string& key) const;
  bool truthy() const;
  // str(value) in Python: what {{ value }} renders.
  std::string str() const;
  // repr(value) in Python: how a value looks inside a rendered list or dict.
  std::string repr() const;
  // json.dumps(value, ensure_ascii=False, indent=indent): transformers' tojson filter. indent < 0: none.
  std::string to_json(int indent) const;
  const char* type_name() const;

 private:
  Kind kind_ = Kind::kUndefined;
  bool bool_ = false;
  int64_t int_ = 0;
  double float_ = 0;
  std::string string_;
  std::shared_ptr<ValueList> list_;
  std::shared_ptr<ValueDict> dict_;
};

// Python ==, for numbers across int/float/bool, strings, lists and dicts.
bool values_equal(const Value& a, const Value& b);
// repr() of a Python float: shortest round-trip digits, always with a '.' or exponent.
std::string python_float_repr(double f);

}  // namespace slidesparse::jinja
