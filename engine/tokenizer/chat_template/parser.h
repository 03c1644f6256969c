// Template source -> syntax tree, with HF's settings: trim_blocks, lstrip_blocks, a trailing
// newline dropped (keep_trailing_newline=False), {%- -%} whitespace control.
#pragma once

#include <string>

#include "engine/api/status.h"
#include "engine/tokenizer/chat_template/ast.h"

namespace stemma::jinja {

// Errors name the line and column: "template:3:14: unexpected token ')'".
Result<Body> parse_template(const std::string& source);

}  // namespace stemma::jinja
