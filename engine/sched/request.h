// One generation request inside the scheduler: its tokens, its KV pages, its sampler, its state.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/api/request.h"
#include "engine/constrain/constraint_state.h"
#include "engine/kv/radix_tree.h"
#include "engine/sample/sampler.h"
#include "engine/sample/text_stream.h"

namespace stemma {

namespace sched {

enum class RequestState { kQueued, kRunning, kFinished };

struct Request {
  Request(RequestId id, std::vector<int32_t> prompt, SamplingOptions options, int64_t vocab_size)
      : id(id), tokens(std::move(prompt)), sampler(std::move(options), vocab_size) {
    prompt_len = tokens.size();
  }

  RequestId id;
  std::vector<int32_t> tokens;  // prompt, then generated tokens
  size_t prompt_len = 0;
  Sampler sampler;
  std::vector<int32_t> stop_ids;  // sorted
  RequestState state = RequestState::kQueued;
  bool cancel_requested = false;

  // KV: pages[i] holds positions [i * page_size, (i + 1) * page_size); the first num_computed
  // positions are computed. The request holds one pool reference per page.
  std::vector<int32_t> pages;
  int32_t num_computed = 0;
  kv::RadixTree::Node* locked = nullptr;  // deepest tree node whose pages this request reads
  int32_t inserted_pages = 0;             // leading pages already offered to the tree

  uint64_t arrival = 0;      // submission order (kept across preemption)
  int64_t queued_since = 0;  // step at which it (re-)entered the queue
  int32_t preemptions = 0;
  int32_t cached_tokens = -1;  // prompt tokens served from the cache at the first admission

  // Constrained decoding: the automaton's state after each generated token (in step with
  // generated(); forced tokens included).
  std::optional<constrain::ConstraintState> constraint;
  int32_t jump_forward_tokens = 0;  // generated tokens that took no model step (net of rollback)
  // Set when the request is finished before it samples anything (a constraint whose forced
  // start completes it); reported at the next step, or after the prompt logprobs are computed.
  FinishReason pending_finish = FinishReason::kNone;

  // Streaming: decoded text with stop strings (when the scheduler has a tokenizer).
  std::unique_ptr<TextStream> text;
  size_t emitted = 0;                  // generated tokens already sent in events
  std::vector<float> logprobs;         // per generated token (when options.logprobs)
  std::vector<float> prompt_logprobs;  // for positions [prompt_logprobs_from, ...)
  bool prompt_logprobs_sent = false;

  size_t num_generated() const { return tokens.size() - prompt_len; }
  std::span<const int32_t> prompt() const { return {tokens.data(), prompt_len}; }
  std::span<const int32_t> generated() const {
    return {tokens.data() + prompt_len, tokens.size() - prompt_len};
  }
};

}  // namespace sched
}  // namespace stemma
