// One generation request inside the scheduler: its token side (TokenSequence: tokens, sampler,
// constraint, text; the token pipeline works on it) and what the scheduler keeps: its KV pages,
// its place in the queue, its prompt logprobs.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/api/request.h"
#include "engine/kv/radix_tree.h"
#include "engine/sample/token_sequence.h"

namespace stemma::sched {

enum class RequestState { kQueued, kRunning, kFinished };

struct Request : TokenSequence {
  Request(RequestId id, std::vector<int32_t> prompt, SamplingOptions options, int64_t vocab_size)
      : TokenSequence(std::move(prompt), std::move(options), vocab_size), id(id) {}

  RequestId id;
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

  // Set when the request is finished before it samples anything (a constraint whose forced
  // start completes it); reported at the next step, or after the prompt logprobs are computed.
  FinishReason pending_finish = FinishReason::kNone;

  std::vector<float> prompt_logprobs;  // for positions [prompt_logprobs_from, ...)
  bool prompt_logprobs_sent = false;
};

}  // namespace stemma::sched
