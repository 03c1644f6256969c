#include "engine/sched/scheduler.h"

#include <algorithm>
#include <limits>
#include <string>

#include "engine/attn/shared_pages.h"
#include "engine/sample/sampler.h"

namespace stemma::sched {
namespace {

int32_t pages_for(int64_t positions, int32_t page_size) {
  return static_cast<int32_t>((positions + page_size - 1) / page_size);
}

size_t common_prefix(std::span<const int32_t> a, std::span<const int32_t> b) {
  size_t n = std::min(a.size(), b.size());
  size_t k = 0;
  while (k < n && a[k] == b[k]) ++k;
  return k;
}

}  // namespace

Scheduler::Scheduler(ModelExecutor& executor, SchedulerOptions options)
    : executor_(executor),
      options_(options),
      page_size_(static_cast<int32_t>(std::max<int64_t>(1, executor.kv_shape().page_size))),
      vocab_size_(executor.config().vocab_size),
      pool_(static_cast<int32_t>(executor.kv_shape().num_pages)),
      pipeline_(options.tokenizer, executor.config().eos_token_ids) {
  options_.max_batch_tokens = std::max(1, options_.max_batch_tokens);
  options_.prefill_chunk = std::max(1, options_.prefill_chunk);
  options_.max_running = std::max(1, options_.max_running);
  options_.order_window = std::max(1, options_.order_window);
  if (options_.radix_cache) tree_ = std::make_unique<kv::RadixTree>(pool_, page_size_);
  if (options_.interrupt != nullptr) executor_.set_interrupt(options_.interrupt->flag());
}

Scheduler::~Scheduler() {
  if (options_.interrupt != nullptr) executor_.set_interrupt(nullptr);
  for (Request* r : running_) release_kv(*r);
}

Status Scheduler::validate(std::span<const int32_t> prompt, const SamplingOptions& options) const {
  if (prompt.empty()) return InvalidArgument("empty prompt");
  for (size_t i = 0; i < prompt.size(); ++i) {
    if (prompt[i] < 0 || prompt[i] >= vocab_size_) {
      return InvalidArgument("prompt token " + std::to_string(prompt[i]) + " at index " +
                             std::to_string(i) + " is outside the vocab of " +
                             std::to_string(vocab_size_));
    }
  }
  STEMMA_RETURN_IF_ERROR(options.validate(vocab_size_));
  if (!options.stop_strings.empty() && options_.tokenizer == nullptr) {
    return FailedPrecondition("stop_strings need a tokenizer and the engine has none");
  }
  if (options.prompt_logprobs_from >= static_cast<int64_t>(prompt.size())) {
    return InvalidArgument("prompt_logprobs_from " + std::to_string(options.prompt_logprobs_from) +
                           " is not inside the prompt of " + std::to_string(prompt.size()) +
                           " tokens");
  }
  const int64_t positions = static_cast<int64_t>(prompt.size()) + options.max_tokens;
  const int32_t needed = pages_for(positions, page_size_);
  if (needed > pool_.num_pages()) {
    return ResourceExhausted(std::to_string(positions) + " positions need " +
                             std::to_string(needed) + " KV pages, the pool has " +
                             std::to_string(pool_.num_pages()));
  }
  return OkStatus();
}

Status Scheduler::add(RequestId id, std::vector<int32_t> prompt, SamplingOptions options) {
  STEMMA_RETURN_IF_ERROR(validate(prompt, options).with_context("request " + std::to_string(id)));
  if (requests_.count(id) != 0) {
    return InvalidArgument("request id " + std::to_string(id) + " is already in use");
  }
  auto r = std::make_unique<Request>(id, std::move(prompt), std::move(options), vocab_size_);
  const TokenOutcome started = pipeline_.start(*r);
  stats_.jump_forward_tokens += started.jump_forward;
  r->pending_finish = started.finish;
  r->arrival = next_arrival_++;
  r->queued_since = step_index_;
  queue_.push_back(r.get());
  requests_.emplace(id, std::move(r));
  return OkStatus();
}

bool Scheduler::cancel(RequestId id) {
  auto it = requests_.find(id);
  if (it == requests_.end()) return false;
  it->second->cancel_requested = true;
  return true;
}

int32_t Scheduler::available_pages() const {
  return pool_.num_free() + (tree_ ? tree_->num_evictable_pages() : 0);
}

bool Scheduler::allocate(int32_t count, std::vector<int32_t>& out) {
  if (count <= 0) return true;
  if (pool_.num_free() < count && tree_) tree_->evict(count - pool_.num_free());
  return pool_.allocate(count, out);
}

bool Scheduler::ensure_pages(Request& r, int32_t n) {
  const int32_t need = pages_for(static_cast<int64_t>(r.num_computed) + n, page_size_) -
                       static_cast<int32_t>(r.pages.size());
  return allocate(need, r.pages);
}

void Scheduler::cache_computed_pages(Request& r) {
  if (!tree_) return;
  const int32_t full = r.num_computed / page_size_;
  if (full <= r.inserted_pages) return;
  const size_t num_tokens = static_cast<size_t>(full) * page_size_;
  auto ins = tree_->insert(std::span<const int32_t>(r.tokens.data(), num_tokens),
                           std::span<const int32_t>(r.pages.data(), static_cast<size_t>(full)));
  if (!ins.ok()) return;  // cannot happen with whole pages; the request keeps its own pages
  // Where the tree already had these tokens, read its pages (same contents) and free ours.
  for (int32_t i = 0; i < full; ++i) {
    if (ins->pages[i] != r.pages[i]) {
      (void)pool_.retain(ins->pages[i]);
      (void)pool_.release(r.pages[i]);
      r.pages[i] = ins->pages[i];
    }
  }
  tree_->lock(ins->node);
  if (r.locked != nullptr) tree_->unlock(r.locked);
  r.locked = ins->node;
  r.inserted_pages = full;
}

void Scheduler::cache_tail_page(Request& r) {
  if (!tree_ || r.num_computed % page_size_ == 0) return;
  const size_t last = static_cast<size_t>(r.num_computed / page_size_);
  if (last >= r.pages.size()) return;
  (void)tree_->insert_tail(
      std::span<const int32_t>(r.tokens.data(), static_cast<size_t>(r.num_computed)),
      r.pages[last]);
}

void Scheduler::release_kv(Request& r) {
  if (tree_ && r.locked != nullptr) tree_->unlock(r.locked);
  r.locked = nullptr;
  for (int32_t page : r.pages) (void)pool_.release(page);
  r.pages.clear();
  r.num_computed = 0;
  r.inserted_pages = 0;
}

void Scheduler::preempt(Request& r) {
  cache_computed_pages(r);  // what it computed stays cached: its recompute is likely a hit
  cache_tail_page(r);
  release_kv(r);
  std::erase(running_, &r);
  r.state = RequestState::kQueued;
  r.queued_since = step_index_;
  ++r.preemptions;
  ++stats_.preemptions;
  queue_.push_front(&r);
}

void Scheduler::finish(Request& r, FinishReason reason, Status error,
                       std::vector<StepEvent>& events) {
  if (r.state == RequestState::kRunning) {
    cache_computed_pages(r);
    cache_tail_page(r);
    release_kv(r);
    std::erase(running_, &r);
  } else {
    std::erase(queue_, &r);
  }
  r.state = RequestState::kFinished;
  if (events.empty() || events.back().id != r.id || events.back().finish != FinishReason::kNone) {
    events.push_back(make_event(r));  // with any tokens not sent yet (a forced start)
  }
  StepEvent& ev = events.back();
  ev.finish = reason;
  ev.error = std::move(error);
  ev.text += pipeline_.flush(r);
  if (!r.prompt_logprobs_sent && !r.prompt_logprobs.empty()) {
    ev.prompt_logprobs = std::move(r.prompt_logprobs);
  }
  ev.cached_tokens = std::max(0, r.cached_tokens);
  ev.jump_forward_tokens = r.jump_forward_tokens;
  requests_.erase(r.id);  // destroys r
}

StepEvent Scheduler::make_event(Request& r) {
  StepEvent ev;
  ev.id = r.id;
  pipeline_.emit(r, &ev.tokens, &ev.logprobs, &ev.text);  // detokenize
  if (!r.prompt_logprobs_sent && next_prompt_row(r) < 0 && r.options().prompt_logprobs_from >= 1) {
    ev.prompt_logprobs = std::move(r.prompt_logprobs);
    r.prompt_logprobs.clear();
    r.prompt_logprobs_sent = true;
  }
  return ev;
}

int64_t Scheduler::next_prompt_row(const Request& r) const {
  const int64_t from = r.options().prompt_logprobs_from;
  if (from < 1) return -1;
  const int64_t next = from + static_cast<int64_t>(r.prompt_logprobs.size());
  if (r.prompt_logprobs_sent || next >= static_cast<int64_t>(r.prompt_len)) return -1;
  return next - 1;  // the row at position p predicts token p + 1
}

size_t Scheduler::cache_limit(const Request& r) const {
  size_t limit = r.tokens.size() - 1;  // the last token is always computed (for logits)
  const int64_t row = next_prompt_row(r);
  if (row >= 0) limit = std::min(limit, static_cast<size_t>(row));
  return limit;
}

int32_t Scheduler::chunk_size(const Request& r, int32_t n) const {
  const int64_t row = next_prompt_row(r);
  // Stop a chunk where the needed rows begin, so that only those rows get logits.
  if (row > r.num_computed) n = static_cast<int32_t>(std::min<int64_t>(n, row - r.num_computed));
  return n;
}

std::vector<Request*> Scheduler::admission_order() {
  std::vector<Request*> window;
  for (Request* r : queue_) {
    if (window.size() >= static_cast<size_t>(options_.order_window)) break;
    window.push_back(r);
  }
  if (!options_.cache_aware_order || !tree_) return window;
  struct Ranked {
    Request* r;
    bool starving;
    int32_t cached;
  };
  std::vector<Ranked> ranked;
  ranked.reserve(window.size());
  for (Request* r : window) {
    const bool starving = step_index_ - r->queued_since > options_.max_wait_steps;
    const int32_t cached =
        tree_->match_length(std::span<const int32_t>(r->tokens.data(), cache_limit(*r)));
    ranked.push_back({r, starving, cached});
  }
  std::stable_sort(ranked.begin(), ranked.end(), [](const Ranked& a, const Ranked& b) {
    if (a.starving != b.starving) return a.starving;
    if (a.starving) return a.r->arrival < b.r->arrival;
    if (a.cached != b.cached) return a.cached > b.cached;
    return a.r->arrival < b.r->arrival;
  });
  for (size_t i = 0; i < ranked.size(); ++i) window[i] = ranked[i].r;
  return window;
}

bool Scheduler::should_defer(const Request& r, int32_t cached) const {
  if (!tree_ || step_index_ - r.queued_since > options_.max_wait_steps) return false;
  std::span<const int32_t> mine(r.tokens.data(), cache_limit(r));
  for (const Request* q : running_) {
    const size_t shared = common_prefix(mine, q->tokens);
    // q will compute (and cache) those tokens soon: reuse them rather than compute them twice.
    if (shared >= static_cast<size_t>(cached + page_size_) &&
        static_cast<size_t>(q->num_computed) < shared) {
      return true;
    }
  }
  return false;
}

bool Scheduler::admit(Request& r, int32_t& budget, Plan& plan) {
  const size_t limit = cache_limit(r);
  if (tree_) {
    auto m = tree_->match(std::span<const int32_t>(r.tokens.data(), limit));
    const int32_t cached = static_cast<int32_t>(m.pages.size()) * page_size_ + m.partial_tokens;
    const int32_t n0 = std::min<int32_t>(
        {static_cast<int32_t>(r.tokens.size()) - cached, options_.prefill_chunk, budget});
    // (n0 only sizes the page check; the chunk itself is computed below.)
    const int32_t fresh = pages_for(cached + n0, page_size_) - static_cast<int32_t>(m.pages.size());
    tree_->lock(m.node);
    // Keep one page per running request in reserve so that admitting does not at once force
    // a preemption in the next decode step.
    if (available_pages() < fresh + static_cast<int32_t>(running_.size())) {
      tree_->unlock(m.node);
      return false;
    }
    r.locked = m.node;
    for (int32_t page : m.pages) (void)pool_.retain(page);
    r.pages = m.pages;
    r.inserted_pages = static_cast<int32_t>(m.pages.size());
    r.num_computed = static_cast<int32_t>(m.pages.size()) * page_size_;
    if (m.partial_tokens > 0) {
      // Copy-on-write of the partly matching page: its first slots are ours to reuse, the rest
      // belongs to another sequence.
      (void)pool_.retain(m.partial_page);  // eviction during allocate must not free the source
      std::vector<int32_t> fresh_page;
      if (allocate(1, fresh_page)) {
        if (executor_.copy_page(m.partial_page, fresh_page[0], m.partial_tokens).ok()) {
          r.pages.push_back(fresh_page[0]);
          r.num_computed += m.partial_tokens;
        } else {
          (void)pool_.release(fresh_page[0]);
        }
      }
      (void)pool_.release(m.partial_page);
    }
  } else {
    const int32_t n0 =
        std::min<int32_t>({static_cast<int32_t>(r.tokens.size()), options_.prefill_chunk, budget});
    if (available_pages() < pages_for(n0, page_size_) + static_cast<int32_t>(running_.size())) {
      return false;
    }
  }
  const int32_t remaining = static_cast<int32_t>(r.tokens.size()) - r.num_computed;
  const int32_t n = chunk_size(r, std::min({remaining, options_.prefill_chunk, budget}));
  if (!ensure_pages(r, n)) {
    release_kv(r);
    return false;
  }
  const int32_t cached_prompt =
      static_cast<int32_t>(std::min<int64_t>(r.num_computed, static_cast<int64_t>(r.prompt_len)));
  stats_.cached_tokens += cached_prompt;
  if (r.cached_tokens < 0) r.cached_tokens = cached_prompt;
  r.state = RequestState::kRunning;
  running_.push_back(&r);
  plan.emplace_back(&r, n);
  budget -= n;
  return true;
}

void Scheduler::step(std::vector<StepEvent>& events) {
  ++step_index_;
  finish_early(events);
  Plan plan;
  int32_t budget = options_.max_batch_tokens;
  schedule_running(plan, budget, events);
  admit_queued(plan, budget);
  if (plan.empty()) return;
  std::vector<SequenceStep> batch;
  if (options_.interrupt != nullptr) {  // a cancel of one of these abandons the step
    std::vector<RequestId> ids;
    for (const auto& [r, n] : plan) ids.push_back(r->id);
    options_.interrupt->begin_step(ids);
  }
  const bool ran = run_forward(plan, batch, events);
  if (options_.interrupt != nullptr) options_.interrupt->end_step();
  if (!ran) return;
  ++stats_.steps;
  const size_t vocab = static_cast<size_t>(vocab_size_);
  size_t row_base = 0;
  size_t picked_base = 0;
  for (size_t k = 0; k < plan.size(); ++k) {
    const bool all_rows = batch[k].all_logits;
    float* rows = logits_.data() + row_base * vocab;
    const int32_t* picked = batch[k].argmax_only ? &argmax_[picked_base++] : nullptr;
    if (picked == nullptr) row_base += all_rows ? static_cast<size_t>(plan[k].second) : 1;
    advance(*plan[k].first, plan[k].second, all_rows, rows, picked, events);
  }
}

void Scheduler::finish_cancelled(std::vector<StepEvent>& events) {
  std::vector<Request*> cancelled;
  for (auto& [id, r] : requests_) {
    if (r->cancel_requested) cancelled.push_back(r.get());
  }
  for (Request* r : cancelled) finish(*r, FinishReason::kCancelled, OkStatus(), events);
}

void Scheduler::finish_early(std::vector<StepEvent>& events) {
  finish_cancelled(events);
  // Requests a forced start already finished need no model step (unless prompt logprobs do).
  std::vector<Request*> done;
  for (auto& [id, r] : requests_) {
    if (r->pending_finish != FinishReason::kNone && r->state == RequestState::kQueued &&
        next_prompt_row(*r) < 0) {
      done.push_back(r.get());
    }
  }
  for (Request* r : done) finish(*r, r->pending_finish, OkStatus(), events);
}

void Scheduler::schedule_running(Plan& plan, int32_t& budget, std::vector<StepEvent>& events) {
  for (size_t i = 0; i < running_.size() && budget > 0; ++i) {
    Request& r = *running_[i];
    const int32_t remaining = static_cast<int32_t>(r.tokens.size()) - r.num_computed;
    const int32_t n = chunk_size(r, std::min({remaining, options_.prefill_chunk, budget}));
    bool ok = ensure_pages(r, n);
    while (!ok && running_.size() > i + 1) {
      preempt(*running_.back());  // the most recently admitted other request
      ok = ensure_pages(r, n);
    }
    if (!ok) {
      if (i == 0) {
        // Alone and still short: add() makes this impossible; fail the request, not the engine.
        finish(r, FinishReason::kError, ResourceExhausted("KV pool exhausted"), events);
      } else {
        preempt(r);
      }
      break;  // r was the last running request
    }
    plan.emplace_back(&r, n);
    budget -= n;
  }
}

void Scheduler::admit_queued(Plan& plan, int32_t& budget) {
  if (budget <= 0 || queue_.empty() ||
      running_.size() >= static_cast<size_t>(options_.max_running)) {
    return;
  }
  bool admitted_any = false;
  for (Request* r : admission_order()) {
    if (budget <= 0 || running_.size() >= static_cast<size_t>(options_.max_running)) break;
    if (r->cancel_requested) continue;
    if (tree_) {
      const int32_t cached =
          tree_->match_length(std::span<const int32_t>(r->tokens.data(), cache_limit(*r)));
      if (should_defer(*r, cached)) continue;
    }
    if (!admit(*r, budget, plan)) break;
    admitted_any = true;
  }
  if (admitted_any) {
    std::erase_if(queue_, [](const Request* r) { return r->state == RequestState::kRunning; });
  }
}

bool Scheduler::run_forward(const Plan& plan, std::vector<SequenceStep>& batch,
                            std::vector<StepEvent>& events) {
  batch.reserve(plan.size());
  // Which cached segments the batch shares: requests that matched a prefix in the tree hold
  // that node's pages, so equal pages at equal positions are shared nodes (attn/shared_pages.h).
  std::vector<attn::SequencePages> shared_input;
  shared_input.reserve(plan.size());
  int32_t query_row = 0;
  size_t expected_rows = 0;
  size_t expected_picks = 0;
  const bool device_argmax = executor_.supports_argmax_rows();
  for (const auto& [r, n] : plan) {
    SequenceStep s;
    s.tokens = std::span<const int32_t>(r->tokens.data() + r->num_computed, static_cast<size_t>(n));
    s.past_len = r->num_computed;
    s.pages = std::span<const int32_t>(
        r->pages.data(), static_cast<size_t>(pages_for(r->num_computed + n, page_size_)));
    const int64_t row = next_prompt_row(*r);
    s.all_logits = row >= 0 && row <= r->num_computed;  // chunk_size() starts it at the row
    // A row nobody samples from (a prefill chunk before the prompt's end, or a request a forced
    // start finished), or a plain greedy pick: its argmax is all that is needed.
    const bool row_unused = static_cast<size_t>(r->num_computed + n) < r->tokens.size() ||
                            r->pending_finish != FinishReason::kNone;
    s.argmax_only =
        device_argmax && !s.all_logits && (row_unused || TokenPipeline::argmax_picks(*r));
    expected_rows += s.all_logits ? static_cast<size_t>(n) : (s.argmax_only ? 0 : 1);
    expected_picks += s.argmax_only ? 1 : 0;
    batch.push_back(s);
    shared_input.push_back({s.pages, r->num_computed + n, n, query_row});
    query_row += n;
  }
  const attn::BatchSegments shared = attn::group_shared_pages(shared_input, page_size_);
  logits_.clear();
  argmax_.clear();
  Status status = executor_.forward(batch, &shared, logits_, argmax_);
  if (status.ok() && logits_.size() != expected_rows * static_cast<size_t>(vocab_size_)) {
    status = Internal("executor returned " + std::to_string(logits_.size()) + " logits for " +
                      std::to_string(expected_rows) + " rows of " + std::to_string(vocab_size_));
  }
  if (status.code() == StatusCode::kCancelled && options_.interrupt != nullptr &&
      options_.interrupt->raised()) {
    ++stats_.interrupted_steps;  // abandoned for a cancel: the requests run it again
    return false;
  }
  if (status.ok() && argmax_.size() != expected_picks) {
    status = Internal("executor returned " + std::to_string(argmax_.size()) + " argmax ids for " +
                      std::to_string(expected_picks) + " argmax rows");
  }
  if (!status.ok()) {
    for (const auto& [r, n] : plan) finish(*r, FinishReason::kError, status, events);
    return false;
  }
  return true;
}

void Scheduler::advance(Request& r, int32_t n, bool all_rows, float* rows, const int32_t* picked,
                        std::vector<StepEvent>& events) {
  const size_t vocab = static_cast<size_t>(vocab_size_);
  const int32_t start = r.num_computed;
  const int64_t prompt_end = static_cast<int64_t>(r.prompt_len);
  stats_.prefill_tokens += std::max<int64_t>(0, std::min<int64_t>(start + n, prompt_end) - start);
  stats_.computed_tokens += n;
  r.num_computed += n;
  if (all_rows) {
    for (int32_t i = 0; i < n; ++i) {
      const int64_t pos = start + i;
      if (next_prompt_row(r) != pos) continue;
      std::span<const float> row(rows + static_cast<size_t>(i) * vocab, vocab);
      r.prompt_logprobs.push_back(
          sampling::log_softmax_at(row, r.tokens[static_cast<size_t>(pos) + 1]));
    }
  }
  if (static_cast<size_t>(r.num_computed) < r.tokens.size()) {
    cache_computed_pages(r);  // a prefill chunk: its full pages are shareable now
    return;
  }
  if (r.pending_finish != FinishReason::kNone) {  // finished by its forced start
    finish(r, r.pending_finish, OkStatus(), events);
    return;
  }
  // The token pipeline edits its row in place (the last one); rows are not reused afterwards.
  TokenOutcome t;
  if (picked != nullptr) {
    t = pipeline_.next_picked(r, *picked, static_cast<size_t>(r.num_computed));
  } else {
    const size_t last = all_rows ? static_cast<size_t>(n) - 1 : 0;
    std::span<float> row(rows + last * vocab, vocab);
    t = pipeline_.next(r, row, static_cast<size_t>(r.num_computed));
  }
  if (t.sampled) ++stats_.generated_tokens;
  stats_.jump_forward_tokens += t.jump_forward;
  if (!t.error.ok()) {
    finish(r, FinishReason::kError, std::move(t.error), events);
    return;
  }
  events.push_back(make_event(r));
  if (pipeline_.stopped_by_text(r)) t.finish = FinishReason::kStopString;
  if (t.finish != FinishReason::kNone) {
    finish(r, t.finish, OkStatus(), events);
  } else {
    cache_computed_pages(r);
  }
}

EngineStats Scheduler::stats() const {
  EngineStats s = stats_;
  s.evicted_pages = tree_ ? tree_->num_evicted_pages() : 0;
  s.pages_in_use = pool_.num_used();
  s.pages_total = pool_.num_pages();
  s.cached_pages = tree_ ? tree_->num_cached_pages() : 0;
  s.running = static_cast<int32_t>(running_.size());
  s.queued = static_cast<int32_t>(queue_.size());
  return s;
}

void Scheduler::clear_cache() {
  if (tree_) tree_->evict(std::numeric_limits<int32_t>::max());
}

Status Scheduler::check_invariants() const {
  std::vector<int32_t> holders(static_cast<size_t>(pool_.num_pages()), 0);
  for (const Request* r : running_) {
    for (int32_t p : r->pages) ++holders[static_cast<size_t>(p)];
    if (pages_for(r->num_computed, page_size_) > static_cast<int32_t>(r->pages.size())) {
      return Internal("request " + std::to_string(r->id) + " computed past its pages");
    }
  }
  for (const Request* r : queue_) {
    if (!r->pages.empty())
      return Internal("queued request " + std::to_string(r->id) + " holds pages");
  }
  if (tree_) {
    STEMMA_RETURN_IF_ERROR(tree_->check_invariants());
    for (int32_t p : tree_->cached_pages()) ++holders[static_cast<size_t>(p)];
  }
  for (int32_t p = 0; p < pool_.num_pages(); ++p) {
    if (pool_.ref_count(p) != holders[static_cast<size_t>(p)]) {
      return Internal("page " + std::to_string(p) + " has " + std::to_string(pool_.ref_count(p)) +
                      " references but " + std::to_string(holders[static_cast<size_t>(p)]) +
                      " holders");
    }
  }
  return OkStatus();
}

}  // namespace stemma::sched
