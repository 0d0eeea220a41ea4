#include "text/jinja_eval.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include "core/error.h"
#include "text/jinja_builtins.h"

namespace slidesparse::jinja {

namespace {

using K = Value::Kind;

class Renderer {
 public:
  Renderer(const SourceMap& source_map, ValueDict globals) : map_(source_map) {
    globals.emplace_back("raise_exception", Value::function("raise_exception"));
    globals.emplace_back("namespace", Value::function("namespace"));
    globals.emplace_back("range", Value::function("range"));
    scopes_.push_back(std::move(globals));
    scopes_.emplace_back();  // the template's own top-level assignments
  }

  // A namespace may hold itself (`set ns.me = ns`): its entries are cleared when the render ends, so
  // that such a cycle of shared entries is freed.
  ~Renderer() {
    for (const Value& n : namespaces_) n.mutable_entries().clear();
  }
  Renderer(const Renderer&) = delete;
  Renderer& operator=(const Renderer&) = delete;

  std::string render(const StmtList& statements) {
    std::string out;
    if (exec(statements, out) != Flow::kNormal) fail("chat template: '{% break %}' or '{% continue %}' outside a loop");
    return out;
  }

 private:
  enum class Flow { kNormal, kBreak, kContinue };

  [[noreturn]] void error(size_t offset, const std::string& what) const {
    fail("chat template: " + map_.describe(offset) + ": " + what);
  }

  Value lookup(const std::string& name) const {
    for (auto scope = scopes_.rbegin(); scope != scopes_.rend(); ++scope)
      for (const auto& [key, value] : *scope)
        if (key == name) return value;
    return Value::undefined(name);
  }

  void assign(const std::string& name, Value value) {
    for (auto& [key, existing] : scopes_.back())
      if (key == name) {
        existing = std::move(value);
        return;
      }
    scopes_.back().emplace_back(name, std::move(value));
  }

  Flow exec(const StmtList& statements, std::string& out) {
    for (const auto& s : statements) {
      switch (s->kind) {
        case Stmt::Kind::kText: out += s->text; break;
        case Stmt::Kind::kOutput: out += eval(*s->expr).str(); break;
        case Stmt::Kind::kIf: {
          const Flow flow = exec(eval(*s->expr).truthy() ? s->body : s->else_body, out);
          if (flow != Flow::kNormal) return flow;
          break;
        }
        case Stmt::Kind::kFor: exec_for(*s, out); break;
        case Stmt::Kind::kSet: exec_set(*s); break;
        case Stmt::Kind::kBreak: return Flow::kBreak;
        case Stmt::Kind::kContinue: return Flow::kContinue;
      }
    }
    return Flow::kNormal;
  }

  void bind_targets(const Stmt& s, const Value& value) {
    if (s.targets.size() == 1) return assign(s.targets[0], value);
    const ValueList parts = value.kind() == K::kList ? value.items() : ValueList{};
    if (parts.size() != s.targets.size())
      error(s.offset, "cannot unpack " + value.repr() + " into " + std::to_string(s.targets.size()) + " names");
    for (size_t i = 0; i < parts.size(); ++i) assign(s.targets[i], parts[i]);
  }

  void exec_for(const Stmt& s, std::string& out) {
    ValueList all = with_position(s.expr->offset, [&] { return iterate(eval(*s.expr)); });
    if (s.condition) {
      ValueList kept;
      for (const Value& item : all) {
        scopes_.emplace_back();
        bind_targets(s, item);
        const bool keep = eval(*s.condition).truthy();
        scopes_.pop_back();
        if (keep) kept.push_back(item);
      }
      all = std::move(kept);
    }
    if (all.empty()) {
      if (exec(s.else_body, out) != Flow::kNormal) error(s.offset, "'{% break %}' or '{% continue %}' outside a loop");
      return;
    }
    const int64_t n = static_cast<int64_t>(all.size());
    for (int64_t i = 0; i < n; ++i) {
      scopes_.emplace_back();
      assign("loop", Value::dict({{"index", Value::integer(i + 1)},
                                  {"index0", Value::integer(i)},
                                  {"revindex", Value::integer(n - i)},
                                  {"revindex0", Value::integer(n - i - 1)},
                                  {"first", Value::boolean(i == 0)},
                                  {"last", Value::boolean(i == n - 1)},
                                  {"length", Value::integer(n)},
                                  {"previtem", i > 0 ? all[i - 1] : Value::undefined("previtem")},
                                  {"nextitem", i + 1 < n ? all[i + 1] : Value::undefined("nextitem")}}));
      bind_targets(s, all[static_cast<size_t>(i)]);
      const Flow flow = exec(s.body, out);
      scopes_.pop_back();
      if (flow == Flow::kBreak) break;
    }
  }

