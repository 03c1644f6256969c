#include "engine/api/engine.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "engine/backend/cuda_backend.h"
#include "engine/constrain/vocab_loader.h"
#include "engine/constrain/vocabulary.h"
#include "engine/engine_internal.h"
#include "engine/sched/scheduler.h"
#include "engine/text_layer_access.h"

#if __has_include("engine/backend/cpu/cpu_executor.h")
#include "engine/backend/cpu/cpu_executor.h"
#define STEMMA_ENGINE_HAS_CPU 1
#endif
// The model loader's implementation lands with the model-io work; until then, paths are refused.
#if __has_include("engine/model/hf_loader.h")
#include "engine/model/model_info.h"
#define STEMMA_ENGINE_HAS_LOADER 1
#endif

namespace stemma {
namespace {

using CompiledPtr = std::shared_ptr<const constrain::CompiledConstraint>;

// The model: `model_out` receives the weights (when the engine runs them on its own executor)
// so that the caller can take the tokenizer and description they carry.
// `where` gets the backend it runs on and, for auto, why (ModelInfo::backend, backend_note).
struct BackendChoice {
  std::string backend;
  std::string note;
};

Result<std::shared_ptr<ModelExecutor>> make_executor(const EngineOptions& o, const EngineParts& p,
                                                     std::shared_ptr<const LoadedModel>* model_out,
                                                     BackendChoice* where) {
  if (o.device < 0) {
    return InvalidArgument("EngineOptions: device is " + std::to_string(o.device) +
                           "; must be >= 0");
  }
  if (o.gpu_kv_memory_bytes < 0) {
    return InvalidArgument("EngineOptions: gpu_kv_memory_bytes is " +
                           std::to_string(o.gpu_kv_memory_bytes) + "; must be >= 0");
  }
  if (p.executor) {
    where->backend = "executor";
    return p.executor;
  }
  std::shared_ptr<const LoadedModel> model = p.model;
  if (!model) {
    if (o.model_path.empty()) {
      return InvalidArgument("EngineOptions: model_path is empty");
    }
#ifdef STEMMA_ENGINE_HAS_LOADER
    STEMMA_ASSIGN_OR_RETURN(LoadedModel loaded, load_model(o.model_path));
    model = std::make_shared<const LoadedModel>(std::move(loaded));
#else
    return Unsupported("this build has no model loader; cannot open " + o.model_path);
#endif
  }
  *model_out = model;
  const ModelConfig& c = model->config;
  KvCacheShape kv;
  kv.num_layers = c.num_layers;
  kv.num_kv_heads = c.num_kv_heads;
  kv.head_dim = c.head_dim;
  kv.page_size = o.page_size;
  kv.num_pages = o.num_pages;
  // auto: the GPU when this build has the CUDA backend and a GPU answers, else the CPU.
  Backend backend = o.backend;
  if (backend == Backend::kAuto) {
    if (!cuda_backend_built()) {
      backend = Backend::kCpu;
      where->note = "auto: this build has no CUDA backend; running on the CPU";
    } else if (auto gpu = cuda_device_name(o.device); !gpu.ok()) {
      backend = Backend::kCpu;
      where->note = "auto: no usable GPU " + std::to_string(o.device) + " (" +
                    gpu.status().message() + "); running on the CPU";
    } else {
      backend = Backend::kCuda;
      where->note = "auto: GPU " + std::to_string(o.device) + " (" + *gpu + ")";
    }
  }
  where->backend = backend_name(backend);
  if (backend == Backend::kCuda) {
    CudaOptions co;
    co.device = o.device;
    co.kv_memory_bytes = o.gpu_kv_memory_bytes;
    co.shared_prefix_attention = o.shared_prefix_attention;
    STEMMA_ASSIGN_OR_RETURN(auto gpu, open_cuda_executor(model, kv, co));
    return std::shared_ptr<ModelExecutor>(std::move(gpu));
  }
  if (kv.num_pages <= 0) {
    // K and V in f32 for every layer and KV head of a page.
    const int64_t page_bytes = 2 * c.num_layers * c.num_kv_heads * c.head_dim * o.page_size * 4;
    if (page_bytes <= 0) return InvalidArgument("model config has an empty KV shape");
    kv.num_pages = o.kv_memory_bytes / page_bytes;
    if (kv.num_pages <= 0) {
      return InvalidArgument("kv_memory_bytes " + std::to_string(o.kv_memory_bytes) +
                             " holds no page of " + std::to_string(page_bytes) + " bytes");
    }
  }
#ifdef STEMMA_ENGINE_HAS_CPU
  STEMMA_ASSIGN_OR_RETURN(auto cpu, cpu::CpuExecutor::create(model, kv, o.threads));
  return std::shared_ptr<ModelExecutor>(std::move(cpu));
#else
  return Unsupported("this build has no CPU executor; pass EngineParts::executor");
#endif
}

// The vocabulary as constraints see it (control, unused and unknown tokens never come from a
// grammar); EOS = the tokenizer's EOS ids and the model's.
Result<std::shared_ptr<const constrain::TokenIndex>> build_token_index(const Tokenizer& tokenizer,
                                                                       const ModelConfig& config) {
  STEMMA_ASSIGN_OR_RETURN(constrain::Vocabulary vocab,
                          constrain::vocabulary_from_tokenizer_spec(tokenizer.spec()));
  for (int32_t id : config.eos_token_ids) {
    if (id < 0 || id >= vocab.size()) continue;
    if (std::find(vocab.eos_ids.begin(), vocab.eos_ids.end(), id) == vocab.eos_ids.end()) {
      vocab.eos_ids.push_back(id);
    }
    vocab.special[static_cast<size_t>(id)] = 0;
  }
  if (vocab.eos_ids.empty()) {
    return FailedPrecondition(
        "constraints need an EOS token and neither the model nor its tokenizer names one");
  }
  return constrain::TokenIndex::build(std::move(vocab));
}

ModelInfo describe(const ModelConfig& config, const KvCacheShape& kv, const LoadedModel* model) {
  ModelInfo info;
  info.architecture = config.arch_name;
  info.vocab_size = config.vocab_size;
  info.max_position = config.max_position;
  const int64_t pool = kv.num_pages * kv.page_size;
  info.context_length = config.max_position > 0 ? std::min(config.max_position, pool) : pool;
#ifdef STEMMA_ENGINE_HAS_LOADER
  if (model != nullptr) {
    info.json =
        model_info_json(*model).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
#else
  (void)model;
#endif
  return info;
}

}  // namespace

struct Engine::Impl {
  struct Pending {
    RequestId id;
    std::vector<int32_t> prompt;
    SamplingOptions options;
    StreamCallback callback;
  };
  struct Slot {
    RequestOutput output;
    bool done = false;
    int waiters = 0;  // threads inside wait() for it
    bool keep = true;
  };

