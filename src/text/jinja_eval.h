// Renders parsed chat-template statements against a set of global variables, with Jinja's scoping:
// a for loop's body is a fresh scope per iteration, if blocks share their enclosing scope.
#pragma once

#include <string>

#include "text/jinja_ast.h"
#include "text/jinja_lexer.h"
#include "text/jinja_value.h"

namespace slidesparse::jinja {

// Globals besides `globals`: raise_exception(msg), namespace(...), range(...).
// Throws Error "chat template: line L, column C: ..." (raise_exception: the template's message).
std::string render_statements(const StmtList& statements, const SourceMap& source_map, ValueDict globals);

}  // namespace slidesparse::jinja
