// stemma_gen_options_init / stemma_generate: one blocking generation with optional streaming.
#include <atomic>

#include "capi/capi_errors.h"
#include "capi/engine_core.h"
#include "capi/gen_options.h"
#include "capi/handles.h"
#include "capi/struct_versions.h"

using namespace stemma;
using namespace stemma::capi;

namespace {

// Shared between the caller's thread and the engine's worker (the stream callback).
struct GenerationState {
  explicit GenerationState(stemma_stream_fn fn, void* user_data) : bridge(fn, user_data) {}
  StreamBridge bridge;
  std::mutex mu;
  RequestId id = 0;  // 0 until submit() returned
  bool cancel_sent = false;
};

}  // namespace

extern "C" {

STEMMA_API void stemma_gen_options_init(stemma_gen_options* options) {
  init_struct(options, default_gen_options());
}

STEMMA_API stemma_status stemma_generate(stemma_engine* engine, const char* prompt,
                                         const stemma_gen_options* options, stemma_stream_fn stream,
                                         void* user_data, char** text_out,
                                         stemma_finish_reason* finish_out) {
  return guarded(__func__, [&, api = __func__]() -> Status {
    STEMMA_RETURN_IF_ERROR(check_not_null(api, "text_out", text_out));
    *text_out = nullptr;
    if (finish_out) *finish_out = STEMMA_FINISH_NONE;
    STEMMA_RETURN_IF_ERROR(check_handle(api, "engine", engine, HandleKind::kEngine));
    STEMMA_RETURN_IF_ERROR(check_text(api, "prompt", prompt));
    std::shared_ptr<EngineCore> core = engine->core;  // alive until we return
    STEMMA_ASSIGN_OR_RETURN(auto text, require_text(*core, api));
    STEMMA_ASSIGN_OR_RETURN(GenerationOptions g, to_generation_options(api, options));
    STEMMA_RETURN_IF_ERROR(options_error(api, core->engine->check(g)));
    std::vector<int32_t> ids = text->encode(prompt, /*add_special=*/true);
    if (ids.empty()) {
      return InvalidArgument(std::string(api) +
                             ": prompt is empty (the model adds no BOS token to stand for it)");
    }

    auto state = std::make_shared<GenerationState>(stream, user_data);
    Engine& eng = *core->engine;
    StreamCallback on_event;
    if (stream != nullptr) {
      // `c` outlives the request: this call holds `core` until wait() returned.
      on_event = [state, &eng, c = core.get()](const StreamEvent& e) {
        // Cancel when the caller's callback asks to, or when the engine handle was freed while
        // the callback ran (it may have been freed before this call could track the id).
        if (state->bridge.deliver(e.text) && !c->closed()) return;
        std::lock_guard<std::mutex> lock(state->mu);
        if (!state->cancel_sent) {
          state->cancel_sent = true;
          (void)eng.cancel(e.id);  // allowed from the stream callback
        }
      };
    }
    auto submitted = eng.submit(std::move(ids), std::move(g), on_event);
    if (!submitted.ok()) return submitted.status().with_context(api);
    const RequestId id = *submitted;
    // The engine handle may have been freed between submit() and here, with the request
    // already streaming: cancel_tracked() could not see its id, so cancel it now.
    const bool engine_open = core->track(id);
    {
      // The callback may have asked to cancel before the id was known here.
      std::lock_guard<std::mutex> lock(state->mu);
      state->id = id;
      if ((!engine_open || state->bridge.cancelled()) && !state->cancel_sent) {
        state->cancel_sent = true;
        (void)eng.cancel(id);
      }
    }
    auto out = eng.wait(id);
    core->untrack(id);
    if (!out.ok()) return out.status().with_context(api);
    const RequestOutput& r = out.value();
    if (finish_out) *finish_out = to_c_finish(r.finish);
    if (r.finish == FinishReason::kError) {
      return r.error.with_context(std::string(api) + ": generation failed");
    }
    STEMMA_RETURN_IF_ERROR(copy_out(api, "text_out", c_safe_text(r.text), text_out));
    if (r.finish == FinishReason::kCancelled) {
      return Cancelled(std::string(api) + (state->bridge.cancelled()
                                               ? ": the stream callback cancelled the generation"
                                               : ": the generation was cancelled (engine freed)"));
    }
    return OkStatus();
  });
}

}  // extern "C"