  std::shared_ptr<ModelExecutor> executor;
  std::shared_ptr<const Tokenizer> tokenizer;
  std::shared_ptr<const TextLayer> text;
  ModelInfo model_info;
  // Declared before the scheduler, which holds it (and hands its flag to the executor).
  sched::StepInterrupt interrupt;
  std::unique_ptr<sched::Scheduler> scheduler;

  // Constraint compilation (any thread): the token index, built once, and compiled constraints
  // by source text.
  std::mutex constrain_mu;
  std::shared_ptr<const constrain::TokenIndex> token_index;
  std::unordered_map<std::string, CompiledPtr> constraints;
  Result<std::shared_ptr<const constrain::TokenIndex>> index();
  using Compile = std::function<Result<CompiledPtr>(std::shared_ptr<const constrain::TokenIndex>)>;
  Result<CompiledPtr> compile(const std::string& key, const Compile& fn);
  Result<CompiledPtr> compile_regex(std::string_view regex);
  Result<CompiledPtr> compile_json_schema(std::string_view schema,
                                          const constrain::JsonSchemaOptions& options);
  Result<CompiledPtr> compile_choices(const std::vector<std::string>& choices);

  // GenerationOptions -> the options the scheduler runs (validated, constraint compiled).
  Result<SamplingOptions> prepare(const GenerationOptions& options);
  // OutOfRange when a prompt of `prompt_len` tokens fills the model's positions.
  Status check_context(int64_t prompt_len) const;
  // Caps max_tokens to the context, validates against the prompt and queues.
  Result<RequestId> enqueue(std::vector<int32_t> prompt, SamplingOptions options,
                            StreamCallback on_event, bool keep_output);

