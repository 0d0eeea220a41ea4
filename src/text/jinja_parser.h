// Parses lexed chat-template tokens into statements. Tags outside the subset chat templates use
// (macro, call, include, import, extends, block, filter, with, raw, ...) are one error naming the tag.
#pragma once

#include "text/jinja_ast.h"
#include "text/jinja_lexer.h"

namespace slidesparse::jinja {

// Throws Error "chat template: line L, column C: ..." on malformed or unsupported syntax.
StmtList parse_template(const LexedTemplate& lexed);

}  // namespace slidesparse::jinja
