// The parsed form of a chat template: expressions and statements, each with the source offset that
// errors point at.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "text/jinja_value.h"

namespace slidesparse::jinja {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  enum class Kind {
    kLiteral,      // value
    kName,         // name
    kList,         // args: items
    kDict,         // args: key0, value0, key1, value1, ...
    kAttribute,    // args[0].name
    kItem,         // args[0][args[1]]
    kSlice,        // args[0][args[1]:args[2]:args[3]], absent bounds are null
    kCall,         // args[0](args[1..], kwargs)
    kFilter,       // args[0] | name(args[1..], kwargs)
    kTest,         // args[0] is [not: negated] name(args[1..])
    kUnary,        // name in {"not", "-", "+"} applied to args[0]
    kBinary,       // args[0] name args[1]; name is an operator, "and", "or", "in", "not in"
    kConditional,  // args[1] if args[0] else args[2] (args[2] null: Undefined)
  };
  Kind kind;
  size_t offset = 0;
  Value value;
  std::string name;
  bool negated = false;
  std::vector<ExprPtr> args;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
};

struct Stmt;
using StmtList = std::vector<std::unique_ptr<Stmt>>;

struct Stmt {
  enum class Kind {
    kText,      // text
    kOutput,    // {{ expr }}
    kIf,        // if expr: body, else: else_body (an elif is an If alone in else_body)
    kFor,       // for targets in expr [if condition]: body, else: else_body
    kSet,       // set targets[0] = expr; set targets[0].attribute = expr; set a, b = expr
    kBreak,
    kContinue,
  };
  Kind kind;
  size_t offset = 0;
  std::string text;
  ExprPtr expr;
  ExprPtr condition;
  std::vector<std::string> targets;
  std::string attribute;
  StmtList body, else_body;
};

}  // namespace slidesparse::jinja