  mutable std::mutex mu;
  std::condition_variable work_cv;  // the worker waits for input
  std::condition_variable done_cv;  // wait()/wait_idle() wait for outputs
  std::vector<Pending> inbox;
  std::vector<RequestId> cancels;
  std::unordered_map<RequestId, Slot> slots;  // every submitted, not yet collected request
  int64_t unfinished = 0;
  bool stopping = false;
  EngineStats stats;
  std::atomic<RequestId> next_id{1};
  std::thread worker;

  // Worker-only state.
  std::unordered_map<RequestId, StreamCallback> callbacks;
  std::unordered_set<RequestId> muted;  // waited for inside a callback: no more events

  void run();
  void deliver(std::vector<sched::StepEvent>& events);
  // With `mu` held: queues a cancel for the worker and, when the request is in the step in
  // flight, interrupts that step.
  void request_cancel(RequestId id) {
    cancels.push_back(id);
    interrupt.cancel(id);
  }
};

Result<std::shared_ptr<const constrain::TokenIndex>> Engine::Impl::index() {
  // Called with constrain_mu held.
  if (token_index) return token_index;
  if (!tokenizer) {
    return FailedPrecondition(
        "constrained decoding needs a tokenizer and this engine has none "
        "(the model carries none)");
  }
  STEMMA_ASSIGN_OR_RETURN(token_index, build_token_index(*tokenizer, executor->config()));
  return token_index;
}

Result<CompiledPtr> Engine::Impl::compile(const std::string& key, const Compile& fn) {
  std::shared_ptr<const constrain::TokenIndex> idx;
  {
    std::lock_guard<std::mutex> lock(constrain_mu);
    auto it = constraints.find(key);
    if (it != constraints.end()) return it->second;
    STEMMA_ASSIGN_OR_RETURN(idx, index());
  }
  // Compiling may take a while (large schemas): not under the lock. Two threads compiling the
  // same text at once both do the work; the first result is kept.
  STEMMA_ASSIGN_OR_RETURN(auto compiled, fn(std::move(idx)));
  std::lock_guard<std::mutex> lock(constrain_mu);
  if (constraints.size() >= 4096) constraints.clear();  // bound the cache; entries are shared_ptrs
  auto [it, inserted] = constraints.emplace(key, std::move(compiled));
  return it->second;
}

Result<CompiledPtr> Engine::Impl::compile_regex(std::string_view regex) {
  std::string pattern(regex);
  return compile("regex\n" + pattern, [&](std::shared_ptr<const constrain::TokenIndex> i) {
    return constrain::CompiledConstraint::from_regex(pattern, std::move(i));
  });
}

Result<CompiledPtr> Engine::Impl::compile_json_schema(std::string_view schema_json,
                                                      const constrain::JsonSchemaOptions& options) {
  std::string schema(schema_json);
  const std::string key = "schema " + options.cache_key() + "\n" + schema;
  return compile(key, [&](std::shared_ptr<const constrain::TokenIndex> i) {
    return constrain::CompiledConstraint::from_json_schema(schema, std::move(i), options);
  });
}

Result<CompiledPtr> Engine::Impl::compile_choices(const std::vector<std::string>& choices) {
  std::string key = "choices";
  for (const auto& c : choices) key += " " + std::to_string(c.size()) + ":" + c;
  return compile(key, [&](std::shared_ptr<const constrain::TokenIndex> i) {
    return constrain::CompiledConstraint::from_choices(choices, std::move(i));
  });
}

Result<SamplingOptions> Engine::Impl::prepare(const GenerationOptions& options) {
  SamplingOptions s(options);
  STEMMA_RETURN_IF_ERROR(s.validate(model_info.vocab_size));
  if (!s.stop_strings.empty() && !tokenizer) {
    return FailedPrecondition("stop_strings need a tokenizer and the engine has none");
  }
  if (!s.regex.empty()) {
    auto c = compile_regex(s.regex);
    if (!c.ok()) return c.status().with_context("regex");
    s.constraint = std::move(c).value();
  } else if (!s.json_schema.empty()) {
    constrain::JsonSchemaOptions jo;
    jo.whitespace = s.json_whitespace;
    auto c = compile_json_schema(s.json_schema, jo);
    if (!c.ok()) return c.status().with_context("json_schema");
    s.constraint = std::move(c).value();
  } else if (!s.choices.empty()) {
    auto c = compile_choices(s.choices);
    if (!c.ok()) return c.status().with_context("choices");
    s.constraint = std::move(c).value();
  }
  return s;
}

Status Engine::Impl::check_context(int64_t prompt_len) const {
  const int64_t max_position = model_info.max_position;
  if (max_position > 0 && prompt_len >= max_position) {
    return OutOfRange("the prompt has " + std::to_string(prompt_len) +
                      " tokens; the model's context holds " + std::to_string(max_position) +
                      " (prompt and output together)");
  }
  return OkStatus();
}

Result<RequestId> Engine::Impl::enqueue(std::vector<int32_t> prompt, SamplingOptions options,
                                        StreamCallback on_event, bool keep_output) {
  // The context: a prompt that fills the model's positions is refused; max_tokens is capped so
  // that prompt + output fit them and the KV pool (a prompt larger than the pool is refused by
  // the scheduler's check below, as ResourceExhausted).
  const auto prompt_len = static_cast<int64_t>(prompt.size());
  STEMMA_RETURN_IF_ERROR(check_context(prompt_len));
  const int64_t room = model_info.context_length - prompt_len;
  if (room >= 1 && options.max_tokens > room) options.max_tokens = static_cast<int32_t>(room);
  STEMMA_RETURN_IF_ERROR(scheduler->validate(prompt, options));
  const RequestId id = next_id.fetch_add(1);
  {
    std::lock_guard<std::mutex> lock(mu);
    if (stopping) return FailedPrecondition("engine is shutting down");
    Slot slot;
    slot.output.id = id;
    slot.keep = keep_output;
    slots.emplace(id, std::move(slot));
    ++unfinished;
    inbox.push_back({id, std::move(prompt), std::move(options), std::move(on_event)});
  }
  work_cv.notify_one();
  return id;
}

void Engine::Impl::deliver(std::vector<sched::StepEvent>& events) {
  for (const auto& e : events) {
    auto it = callbacks.find(e.id);
    if (it == callbacks.end() || !it->second || muted.count(e.id) > 0) continue;
    StreamEvent se;
    se.id = e.id;
    se.tokens = e.tokens;
    se.logprobs = e.logprobs;
    se.text = e.text;
    se.prompt_logprobs = e.prompt_logprobs;
    se.finish = e.finish;
    se.error = e.error;
    it->second(se);
  }
  std::lock_guard<std::mutex> lock(mu);
  for (auto& e : events) {
    if (e.finish != FinishReason::kNone) {
      callbacks.erase(e.id);
      muted.erase(e.id);
    }
    auto it = slots.find(e.id);
    if (it == slots.end()) continue;
    Slot& slot = it->second;
    slot.output.tokens.insert(slot.output.tokens.end(), e.tokens.begin(), e.tokens.end());
    slot.output.logprobs.insert(slot.output.logprobs.end(), e.logprobs.begin(), e.logprobs.end());
    slot.output.text += e.text;
    if (!e.prompt_logprobs.empty()) slot.output.prompt_logprobs = std::move(e.prompt_logprobs);
    if (e.finish != FinishReason::kNone) {
      slot.output.cached_tokens = e.cached_tokens;
      slot.output.jump_forward_tokens = e.jump_forward_tokens;
      slot.output.finish = e.finish;
      slot.output.error = std::move(e.error);
      slot.done = true;
      --unfinished;
      if (!slot.keep) slots.erase(it);
    }
  }
  done_cv.notify_all();
}

void Engine::Impl::run() {
  std::vector<Pending> new_requests;
  std::vector<RequestId> new_cancels;
  std::vector<sched::StepEvent> events;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu);
      work_cv.wait(lock, [&] {
        return stopping || !inbox.empty() || !cancels.empty() || !scheduler->idle();
      });
      if (stopping) break;
      new_requests.swap(inbox);
      new_cancels.swap(cancels);
      interrupt.take_cancels();
    }
    events.clear();
    for (auto& p : new_requests) {
      Status s = scheduler->add(p.id, std::move(p.prompt), std::move(p.options));
      if (!s.ok()) {  // validated in submit(); only an internal mismatch lands here
        events.push_back({.id = p.id, .finish = FinishReason::kError, .error = std::move(s)});
      }
      callbacks[p.id] = std::move(p.callback);
    }
    new_requests.clear();
    for (RequestId id : new_cancels) scheduler->cancel(id);
    if (!new_cancels.empty()) {
      // Reported before the next step runs (it may be a long prefill of other requests).
      scheduler->finish_cancelled(events);
      {
        std::lock_guard<std::mutex> lock(mu);
        stats = scheduler->stats();  // as of these events (wait_idle may return after them)
      }
      deliver(events);
      events.clear();
    }
    new_cancels.clear();
    scheduler->step(events);
    {
      std::lock_guard<std::mutex> lock(mu);
      stats = scheduler->stats();
    }
    deliver(events);
  }
  // Stopping: whatever did not finish is reported as cancelled to anyone waiting.
  std::lock_guard<std::mutex> lock(mu);
  for (auto& [id, slot] : slots) {
    if (!slot.done) {
      slot.done = true;
      slot.output.finish = FinishReason::kCancelled;
    }
  }
  unfinished = 0;
  done_cv.notify_all();
}

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Engine::~Engine() {
  if (!impl_) return;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->interrupt.close();  // a long step in flight is abandoned; its requests end cancelled
  impl_->work_cv.notify_all();
  if (impl_->worker.joinable()) impl_->worker.join();
  impl_->scheduler.reset();  // before the executor it points into
}