  void exec_set(const Stmt& s) {
    Value value = eval(*s.expr);
    if (s.attribute.empty()) return bind_targets(s, value);
    const Value target = lookup(s.targets[0]);
    if (target.kind() != K::kNamespace)
      error(s.offset, "cannot assign attribute '" + s.attribute + "' on '" + s.targets[0] + "' (a " +
                          target.type_name() + "): only a namespace() takes attribute assignments");
    for (auto& [key, existing] : target.mutable_entries())
      if (key == s.attribute) {
        existing = std::move(value);
        return;
      }
    target.mutable_entries().emplace_back(s.attribute, std::move(value));
  }

  // Runs a builtin, giving its bare error message the template position.
  template <typename F>
  auto with_position(size_t offset, F&& f) -> decltype(f()) {
    try {
      return f();
    } catch (const Error& e) {
      const std::string what = e.what();
      if (what.rfind("chat template:", 0) == 0) throw;
      error(offset, what);
    }
  }

  [[noreturn]] void undefined_error(size_t offset, const Value& v) const {
    error(offset, "'" + v.undefined_name() + "' is undefined");
  }

  Value eval(const Expr& e) {
    switch (e.kind) {
      case Expr::Kind::kLiteral: return e.value;
      case Expr::Kind::kName: return lookup(e.name);
      case Expr::Kind::kList: {
        ValueList items;
        for (const auto& arg : e.args) items.push_back(eval(*arg));
        return Value::list(std::move(items));
      }
      case Expr::Kind::kDict: {
        ValueDict entries;
        for (size_t i = 0; i + 1 < e.args.size(); i += 2) {
          const Value key = eval(*e.args[i]);
          if (key.kind() != K::kString) error(e.args[i]->offset, "dict keys must be strings");
          entries.emplace_back(key.as_string(), eval(*e.args[i + 1]));
        }
        return Value::dict(std::move(entries));
      }
      case Expr::Kind::kAttribute: {
        const Value object = eval(*e.args[0]);
        if (object.is_undefined()) undefined_error(e.offset, object);
        return object.get(e.name);
      }
      case Expr::Kind::kItem: return item(e, eval(*e.args[0]), eval(*e.args[1]));
      case Expr::Kind::kSlice: return slice(e);
      case Expr::Kind::kCall: return call(e);
      case Expr::Kind::kFilter: {
        const Value input = eval(*e.args[0]);
        const ValueList args = eval_arguments(e);
        const Keywords kwargs = eval_keywords(e);
        return with_position(e.offset, [&] { return apply_filter(e.name, input, args, kwargs); });
      }
      case Expr::Kind::kTest: {
        const Value input = eval(*e.args[0]);
        const ValueList args = eval_arguments(e);
        return Value::boolean(with_position(e.offset, [&] { return apply_test(e.name, input, args); }) != e.negated);
      }
      case Expr::Kind::kUnary: {
        const Value operand = eval(*e.args[0]);
        if (e.name == "not") return Value::boolean(!operand.truthy());
        if (operand.is_undefined()) undefined_error(e.offset, operand);
        if (!operand.is_number()) error(e.offset, "bad operand type for unary " + e.name + ": " + operand.type_name());
        if (e.name == "+") return operand.kind() == K::kFloat ? operand : Value::integer(operand.as_int());
        return operand.kind() == K::kFloat ? Value::number(-operand.as_double()) : Value::integer(-operand.as_int());
      }
      case Expr::Kind::kBinary: return binary(e);
      case Expr::Kind::kConditional:
        if (eval(*e.args[0]).truthy()) return eval(*e.args[1]);
        return e.args[2] ? eval(*e.args[2]) : Value::undefined("conditional expression");
    }
    error(e.offset, "unknown expression");
  }

  ValueList eval_arguments(const Expr& e) {
    ValueList args;
    for (size_t i = 1; i < e.args.size(); ++i) args.push_back(eval(*e.args[i]));
    return args;
  }

  Keywords eval_keywords(const Expr& e) {
    Keywords kwargs;
    for (const auto& [key, arg] : e.kwargs) kwargs.emplace_back(key, eval(*arg));
    return kwargs;
  }

  Value item(const Expr& e, const Value& object, const Value& key) {
    if (object.is_undefined()) undefined_error(e.offset, object);
    if (object.is_mapping()) {
      if (key.kind() != K::kString) return Value::undefined(key.repr());
      return object.get(key.as_string());
    }
    if (object.kind() == K::kList || object.kind() == K::kString) {
      if (key.kind() != K::kInt && key.kind() != K::kBool)
        error(e.offset, std::string("indices must be integers, not ") + key.type_name());
      const ValueList elements = object.kind() == K::kList ? object.items() : iterate(object);
      int64_t i = key.as_int();
      if (i < 0) i += static_cast<int64_t>(elements.size());
      if (i < 0 || i >= static_cast<int64_t>(elements.size()))
        return Value::undefined(object.repr() + "[" + key.repr() + "]");
      return elements[static_cast<size_t>(i)];
    }
    error(e.offset, std::string("a value of type ") + object.type_name() + " cannot be indexed");
  }

