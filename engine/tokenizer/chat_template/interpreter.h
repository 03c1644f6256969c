// Runs a parsed template over variables: Python/Jinja2 semantics for the statements, filters,
// tests and methods that real chat templates use. Anything else fails with an error that names
// it and says where it is.
#pragma once

#include <string>

#include "engine/api/status.h"
#include "engine/tokenizer/chat_template/ast.h"
#include "engine/tokenizer/chat_template/render_limits.h"

namespace stemma::jinja {

// Errors: RESOURCE_EXHAUSTED past `limits`, CANCELLED when its flag is set, INVALID_ARGUMENT
// naming line:column for everything the template does wrong.
Result<std::string> render(const Body& body, const ValueDict& globals, const RenderLimits& limits);

}  // namespace stemma::jinja