Result<std::unique_ptr<Engine>> Engine::open(EngineOptions options) {
  return internal::open_engine(std::move(options), EngineParts{});
}

Result<RequestId> Engine::submit(std::vector<int32_t> prompt, GenerationOptions options,
                                 StreamCallback on_event, bool keep_output) {
  STEMMA_ASSIGN_OR_RETURN(SamplingOptions s, impl_->prepare(options));
  return impl_->enqueue(std::move(prompt), std::move(s), std::move(on_event), keep_output);
}

Status Engine::check(const GenerationOptions& options, size_t prompt_tokens) {
  STEMMA_RETURN_IF_ERROR(impl_->prepare(options).status());
  if (prompt_tokens == 0) return OkStatus();
  STEMMA_RETURN_IF_ERROR(impl_->check_context(static_cast<int64_t>(prompt_tokens)));
  const int64_t pool =
      impl_->executor->kv_shape().num_pages * impl_->executor->kv_shape().page_size;
  if (static_cast<int64_t>(prompt_tokens) + 1 > pool) {
    return ResourceExhausted("a prompt of " + std::to_string(prompt_tokens) +
                             " tokens and one output token do not fit the KV pool of " +
                             std::to_string(pool) + " positions");
  }
  return OkStatus();
}

Status Engine::cancel(RequestId id) {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    auto it = impl_->slots.find(id);
    if (it == impl_->slots.end()) {
      return NotFound("request " + std::to_string(id) + " is unknown or already collected");
    }
    if (it->second.done) return OkStatus();
    impl_->request_cancel(id);
  }
  impl_->work_cv.notify_one();
  return OkStatus();
}

