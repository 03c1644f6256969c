// stemma_tokenize / stemma_detokenize / stemma_chat_format: the engine's text layer (the model's
// tokenizer and chat template) behind the C ABI.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>

#include "capi/capi_errors.h"
#include "capi/engine_core.h"
#include "capi/handles.h"
#include "capi/utf8_check.h"

using namespace stemma;
using namespace stemma::capi;

namespace {

Status check_flag(const char* fn, const char* arg, int32_t value) {
  if (value == 0 || value == 1) return OkStatus();
  return InvalidArgument(std::string(fn) + ": " + arg + " is " + std::to_string(value) +
                         "; must be 0 or 1");
}

// Parses JSON text given to `fn` as `arg`; a syntax error names the byte offset.
Result<nlohmann::ordered_json> parse_json_arg(const char* fn, const char* arg, const char* text) {
  try {
    return nlohmann::ordered_json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    return InvalidArgument(std::string(fn) + ": " + arg + " is not valid JSON (byte " +
                           std::to_string(e.byte) + ")");
  }
}

// Each message must be an object with string "role" and "content" (content may also be the
// list-of-parts form templates accept); errors name the message index.
Status check_messages(const char* fn, const nlohmann::ordered_json& messages) {
  if (!messages.is_array()) {
    return InvalidArgument(std::string(fn) + ": messages_json must be a JSON array of messages");
  }
  for (size_t i = 0; i < messages.size(); ++i) {
    const auto& m = messages[i];
    const std::string where = std::string(fn) + ": messages_json[" + std::to_string(i) + "]";
    if (!m.is_object()) return InvalidArgument(where + " is not an object");
    if (!m.contains("role") || !m["role"].is_string()) {
      return InvalidArgument(where + " has no string \"role\"");
    }
    if (m.contains("content") && !m["content"].is_string() && !m["content"].is_array() &&
        !m["content"].is_null()) {
      return InvalidArgument(where + ".content must be a string, an array of parts or null");
    }
  }
  return OkStatus();
}

}  // namespace

extern "C" {

STEMMA_API stemma_status stemma_tokenize(const stemma_engine* engine, const char* text,
                                         int32_t add_special, int32_t** tokens_out,
                                         size_t* count_out) {
  return guarded(__func__, [&, api = __func__]() -> Status {
    STEMMA_RETURN_IF_ERROR(check_not_null(api, "tokens_out", tokens_out));
    *tokens_out = nullptr;
    STEMMA_RETURN_IF_ERROR(check_not_null(api, "count_out", count_out));
    *count_out = 0;
    STEMMA_RETURN_IF_ERROR(check_handle(api, "engine", engine, HandleKind::kEngine));
    STEMMA_RETURN_IF_ERROR(check_text(api, "text", text));
    STEMMA_RETURN_IF_ERROR(check_flag(api, "add_special", add_special));
    STEMMA_ASSIGN_OR_RETURN(auto tok, require_text(*engine->core, api));
    const std::vector<int32_t> ids = tok->encode(text, add_special == 1, /*parse_special=*/true);
    // Always a real allocation (even for zero tokens), so callers need no NULL special case.
    auto* out = static_cast<int32_t*>(std::malloc(sizeof(int32_t) * (ids.size() + 1)));
    if (out == nullptr) return ResourceExhausted(std::string(api) + ": out of memory");
    if (!ids.empty()) std::memcpy(out, ids.data(), sizeof(int32_t) * ids.size());
    *tokens_out = out;
    *count_out = ids.size();
    return OkStatus();
  });
}

STEMMA_API stemma_status stemma_detokenize(const stemma_engine* engine, const int32_t* tokens,
                                           size_t count, char** text_out) {
  return guarded(__func__, [&, api = __func__]() -> Status {
    STEMMA_RETURN_IF_ERROR(check_not_null(api, "text_out", text_out));
    *text_out = nullptr;
    STEMMA_RETURN_IF_ERROR(check_handle(api, "engine", engine, HandleKind::kEngine));
    if (count > 0) STEMMA_RETURN_IF_ERROR(check_not_null(api, "tokens", tokens));
    STEMMA_ASSIGN_OR_RETURN(auto tok, require_text(*engine->core, api));
    const std::span<const int32_t> ids(tokens, count);
    for (size_t i = 0; i < count; ++i) {
      if (ids[i] < 0 || ids[i] >= tok->vocab_size()) {
        return OutOfRange(std::string(api) + ": tokens[" + std::to_string(i) +
                          "] = " + std::to_string(ids[i]) + " is outside the vocabulary (0.." +
                          std::to_string(tok->vocab_size() - 1) + ")");
      }
    }
    STEMMA_ASSIGN_OR_RETURN(std::string text, tok->decode(ids));
    // A decoded byte sequence that is not UTF-8 was already replaced by U+FFFD; NUL bytes are
    // possible though (a byte token 0x00), and cannot cross as a C string.
    std::replace(text.begin(), text.end(), '\0', '?');
    return copy_out(api, "text_out", text, text_out);
  });
}

STEMMA_API stemma_status stemma_chat_format(const stemma_engine* engine, const char* messages_json,
                                            const char* tools_json, int32_t add_generation_prompt,
                                            char** text_out) {
  return guarded(__func__, [&, api = __func__]() -> Status {
    STEMMA_RETURN_IF_ERROR(check_not_null(api, "text_out", text_out));
    *text_out = nullptr;
    STEMMA_RETURN_IF_ERROR(check_handle(api, "engine", engine, HandleKind::kEngine));
    STEMMA_RETURN_IF_ERROR(check_text(api, "messages_json", messages_json));
    STEMMA_RETURN_IF_ERROR(check_text(api, "tools_json", tools_json, /*nullable=*/true));
    STEMMA_RETURN_IF_ERROR(check_flag(api, "add_generation_prompt", add_generation_prompt));
    const std::shared_ptr<const TextLayer> text_layer = engine->core->engine->text();
    if (!text_layer) {
      return FailedPrecondition(std::string(api) + ": the model ships no chat template");
    }
    STEMMA_RETURN_IF_ERROR(text_layer->chat_template_status().with_context(api));
    STEMMA_ASSIGN_OR_RETURN(nlohmann::ordered_json messages,
                            parse_json_arg(api, "messages_json", messages_json));
    STEMMA_RETURN_IF_ERROR(check_messages(api, messages));
    nlohmann::ordered_json tools;
    if (tools_json != nullptr) {
      STEMMA_ASSIGN_OR_RETURN(tools, parse_json_arg(api, "tools_json", tools_json));
      if (!tools.is_array() && !tools.is_null()) {
        return InvalidArgument(std::string(api) + ": tools_json must be a JSON array");
      }
    }
    auto rendered = text_layer->render_chat(messages, tools, add_generation_prompt == 1);
    if (!rendered.ok()) return rendered.status().with_context(api);
    std::string text = std::move(rendered).value();
    if (first_invalid_utf8(text) != std::string_view::npos ||
        text.find('\0') != std::string::npos) {
      return Internal(std::string(api) + ": the template rendered text that is not UTF-8");
    }
    return copy_out(api, "text_out", text, text_out);
  });
}

}  // extern "C"
