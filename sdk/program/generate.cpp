#include "sdk/program/generate.h"

#include <algorithm>
#include <atomic>
#include <mutex>

namespace stemma::program {

std::vector<int32_t> continuation_tokens(const Runtime& runtime, std::vector<int32_t> tokens,
                                         const std::string& text, FinishReason finish) {
  const TextLayer& tok = runtime.text();
  if (finish == FinishReason::kStopToken) {
    while (!tokens.empty() && tok.is_control(tokens.back())) tokens.pop_back();
  }
  auto decoded = tok.decode(tokens, /*skip_special=*/true);
  if (decoded.ok() && *decoded == text) return tokens;
  // The text ends before the tokens do (a stop string cut it) or differs from their decoding:
  // keep the longest run of tokens that spells a prefix of the text, encode the rest.
  size_t keep = tokens.size();
  std::string kept;
  while (keep > 0) {
    auto d2 = tok.decode(std::span<const int32_t>(tokens.data(), keep), /*skip_special=*/true);
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

Result<Generated> generate(const Runtime& runtime, std::vector<int32_t> prompt,
                           const GenerationOptions& options, const TextCallback& stream) {
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
  auto id = engine.submit(std::move(prompt), options, std::move(on_event));
  if (!id.ok()) return id.status();
  STEMMA_ASSIGN_OR_RETURN(RequestOutput out, engine.wait(*id));
  if (out.finish == FinishReason::kError) return out.error.with_context("generation failed");
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

}  // namespace stemma::program