Result<RequestOutput> Engine::wait(RequestId id) {
  std::unique_lock<std::mutex> lock(impl_->mu);
  auto it = impl_->slots.find(id);
  if (it == impl_->slots.end()) {
    return NotFound("request " + std::to_string(id) + " is unknown or already collected");
  }
  if (!it->second.keep) {
    return FailedPrecondition("request " + std::to_string(id) + " was submitted without output");
  }
  if (!it->second.done && std::this_thread::get_id() == impl_->worker.get_id()) {
    // Inside a stream callback: the worker would wait for itself (issue 15 item 7). The request
    // is cancelled and its output dropped, and its callback never runs after this returns (the
    // worker-only set is ours to touch on this thread; a request still in the inbox loses it).
    if (it->second.waiters == 0) it->second.keep = false;  // else another thread collects it
    impl_->request_cancel(id);
    impl_->muted.insert(id);
    for (auto& p : impl_->inbox) {
      if (p.id == id) p.callback = nullptr;
    }
    return FailedPrecondition(
        "wait() was called inside a stream callback of this engine, on the thread that runs "
        "the requests (it would wait for itself): request " +
        std::to_string(id) + " is cancelled");
  }
  ++it->second.waiters;
  impl_->done_cv.wait(lock, [&] {
    auto f = impl_->slots.find(id);
    return f == impl_->slots.end() || f->second.done;
  });
  auto done = impl_->slots.find(id);
  if (done == impl_->slots.end()) {  // another thread waiting for it collected it first
    return NotFound("request " + std::to_string(id) + " was collected by another wait()");
  }
  --done->second.waiters;
  RequestOutput out = std::move(done->second.output);
  impl_->slots.erase(done);
  return out;
}

