#include "engine/api/constraint_text.h"

#include "engine/constrain/json_regex_parts.h"
#include "engine/constrain/json_schema.h"
#include "engine/constrain/regex_ast.h"

namespace stemma {

Result<std::string> json_schema_regex(std::string_view schema_json, int whitespace) {
  constrain::JsonSchemaOptions o;
  o.whitespace = whitespace;
  o.recursion = constrain::JsonRecursion::kUnroll;  // one regex: no grammar rules
  STEMMA_ASSIGN_OR_RETURN(constrain::SchemaRegex r,
                          constrain::json_schema_to_regex(schema_json, o));
  STEMMA_RETURN_IF_ERROR(r.status());
  return std::move(r.regex);
}

std::string regex_escape(std::string_view text) {
  return constrain::regex_escape(text);
}

const char* json_string_char_regex() {
  return constrain::json_regex::kStringChar;
}

}  // namespace stemma
