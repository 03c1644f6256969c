// stemma_engine_*: opening a model into an engine, its statistics and its description.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "capi/capi_errors.h"
#include "capi/engine_core.h"
#include "capi/handles.h"
#include "capi/struct_versions.h"

using namespace stemma;
using namespace stemma::capi;

namespace stemma::capi {

EngineCore::~EngineCore() = default;

bool EngineCore::track(RequestId id) {
  std::lock_guard<std::mutex> lock(active_mu_);
  if (closed_) return false;
  active_.insert(id);
  return true;
}

void EngineCore::untrack(RequestId id) {
  std::lock_guard<std::mutex> lock(active_mu_);
  active_.erase(id);
}

void EngineCore::cancel_tracked() {
  std::lock_guard<std::mutex> lock(active_mu_);
  closed_.store(true, std::memory_order_release);
  for (RequestId id : active_) (void)engine->cancel(id);  // finished meanwhile: nothing to do
}

Result<std::shared_ptr<program::Runtime>> EngineCore::runtime(const char* function) {
  std::lock_guard<std::mutex> lock(runtime_mu_);
  if (!runtime_) {
    auto rt = program::Runtime::create(*engine);
    if (!rt.ok()) return rt.status().with_context(function);
    runtime_ = std::move(rt).value();
  }
  return runtime_;
}

Result<std::shared_ptr<const TextLayer>> require_text(const EngineCore& core,
                                                      const char* function) {
  std::shared_ptr<const TextLayer> text = core.engine->text();
  if (!text) {
    return FailedPrecondition(std::string(function) +
                              ": the model carries no tokenizer (open a GGUF file with "
                              "tokenizer.ggml.* metadata or an HF folder with tokenizer.json)");
  }
  return text;
}

}  // namespace stemma::capi

namespace {

stemma_engine_options default_engine_options() {
  stemma_engine_options o{};
  o.struct_size = sizeof(o);
  o.model_path = nullptr;
  o.threads = 0;
  o.page_size = 0;
  o.kv_memory_bytes = 0;
  o.max_batch_tokens = 0;
  o.radix_cache = 1;
  o.backend = STEMMA_BACKEND_AUTO;
  o.device = 0;
  o.gpu_kv_memory_bytes = 0;
  o.shared_prefix_attention = 1;
  return o;
}

Status to_engine_options(const char* fn, const stemma_engine_options& o, EngineOptions* out) {
  auto bad = [fn](const std::string& what) {
    return InvalidArgument(std::string(fn) + ": options->" + what);
  };
  STEMMA_RETURN_IF_ERROR(check_path(fn, "options->model_path", o.model_path));
  if (o.threads < 0) return bad("threads is " + std::to_string(o.threads) + "; must be >= 0");
  if (o.page_size < 0) return bad("page_size is " + std::to_string(o.page_size) + "; must be >= 0");
  if (o.kv_memory_bytes < 0) {
    return bad("kv_memory_bytes is " + std::to_string(o.kv_memory_bytes) + "; must be >= 0");
  }
  if (o.max_batch_tokens < 0) {
    return bad("max_batch_tokens is " + std::to_string(o.max_batch_tokens) + "; must be >= 0");
  }
  if (o.radix_cache != 0 && o.radix_cache != 1) {
    return bad("radix_cache is " + std::to_string(o.radix_cache) + "; must be 0 or 1");
  }
  if (o.backend < STEMMA_BACKEND_AUTO || o.backend > STEMMA_BACKEND_CUDA) {
    return bad("backend is " + std::to_string(o.backend) +
               "; must be STEMMA_BACKEND_AUTO (0), _CPU (1) or _CUDA (2)");
  }
  if (o.device < 0) return bad("device is " + std::to_string(o.device) + "; must be >= 0");
  if (o.gpu_kv_memory_bytes < 0) {
    return bad("gpu_kv_memory_bytes is " + std::to_string(o.gpu_kv_memory_bytes) +
               "; must be >= 0");
  }
  if (o.shared_prefix_attention != 0 && o.shared_prefix_attention != 1) {
    return bad("shared_prefix_attention is " + std::to_string(o.shared_prefix_attention) +
               "; must be 0 or 1");
  }
  out->model_path = o.model_path;
  out->backend = o.backend == STEMMA_BACKEND_CPU    ? Backend::kCpu
                 : o.backend == STEMMA_BACKEND_CUDA ? Backend::kCuda
                                                    : Backend::kAuto;
  out->device = o.device;
  out->gpu_kv_memory_bytes = o.gpu_kv_memory_bytes;
  out->shared_prefix_attention = o.shared_prefix_attention == 1;
  out->threads = o.threads;
  if (o.page_size > 0) out->page_size = o.page_size;
  if (o.kv_memory_bytes > 0) out->kv_memory_bytes = o.kv_memory_bytes;
  if (o.max_batch_tokens > 0) out->max_batch_tokens = o.max_batch_tokens;
  out->radix_cache = o.radix_cache == 1;
  return OkStatus();
}

Result<std::shared_ptr<EngineCore>> open_core(EngineOptions options) {
  auto core = std::make_shared<EngineCore>();
  STEMMA_ASSIGN_OR_RETURN(core->engine, Engine::open(std::move(options)));
  const ModelInfo& m = core->engine->model_info();
  nlohmann::json info = nlohmann::json::parse(m.json, nullptr, /*allow_exceptions=*/false);
  if (!info.is_object()) info = nlohmann::json::object();
  // The keys stemma.h promises at the top level, next to the description's nested "sizes".
  info["vocab_size"] = m.vocab_size;
  info["context_length"] = m.max_position;
  info["backend"] = m.backend;
  info["backend_note"] = m.backend_note;
  const std::shared_ptr<const TextLayer> text = core->engine->text();
  info["has_chat_template"] = text && !text->chat_template_source().empty();
  core->model_info_json = info.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return core;
}

}  // namespace

