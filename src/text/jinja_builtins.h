// Jinja's filters and tests, and the Python str/dict methods chat templates call. Errors are bare
// messages ("unknown filter 'x'"); the evaluator adds the template position.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "text/jinja_value.h"

namespace slidesparse::jinja {

using Keywords = std::vector<std::pair<std::string, Value>>;

// The filters and tests apply_filter and apply_test know, so the parser can reject others up front.
bool is_supported_filter(const std::string& name);
bool is_supported_test(const std::string& name);

Value apply_filter(const std::string& name, const Value& input, const ValueList& args, const Keywords& kwargs);
bool apply_test(const std::string& name, const Value& input, const ValueList& args);
// nullopt when `object` has no method `name` (the caller then tries an attribute).
std::optional<Value> call_method(const Value& object, const std::string& name, const ValueList& args,
                                 const Keywords& kwargs);

// What a for loop visits: list items, dict keys, string characters; nothing for Undefined.
ValueList iterate(const Value& v);
// A string's code points, each as a string (Python indexes and slices str by code point).
std::vector<std::string> code_points(const std::string& s);

}  // namespace slidesparse::jinja
