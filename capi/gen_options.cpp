#include "capi/gen_options.h"

#include <cmath>

#include "capi/capi_errors.h"
#include "capi/struct_versions.h"

namespace stemma::capi {

stemma_gen_options default_gen_options() {
  stemma_gen_options o{};
  o.struct_size = sizeof(o);
  o.max_tokens = 128;
  o.temperature = 0.0f;
  o.top_k = 0;
  o.top_p = 1.0f;
  o.min_p = 0.0f;
  o.seed = 0;
  o.repetition_penalty = 1.0f;
  o.stop = nullptr;
  o.num_stop = 0;
  o.regex = nullptr;
  o.json_schema = nullptr;
  o.jump_forward = 1;
  return o;
}

namespace {

// The checks of the C struct every generating entry point shares; `o` holds the caller's
// struct over the defaults.
Status read_gen_options(const char* fn, const stemma_gen_options* options, stemma_gen_options* o,
                        std::vector<std::string>* stops) {
  *o = default_gen_options();
  if (options != nullptr) STEMMA_RETURN_IF_ERROR(read_struct(fn, "options", options, o));
  const std::string where = std::string(fn) + ": options->";
  if (o->num_stop > 0 && o->stop == nullptr) {
    return InvalidArgument(where + "stop is NULL but num_stop is " + std::to_string(o->num_stop));
  }
  for (size_t i = 0; i < o->num_stop; ++i) {
    const std::string arg = "options->stop[" + std::to_string(i) + "]";
    STEMMA_RETURN_IF_ERROR(check_text(fn, arg.c_str(), o->stop[i]));
    if (o->stop[i][0] == '\0') return InvalidArgument(std::string(fn) + ": " + arg + " is empty");
    stops->emplace_back(o->stop[i]);
  }
  STEMMA_RETURN_IF_ERROR(check_text(fn, "options->regex", o->regex, /*nullable=*/true));
  STEMMA_RETURN_IF_ERROR(check_text(fn, "options->json_schema", o->json_schema, true));
  if (o->jump_forward != 0 && o->jump_forward != 1) {
    return InvalidArgument(where + "jump_forward is " + std::to_string(o->jump_forward) +
                           "; must be 0 or 1");
  }
  if (o->regex != nullptr && o->json_schema != nullptr) {
    return InvalidArgument(where + "regex and json_schema are both set; give at most one");
  }
  if (o->max_tokens < 1) {
    return InvalidArgument(where + "max_tokens is " + std::to_string(o->max_tokens) +
                           "; must be >= 1");
  }
  // The rest (temperature, top_p, ... ranges, NaN) is checked by SamplingOptions::validate,
  // which names the field.
  return OkStatus();
}

}  // namespace

Result<SamplingOptions> to_sampling_options(const char* fn, EngineCore& core,
                                            const stemma_gen_options* options) {
  stemma_gen_options o;
  SamplingOptions so;
  STEMMA_RETURN_IF_ERROR(read_gen_options(fn, options, &o, &so.stop_strings));
  const std::string where = std::string(fn) + ": options->";
  so.max_tokens = o.max_tokens;
  so.temperature = o.temperature;
  so.top_k = o.top_k;
  so.top_p = o.top_p;
  so.min_p = o.min_p;
  so.seed = o.seed;
  so.repetition_penalty = o.repetition_penalty;
  Status valid = so.validate(core.engine->config().vocab_size);
  if (!valid.ok()) return valid.with_context(std::string(fn) + ": options");
  if (o.regex != nullptr) {
    auto c = core.engine->compile_regex(o.regex);
    if (!c.ok()) return c.status().with_context(where + "regex");
    so.constraint = std::move(c).value();
  } else if (o.json_schema != nullptr) {
    auto c = core.engine->compile_json_schema(o.json_schema);
    if (!c.ok()) return c.status().with_context(where + "json_schema");
    so.constraint = std::move(c).value();
  }
  so.jump_forward = o.jump_forward == 1;
  return so;
}

Result<program::GenOptions> to_program_options(const char* fn, const stemma_gen_options* options) {
  stemma_gen_options o;
  program::GenOptions g;
  STEMMA_RETURN_IF_ERROR(read_gen_options(fn, options, &o, &g.stop));
  g.max_tokens = o.max_tokens;
  g.temperature = o.temperature;
  g.top_k = o.top_k;
  g.top_p = o.top_p;
  g.min_p = o.min_p;
  g.seed = o.seed;
  g.repetition_penalty = o.repetition_penalty;
  if (o.regex != nullptr) g.regex = o.regex;
  if (o.json_schema != nullptr) g.json_schema = o.json_schema;
  g.jump_forward = o.jump_forward == 1;
  // Range checks of the numbers, here rather than when a queued operation runs.
  SamplingOptions check;
  check.max_tokens = g.max_tokens;
  check.temperature = g.temperature;
  check.top_k = g.top_k;
  check.top_p = g.top_p;
  check.min_p = g.min_p;
  check.repetition_penalty = g.repetition_penalty;
  check.stop_strings = g.stop;
  Status valid = check.validate(1);
  if (!valid.ok()) return valid.with_context(std::string(fn) + ": options");
  return g;
}

program::TextCallback text_callback(std::shared_ptr<StreamBridge> bridge) {
  if (!bridge) return {};
  return [bridge](std::string_view piece) { return bridge->deliver(piece); };
}

stemma_finish_reason to_c_finish(FinishReason reason) {
  switch (reason) {
    case FinishReason::kNone:
      return STEMMA_FINISH_NONE;
    case FinishReason::kStopToken:
    case FinishReason::kStopString:
      return STEMMA_FINISH_STOP;
    case FinishReason::kLength:
      return STEMMA_FINISH_LENGTH;
    case FinishReason::kCancelled:
      return STEMMA_FINISH_CANCELLED;
    case FinishReason::kError:
      return STEMMA_FINISH_ERROR;
  }
  return STEMMA_FINISH_ERROR;
}

Status request_error(const char* fn, const std::string& error) {
  for (int c = 1; c <= static_cast<int>(StatusCode::kInternal); ++c) {
    const auto code = static_cast<StatusCode>(c);
    const std::string prefix = std::string(status_code_name(code)) + ": ";
    if (error.rfind(prefix, 0) == 0) {
      return Status(code, std::string(fn) + ": generation failed: " + error.substr(prefix.size()));
    }
  }
  return Internal(std::string(fn) + ": generation failed: " + error);
}

std::string c_safe_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\0') {
      out += "\xEF\xBF\xBD";
    } else {
      out += c;
    }
  }
  return out;
}

bool StreamBridge::deliver(std::string_view piece) {
  std::lock_guard<std::mutex> lock(mu_);
  if (cancelled_) return false;
  if (fn_ == nullptr || piece.empty()) return true;
  const std::string safe = c_safe_text(piece);
  if (fn_(user_data_, safe.c_str(), safe.size()) != 0) cancelled_ = true;
  return !cancelled_;
}

bool StreamBridge::cancelled() const {
  std::lock_guard<std::mutex> lock(mu_);
  return cancelled_;
}

}  // namespace stemma::capi