extern "C" {

STEMMA_API void stemma_engine_options_init(stemma_engine_options* options) {
  init_struct(options, default_engine_options());
}

STEMMA_API stemma_status stemma_engine_open(const stemma_engine_options* options,
                                            stemma_engine** engine_out) {
  return guarded(__func__, [&, api = __func__]() -> Status {
    STEMMA_RETURN_IF_ERROR(check_not_null(api, "engine_out", engine_out));
    *engine_out = nullptr;
    stemma_engine_options o = default_engine_options();
    STEMMA_RETURN_IF_ERROR(read_struct(api, "options", options, &o));
    EngineOptions eo;
    STEMMA_RETURN_IF_ERROR(to_engine_options(api, o, &eo));
    STEMMA_ASSIGN_OR_RETURN(std::shared_ptr<EngineCore> core, open_core(std::move(eo)));
    auto* handle = new stemma_engine{std::move(core)};
    *engine_out = register_handle(handle, HandleKind::kEngine);
    return OkStatus();
  });
}

STEMMA_API void stemma_engine_free(stemma_engine* engine) {
  guarded_void(__func__, [&, api = __func__] {
    if (engine == nullptr || !unregister_handle(engine, HandleKind::kEngine)) return;
    engine->core->cancel_tracked();
    delete engine;
  });
}

STEMMA_API void stemma_engine_stats_init(stemma_engine_stats* stats) {
  stemma_engine_stats zero{};
  zero.struct_size = sizeof(zero);
  init_struct(stats, zero);
}

STEMMA_API stemma_status stemma_engine_stats_get(const stemma_engine* engine,
                                                 stemma_engine_stats* stats) {
  return guarded(__func__, [&, api = __func__]() -> Status {
    STEMMA_RETURN_IF_ERROR(check_handle(api, "engine", engine, HandleKind::kEngine));
    STEMMA_RETURN_IF_ERROR(check_not_null(api, "stats", stats));
    const EngineStats s = engine->core->engine->stats();
    stemma_engine_stats out{};
    out.struct_size = sizeof(out);
    out.cached_tokens = s.cached_tokens;
    out.prefill_tokens = s.prefill_tokens;
    out.computed_tokens = s.computed_tokens;
    out.generated_tokens = s.generated_tokens;
    out.jump_forward_tokens = s.jump_forward_tokens;
    out.evicted_pages = s.evicted_pages;
    out.preemptions = s.preemptions;
    out.steps = s.steps;
    out.pages_in_use = s.pages_in_use;
    out.pages_total = s.pages_total;
    out.cached_pages = s.cached_pages;
    out.running = s.running;
    out.queued = s.queued;
    return write_struct(api, "stats", out, stats);
  });
}

STEMMA_API stemma_status stemma_engine_model_info(const stemma_engine* engine, char** json_out) {
  return guarded(__func__, [&, api = __func__]() -> Status {
    STEMMA_RETURN_IF_ERROR(check_not_null(api, "json_out", json_out));
    *json_out = nullptr;
    STEMMA_RETURN_IF_ERROR(check_handle(api, "engine", engine, HandleKind::kEngine));
    return copy_out(api, "json_out", engine->core->model_info_json, json_out);
  });
}

}  // extern "C"