Result<RequestOutput> Engine::generate(std::vector<int32_t> prompt, GenerationOptions options) {
  STEMMA_ASSIGN_OR_RETURN(RequestId id, submit(std::move(prompt), std::move(options)));
  return wait(id);
}

void Engine::wait_idle() {
  // Inside a stream callback the engine cannot become idle while we wait: return at once.
  if (std::this_thread::get_id() == impl_->worker.get_id()) return;
  std::unique_lock<std::mutex> lock(impl_->mu);
  impl_->done_cv.wait(lock, [&] { return impl_->unfinished == 0; });
}

EngineStats Engine::stats() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->stats;
}

const ModelInfo& Engine::model_info() const {
  return impl_->model_info;
}

int64_t Engine::context_length() const {
  return impl_->model_info.context_length;
}

std::shared_ptr<const TextLayer> Engine::text() const {
  return impl_->text;
}

namespace internal {

struct EngineAccess {
  static Engine::Impl& impl(const Engine& e) { return *e.impl_; }
  static std::unique_ptr<Engine> make(std::unique_ptr<Engine::Impl> impl) {
    return std::unique_ptr<Engine>(new Engine(std::move(impl)));
  }
  static std::unique_ptr<Engine::Impl> new_impl() { return std::make_unique<Engine::Impl>(); }
};

Result<std::unique_ptr<Engine>> open_engine(EngineOptions options, EngineParts parts) {
  if (options.page_size < 1) return InvalidArgument("page_size must be >= 1");
  if (options.max_batch_tokens < 1) return InvalidArgument("max_batch_tokens must be >= 1");
  if (options.prefill_chunk < 1) return InvalidArgument("prefill_chunk must be >= 1");
  if (options.max_running < 1) return InvalidArgument("max_running must be >= 1");
  auto impl = EngineAccess::new_impl();
  std::shared_ptr<const LoadedModel> model;
  BackendChoice where;
  STEMMA_ASSIGN_OR_RETURN(impl->executor, make_executor(options, parts, &model, &where));
  impl->tokenizer = parts.tokenizer;
  if (!impl->tokenizer && model && model->tokenizer) {
    auto tok = Tokenizer::create(*model->tokenizer);
    if (!tok.ok()) return tok.status().with_context("the model's tokenizer");
    impl->tokenizer = std::shared_ptr<const Tokenizer>(std::move(tok).value());
  }
  if (impl->tokenizer) impl->text = TextLayerAccess::create(impl->tokenizer);
  const KvCacheShape& kv = impl->executor->kv_shape();
  if (kv.page_size < 1 || kv.num_pages < 1) {
    return InvalidArgument("executor KV shape has " + std::to_string(kv.num_pages) + " pages of " +
                           std::to_string(kv.page_size));
  }
  if (impl->executor->config().vocab_size < 1) return InvalidArgument("model has an empty vocab");
  impl->model_info = describe(impl->executor->config(), kv, model.get());
  impl->model_info.backend = std::move(where.backend);
  impl->model_info.backend_note = std::move(where.note);
  sched::SchedulerOptions so;
  so.max_batch_tokens = options.max_batch_tokens;
  so.prefill_chunk = options.prefill_chunk;
  so.max_running = options.max_running;
  so.radix_cache = options.radix_cache;
  so.cache_aware_order = options.cache_aware_order;
  so.max_wait_steps = options.max_wait_steps;
  so.tokenizer = impl->tokenizer.get();
  if (parts.step_interrupt) so.interrupt = &impl->interrupt;
  impl->scheduler = std::make_unique<sched::Scheduler>(*impl->executor, so);
  impl->stats.pages_total = static_cast<int32_t>(kv.num_pages);
  auto* raw = impl.get();
  impl->worker = std::thread([raw] { raw->run(); });
  return EngineAccess::make(std::move(impl));
}

Result<RequestId> submit(Engine& engine, std::vector<int32_t> prompt, SamplingOptions options,
                         StreamCallback on_event, bool keep_output) {
  return EngineAccess::impl(engine).enqueue(std::move(prompt), std::move(options),
                                            std::move(on_event), keep_output);
}

Result<RequestOutput> generate(Engine& engine, std::vector<int32_t> prompt,
                               SamplingOptions options) {
  STEMMA_ASSIGN_OR_RETURN(RequestId id, submit(engine, std::move(prompt), std::move(options)));
  return engine.wait(id);
}

Result<CompiledPtr> compile_regex(Engine& engine, std::string_view regex) {
  return EngineAccess::impl(engine).compile_regex(regex);
}

Result<CompiledPtr> compile_json_schema(Engine& engine, std::string_view schema_json,
                                        const constrain::JsonSchemaOptions& options) {
  return EngineAccess::impl(engine).compile_json_schema(schema_json, options);
}

Result<CompiledPtr> compile_choices(Engine& engine, const std::vector<std::string>& choices) {
  return EngineAccess::impl(engine).compile_choices(choices);
}

const Tokenizer* tokenizer(const Engine& engine) {
  return EngineAccess::impl(engine).tokenizer.get();
}

const Tokenizer& tokenizer(const TextLayer& text) {
  return TextLayerAccess::tokenizer(text);
}

const ModelConfig& config(const Engine& engine) {
  return EngineAccess::impl(engine).executor->config();
}

const KvCacheShape& kv_shape(const Engine& engine) {
  return EngineAccess::impl(engine).executor->kv_shape();
}

}  // namespace internal
}  // namespace stemma
