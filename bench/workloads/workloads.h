// The workloads of the SGLang paper (Zheng et al., 2024, "Efficiently Programming Large Language
// Models using SGLang"), at small scale and as token sequences: synthetic tokens, but the same
// sharing structure as the real programs (what is shared, by how many, in what order).
//
// A workload is a set of scripts (one user program each: a chat session, an agent run, a
// tree-of-thought search). A script is a tree of calls: a call's prompt is its parent's prompt
// and output followed by its own appended tokens, and it starts when its parent has finished
// (siblings run concurrently, as after an SGLang fork).
//
// Header-only so that the `stemma bench-workload` command and the bench program share it.
#pragma once

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "engine/api/status.h"

namespace stemma::bench {

struct Call {
  int32_t parent = -1;          // index of an earlier call of the same script, or -1
  std::vector<int32_t> append;  // tokens after the parent's prompt + output
  int32_t max_tokens = 16;
};

struct Script {
  std::vector<Call> calls;  // parents come before their children
};

struct Workload {
  std::string name;
  std::vector<Script> scripts;
  size_t num_calls() const {
    size_t n = 0;
    for (const auto& s : scripts) n += s.calls.size();
    return n;
  }
};

inline std::vector<std::string> workload_names() {
  return {"few_shot", "multi_turn", "tree_of_thought", "react", "rag", "json"};
}

class TokenSource {
 public:
  TokenSource(int64_t vocab, uint64_t seed) : vocab_(vocab), rng_(seed) {}
  std::vector<int32_t> take(size_t n) {
    std::vector<int32_t> t(n);
    // Skip the lowest ids: models reserve them for BOS/EOS/specials.
    const int64_t lo = std::min<int64_t>(8, vocab_ - 1);
    for (auto& x : t) x = static_cast<int32_t>(lo + static_cast<int64_t>(rng_() % (vocab_ - lo)));
    return t;
  }
  uint64_t next() { return rng_(); }