  // Python slicing of lists and strings (by code point), any step but 0.
  Value slice(const Expr& e) {
    const Value object = eval(*e.args[0]);
    if (object.is_undefined()) undefined_error(e.offset, object);
    if (object.kind() != K::kList && object.kind() != K::kString)
      error(e.offset, std::string("a value of type ") + object.type_name() + " cannot be sliced");
    const ValueList elements = object.kind() == K::kList ? object.items() : iterate(object);
    const int64_t n = static_cast<int64_t>(elements.size());
    auto bound = [&](const ExprPtr& expr) -> std::optional<int64_t> {
      if (!expr) return std::nullopt;
      const Value v = eval(*expr);
      if (v.kind() == K::kNone) return std::nullopt;
      if (v.kind() != K::kInt) error(expr->offset, "slice indices must be integers");
      return v.as_int();
    };
    const int64_t step = bound(e.args[3]).value_or(1);
    if (step == 0) error(e.offset, "slice step cannot be zero");
    auto clamp = [&](std::optional<int64_t> i, int64_t fallback) {
      if (!i) return fallback;
      int64_t v = *i < 0 ? *i + n : *i;
      return step > 0 ? std::clamp<int64_t>(v, 0, n) : std::clamp<int64_t>(v, -1, n - 1);
    };
    const int64_t start = clamp(bound(e.args[1]), step > 0 ? 0 : n - 1);
    const int64_t stop = clamp(bound(e.args[2]), step > 0 ? n : -1);
    ValueList picked;
    for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step)
      picked.push_back(elements[static_cast<size_t>(i)]);
    if (object.kind() == K::kList) return Value::list(std::move(picked));
    std::string s;
    for (const Value& c : picked) s += c.as_string();
    return Value::string(s);
  }

  Value call(const Expr& e) {
    const ValueList args = eval_arguments(e);
    const Keywords kwargs = eval_keywords(e);
    const Expr& callee = *e.args[0];
    if (callee.kind == Expr::Kind::kAttribute) {
      const Value object = eval(*callee.args[0]);
      if (object.is_undefined()) undefined_error(callee.offset, object);
      const auto result = with_position(e.offset, [&] { return call_method(object, callee.name, args, kwargs); });
      if (result) return *result;
      const Value attribute = object.get(callee.name);
      if (attribute.kind() != K::kFunction)
        error(callee.offset,
              std::string("unsupported method '") + callee.name + "' on a value of type " + object.type_name());
      return call_function(e, attribute.as_string(), args, kwargs);
    }
    const Value function = eval(callee);
    if (function.is_undefined()) undefined_error(callee.offset, function);
    if (function.kind() != K::kFunction)
      error(e.offset, std::string("a value of type ") + function.type_name() + " is not callable");
    return call_function(e, function.as_string(), args, kwargs);
  }

  Value call_function(const Expr& e, const std::string& name, const ValueList& args, const Keywords& kwargs) {
    if (name == "raise_exception")
      error(e.args[0]->offset, "raise_exception: " + (args.empty() ? std::string() : args[0].str()));
    if (name == "namespace") {
      ValueDict entries;
      for (const Value& arg : args) {
        if (arg.kind() != K::kDict) error(e.offset, "namespace() takes keyword arguments or a dict");
        entries = arg.entries();
      }
      for (const auto& [key, value] : kwargs) entries.emplace_back(key, value);
      namespaces_.push_back(Value::name_space(std::move(entries)));
      return namespaces_.back();
    }
    // range(stop) / range(start, stop[, step])
    if (args.empty() || args.size() > 3 || !kwargs.empty()) error(e.offset, "range() takes 1 to 3 integer arguments");
    for (const Value& arg : args)
      if (arg.kind() != K::kInt) error(e.offset, "range() takes 1 to 3 integer arguments");
    const int64_t start = args.size() > 1 ? args[0].as_int() : 0;
    const int64_t stop = args.size() > 1 ? args[1].as_int() : args[0].as_int();
    const int64_t step = args.size() > 2 ? args[2].as_int() : 1;
    if (step == 0) error(e.offset, "range() step cannot be zero");
    ValueList values;
    for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) values.push_back(Value::integer(i));
    return Value::list(std::move(values));
  }

