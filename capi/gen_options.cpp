#include "capi/gen_options.h"

#include <cmath>

#include "capi/capi_errors.h"
#include "capi/struct_versions.h"

namespace stemma::capi {

stemma_gen_options default_gen_options() {
  // GenerationOptions' defaults: the one set of defaults of a generation.
  const GenerationOptions d;
  stemma_gen_options o{};
  o.struct_size = sizeof(o);
  o.max_tokens = d.max_tokens;
  o.temperature = d.temperature;
  o.top_k = d.top_k;
  o.top_p = d.top_p;
  o.min_p = d.min_p;
  o.seed = d.seed;
  o.repetition_penalty = d.repetition_penalty;
  o.stop = nullptr;
  o.num_stop = 0;
  o.regex = nullptr;
  o.json_schema = nullptr;
  o.jump_forward = d.jump_forward ? 1 : 0;
  return o;
}

Status options_error(const char* fn, const Status& status) {
  if (status.ok()) return status;
  return Status(status.code(), std::string(fn) + ": options->" + status.message());
}

Result<GenerationOptions> to_generation_options(const char* fn, const stemma_gen_options* options) {
  stemma_gen_options o = default_gen_options();
  if (options != nullptr) STEMMA_RETURN_IF_ERROR(read_struct(fn, "options", options, &o));
  // What only the C struct can get wrong: NULL or non-UTF-8 text, flags that are not 0/1.
  const std::string where = std::string(fn) + ": options->";
  GenerationOptions g;
  if (o.num_stop > 0 && o.stop == nullptr) {
    return InvalidArgument(where + "stop is NULL but num_stop is " + std::to_string(o.num_stop));
  }
  for (size_t i = 0; i < o.num_stop; ++i) {
    const std::string arg = "options->stop[" + std::to_string(i) + "]";
    STEMMA_RETURN_IF_ERROR(check_text(fn, arg.c_str(), o.stop[i]));
    if (o.stop[i][0] == '\0') return InvalidArgument(std::string(fn) + ": " + arg + " is empty");
    g.stop_strings.emplace_back(o.stop[i]);
  }
  STEMMA_RETURN_IF_ERROR(check_text(fn, "options->regex", o.regex, /*nullable=*/true));
  STEMMA_RETURN_IF_ERROR(check_text(fn, "options->json_schema", o.json_schema, true));
  if (o.jump_forward != 0 && o.jump_forward != 1) {
    return InvalidArgument(where + "jump_forward is " + std::to_string(o.jump_forward) +
                           "; must be 0 or 1");
  }
  if (o.regex != nullptr && o.json_schema != nullptr) {
    return InvalidArgument(where + "regex and json_schema are both set; give at most one");
  }
  if (o.max_tokens < 1) {
    return InvalidArgument(where + "max_tokens is " + std::to_string(o.max_tokens) +
                           "; must be >= 1");
  }
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
  // The ranges (temperature, top_p, ..., NaN): checked here, not when a queued operation runs.
  STEMMA_RETURN_IF_ERROR(options_error(fn, g.validate()));
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
