#include "sdk/program/generate.h"

#include <algorithm>
#include <atomic>
#include <mutex>

namespace stemma::program {

Result<SamplingOptions> sampling_options(const Runtime& runtime, const GenOptions& options,
                                         size_t prompt_tokens) {
  if (options.max_tokens < 1) {
    return InvalidArgument("gen options: max_tokens must be at least 1 (got " +
                           std::to_string(options.max_tokens) + ")");
  }
  if (!options.regex.empty() && !options.json_schema.empty()) {
    return InvalidArgument("gen options: set regex or json_schema, not both");
  }
  const int64_t room =
      static_cast<int64_t>(runtime.context_length()) - static_cast<int64_t>(prompt_tokens);
  if (room < 1) {
    return OutOfRange("the prompt has " + std::to_string(prompt_tokens) +
                      " tokens, which fills the model's context of " +
                      std::to_string(runtime.context_length()) + " tokens");
  }
  SamplingOptions s;
  s.max_tokens = static_cast<int32_t>(std::min<int64_t>(options.max_tokens, room));
  s.temperature = options.temperature;
  s.top_k = options.top_k;
  s.top_p = options.top_p;
  s.min_p = options.min_p;
  s.seed = options.seed;
  s.repetition_penalty = options.repetition_penalty;
  s.frequency_penalty = options.frequency_penalty;
  s.presence_penalty = options.presence_penalty;
  s.ignore_eos = options.ignore_eos;
  s.stop_strings = options.stop;
  s.jump_forward = options.jump_forward;
  if (!options.regex.empty()) {
    auto c = runtime.engine().compile_regex(options.regex);
    if (!c.ok()) return c.status().with_context("gen options: regex");
    s.constraint = std::move(c).value();
  } else if (!options.json_schema.empty()) {
    constrain::JsonSchemaOptions jo;
    jo.whitespace = options.json_whitespace;
    auto c = runtime.engine().compile_json_schema(options.json_schema, jo);
    if (!c.ok()) return c.status().with_context("gen options: json_schema");
    s.constraint = std::move(c).value();
  }
  return s;
}

std::vector<int32_t> continuation_tokens(const Runtime& runtime, std::vector<int32_t> tokens,
                                         const std::string& text, FinishReason finish) {
  const Tokenizer& tok = runtime.tokenizer();
  if (finish == FinishReason::kStopToken) {
    while (!tokens.empty() && tok.is_control(tokens.back())) tokens.pop_back();
  }
  DecodeOptions d;
  d.skip_special = true;
  auto decoded = tok.decode(tokens, d);
  if (decoded.ok() && *decoded == text) return tokens;
  // The text ends before the tokens do (a stop string cut it) or differs from their decoding:
  // keep the longest run of tokens that spells a prefix of the text, encode the rest.
  size_t keep = tokens.size();
  std::string kept;
  while (keep > 0) {
    auto d2 = tok.decode(std::span<const int32_t>(tokens.data(), keep), d);
    if (d2.ok() && d2->size() <= text.size() && text.compare(0, d2->size(), *d2) == 0) {
      kept = std::move(d2).value();
      break;
    }
    --keep;
  }
  tokens.resize(keep);
  std::vector<int32_t> rest = runtime.encode(std::string_view(text).substr(kept.size()));
  tokens.insert(tokens.end(), rest.begin(), rest.end());
  return tokens;
}

Result<Generated> generate_with(const Runtime& runtime, std::vector<int32_t> prompt,
                                SamplingOptions options, const TextCallback& stream) {
  Engine& engine = runtime.engine();
  const int64_t prompt_len = static_cast<int64_t>(prompt.size());
  // The callback runs on the engine's thread; `cancelled` tells this thread that it was the
  // callback that ended the request.
  struct StreamState {
    std::mutex mu;
    TextCallback fn;
    bool cancelled = false;
  };
  auto state = std::make_shared<StreamState>();
  StreamCallback on_event;
  if (stream) {
    state->fn = stream;
    on_event = [state, &engine](const StreamEvent& e) {
      std::lock_guard<std::mutex> lock(state->mu);
      if (state->cancelled || e.text.empty()) return;
      if (!state->fn(e.text)) {
        state->cancelled = true;
        (void)engine.cancel(e.id);  // NotFound only if it finished meanwhile
      }
    };
  }
  auto id = engine.submit(std::move(prompt), std::move(options), std::move(on_event));
  if (!id.ok()) return id.status();
  STEMMA_ASSIGN_OR_RETURN(RequestOutput out, engine.wait(*id));
  if (out.finish == FinishReason::kError) {
    return Internal("generation failed: " + out.error);
  }
  Generated g;
  g.finish = out.finish;
  g.prompt_tokens = prompt_len;
  g.cached_tokens = out.cached_tokens;
  g.generated_tokens = static_cast<int64_t>(out.tokens.size());
  g.jump_forward_tokens = out.jump_forward_tokens;
  g.text = std::move(out.text);
  g.tokens = continuation_tokens(runtime, std::move(out.tokens), g.text, g.finish);
  return g;
}

Result<Generated> generate(const Runtime& runtime, std::vector<int32_t> prompt,
                           const GenOptions& options, const TextCallback& stream) {
  STEMMA_ASSIGN_OR_RETURN(SamplingOptions s, sampling_options(runtime, options, prompt.size()));
  return generate_with(runtime, std::move(prompt), std::move(s), stream);
}

}  // namespace stemma::program