  Value binary(const Expr& e) {
    const Value left = eval(*e.args[0]);
    if (e.name == "and") return left.truthy() ? eval(*e.args[1]) : left;
    if (e.name == "or") return left.truthy() ? left : eval(*e.args[1]);
    const Value right = eval(*e.args[1]);
    const std::string& op = e.name;
    if (op == "~") return Value::string(left.str() + right.str());
    if (op == "==") return Value::boolean(values_equal(left, right));
    if (op == "!=") return Value::boolean(!values_equal(left, right));
    if (op == "in" || op == "not in") return Value::boolean(contains(e, right, left) == (op == "in"));
    for (const Value* v : {&left, &right})
      if (v->is_undefined()) undefined_error(e.offset, *v);
    if (op == "<" || op == "<=" || op == ">" || op == ">=") {
      int order;
      if (left.is_number() && right.is_number()) {
        order = left.as_double() < right.as_double() ? -1 : left.as_double() > right.as_double() ? 1 : 0;
      } else if (left.kind() == K::kString && right.kind() == K::kString) {
        order = left.as_string().compare(right.as_string());
      } else {
        error(e.offset, "'" + op + "' not supported between " + left.type_name() + " and " + right.type_name());
      }
      return Value::boolean(op == "<" ? order < 0 : op == "<=" ? order <= 0 : op == ">" ? order > 0 : order >= 0);
    }
    if (op == "+" && left.kind() == K::kString && right.kind() == K::kString)
      return Value::string(left.as_string() + right.as_string());
    if (op == "+" && left.kind() == K::kList && right.kind() == K::kList) {
      ValueList joined = left.items();
      joined.insert(joined.end(), right.items().begin(), right.items().end());
      return Value::list(std::move(joined));
    }
    if (op == "*" && (left.kind() == K::kString || left.kind() == K::kList) && right.kind() == K::kInt)
      return repeat(left, right.as_int());
    if (!left.is_number() || !right.is_number())
      error(e.offset, "unsupported operand types for " + op + ": " + left.type_name() + " and " + right.type_name());
    const bool floats = left.kind() == K::kFloat || right.kind() == K::kFloat;
    const double a = left.as_double(), b = right.as_double();
    const int64_t x = left.as_int(), y = right.as_int();
    if ((op == "/" || op == "//" || op == "%") && b == 0) error(e.offset, "division by zero");
    if (op == "+") return floats ? Value::number(a + b) : Value::integer(x + y);
    if (op == "-") return floats ? Value::number(a - b) : Value::integer(x - y);
    if (op == "*") return floats ? Value::number(a * b) : Value::integer(x * y);
    if (op == "/") return Value::number(a / b);
    if (op == "//")
      return floats ? Value::number(std::floor(a / b)) : Value::integer(x / y - ((x % y != 0) && ((x < 0) != (y < 0))));
    if (op == "%") {
      if (floats) return Value::number(a - b * std::floor(a / b));
      const int64_t r = x % y;
      return Value::integer(r != 0 && ((r < 0) != (y < 0)) ? r + y : r);
    }
    if (op == "**")
      return floats || y < 0 ? Value::number(std::pow(a, b))
                             : Value::integer(static_cast<int64_t>(std::llround(std::pow(a, b))));
    error(e.offset, "unknown operator '" + op + "'");
  }

  static Value repeat(const Value& v, int64_t times) {
    if (v.kind() == K::kString) {
      std::string s;
      for (int64_t i = 0; i < times; ++i) s += v.as_string();
      return Value::string(s);
    }
    ValueList items;
    for (int64_t i = 0; i < times; ++i) items.insert(items.end(), v.items().begin(), v.items().end());
    return Value::list(std::move(items));
  }

  bool contains(const Expr& e, const Value& container, const Value& needle) {
    if (container.kind() == K::kString) {
      if (needle.kind() != K::kString)
        error(e.offset, std::string("'in <string>' requires a string, not ") + needle.type_name());
      return container.as_string().find(needle.as_string()) != std::string::npos;
    }
    if (container.is_mapping()) return needle.kind() == K::kString && !container.get(needle.as_string()).is_undefined();
    if (container.kind() == K::kList || container.is_undefined()) {
      for (const Value& item : iterate(container))
        if (values_equal(item, needle)) return true;
      return false;
    }
    error(e.offset, std::string("'in' needs a string, list or mapping on its right, not ") + container.type_name());
  }

  const SourceMap& map_;
  std::vector<ValueDict> scopes_;
  std::vector<Value> namespaces_;  // every namespace() of this render
};

}  // namespace

std::string render_statements(const StmtList& statements, const SourceMap& source_map, ValueDict globals) {
  return Renderer(source_map, std::move(globals)).render(statements);
}

}  // namespace slidesparse::jinja