 private:
  int64_t vocab_;
  std::mt19937_64 rng_;
};

inline std::vector<int32_t> concat(std::initializer_list<const std::vector<int32_t>*> parts) {
  std::vector<int32_t> out;
  for (const auto* p : parts) out.insert(out.end(), p->begin(), p->end());
  return out;
}

// `num_requests` is the number of model calls, approximately (scripts are whole).
inline Result<Workload> make_workload(const std::string& name, int32_t num_requests, int64_t vocab,
                                      uint64_t seed) {
  if (num_requests < 1) return InvalidArgument("workload needs at least 1 request");
  if (vocab < 16) return InvalidArgument("workload needs a vocab of at least 16 tokens");
  TokenSource src(vocab, seed);
  Workload w;
  w.name = name;
  if (name == "few_shot") {
    // MMLU 5-shot: every question of a subject carries the same instruction and 5 examples.
    const int32_t subjects = std::max(1, num_requests / 32);
    std::vector<std::vector<int32_t>> prefixes;
    for (int32_t s = 0; s < subjects; ++s) {
      auto instruction = src.take(24);
      std::vector<int32_t> prefix = instruction;
      for (int e = 0; e < 5; ++e) {
        auto example = src.take(88);
        prefix.insert(prefix.end(), example.begin(), example.end());
      }
      prefixes.push_back(prefix);
    }
    for (int32_t i = 0; i < num_requests; ++i) {
      auto question = src.take(40);
      const auto& prefix = prefixes[src.next() % prefixes.size()];
      w.scripts.push_back({{Call{-1, concat({&prefix, &question}), 4}}});
    }
  } else if (name == "multi_turn") {
    // Chat sessions of 6 turns under one system prompt (assistant instructions, as chat
    // products ship them); each turn resends the whole history plus a short user message.
    auto system = src.take(256);
    const int32_t turns = 6;
    const int32_t sessions = std::max(1, num_requests / turns);
    for (int32_t s = 0; s < sessions; ++s) {
      Script script;
      auto first_user = src.take(32);
      script.calls.push_back(Call{-1, concat({&system, &first_user}), 24});
      for (int t = 1; t < turns; ++t) script.calls.push_back(Call{t - 1, src.take(32), 24});
      w.scripts.push_back(script);
    }
  } else if (name == "tree_of_thought") {
    // A question, a first thought, 3 branches, 2 refinements each: 10 calls that fork.
    const int32_t trees = std::max(1, num_requests / 10);
    auto instruction = src.take(64);
    for (int32_t t = 0; t < trees; ++t) {
      Script script;
      auto question = src.take(96);
      script.calls.push_back(Call{-1, concat({&instruction, &question}), 24});
      for (int b = 0; b < 3; ++b) script.calls.push_back(Call{0, src.take(8), 24});
      for (int b = 0; b < 3; ++b) {
        for (int r = 0; r < 2; ++r) script.calls.push_back(Call{1 + b, src.take(8), 16});
      }
      w.scripts.push_back(script);
    }
  } else if (name == "react") {
    // An agent: tool descriptions (shared by all runs), a task, then thought/action ->
    // observation rounds, each call extending the last.
    auto tools = src.take(256);
    const int32_t runs = std::max(1, num_requests / 5);
    for (int32_t r = 0; r < runs; ++r) {
      Script script;
      auto task = src.take(48);
      script.calls.push_back(Call{-1, concat({&tools, &task}), 24});
      for (int k = 1; k < 5; ++k) script.calls.push_back(Call{k - 1, src.take(40), 24});
      w.scripts.push_back(script);
    }
  } else if (name == "rag") {
    // Retrieval: an instruction, one of a few documents (popular ones retrieved often), a
    // question.
    auto instruction = src.take(48);
    std::vector<std::vector<int32_t>> docs;
    for (int d = 0; d < 8; ++d) docs.push_back(src.take(256));
    for (int32_t i = 0; i < num_requests; ++i) {
      // Zipf-like popularity: doc d with weight 1/(d+1).
      double total = 0;
      for (int d = 0; d < 8; ++d) total += 1.0 / (d + 1);
      double u = static_cast<double>(src.next() >> 11) * 0x1.0p-53 * total;
      int doc = 0;
      while (doc < 7 && u >= 1.0 / (doc + 1)) u -= 1.0 / (doc++ + 1);
      auto question = src.take(32);
      w.scripts.push_back(
          {{Call{-1, concat({&instruction, &docs[static_cast<size_t>(doc)], &question}), 16}}});
    }
  } else if (name == "json") {
    // Extraction into a JSON schema: a long shared instruction + schema, a unique document.
    auto instruction = src.take(160);
    for (int32_t i = 0; i < num_requests; ++i) {
      auto doc = src.take(128);
      w.scripts.push_back({{Call{-1, concat({&instruction, &doc}), 32}}});
    }
  } else {
    std::string known;
    for (const auto& n : workload_names()) known += (known.empty() ? "" : ", ") + n;
    return InvalidArgument("unknown workload '" + name + "' (known: " + known + ")");
  }
  return w;
}

// SGLang's generated-shared-prefix workload (sglang/bench_serving.py, "generated-shared-prefix"):
// `groups` system prompts of `system_len` tokens, each followed by `per_group` questions of
// `question_len` tokens, every call generating `output_len` tokens. All calls are independent
// (submitted at once); the calls of a group share their system prompt. Groups are interleaved
// (group 0's first question, group 1's first, ...), as a load generator sending them at once
// would not sort them for the server.
struct SharedPrefixSpec {
  int32_t groups = 64;
  int32_t per_group = 16;
  int32_t system_len = 2048;
  int32_t question_len = 128;
  int32_t output_len = 256;
};

inline Result<Workload> make_shared_prefix_workload(const SharedPrefixSpec& spec, int64_t vocab,
                                                    uint64_t seed) {
  if (spec.groups < 1 || spec.per_group < 1 || spec.system_len < 1 || spec.question_len < 1 ||
      spec.output_len < 1) {
    return InvalidArgument(
        "generated_shared_prefix: groups, per-group, system-len, question-len "
        "and output-len must be >= 1");
  }
  if (vocab < 16) return InvalidArgument("workload needs a vocab of at least 16 tokens");
  TokenSource src(vocab, seed);
  std::vector<std::vector<int32_t>> systems;
  for (int32_t g = 0; g < spec.groups; ++g)
    systems.push_back(src.take(static_cast<size_t>(spec.system_len)));
  Workload w;
  w.name = "generated_shared_prefix";
  for (int32_t q = 0; q < spec.per_group; ++q) {
    for (int32_t g = 0; g < spec.groups; ++g) {
      auto question = src.take(static_cast<size_t>(spec.question_len));
      w.scripts.push_back(
          {{Call{-1, concat({&systems[static_cast<size_t>(g)], &question}), spec.output_len}}});
    }
  }
  return w;
}

}  // namespace stemma::bench
