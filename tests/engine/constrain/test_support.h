// Shared helpers for the constrain tests: fixtures, vocabularies, a random "model".
#pragma once

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "engine/constrain/compiled_constraint.h"
#include "engine/constrain/constraint_state.h"
#include "engine/constrain/jump_forward.h"
#include "engine/constrain/longest_match_encoder.h"
#include "engine/constrain/vocab_loader.h"

namespace stemma::constrain::testing {

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::string fixtures_dir() {
  return std::string(STEMMA_FIXTURES_DIR) + "/constrain";
}

inline std::vector<std::string> schema_files() {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(fixtures_dir() + "/schemas")) {
    if (e.path().extension() == ".json") out.push_back(e.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// A small vocabulary: every single byte, plus multi-byte pieces typical of JSON text, plus a
// special token and an EOS. Big enough to exercise multi-byte tokens crossing structure.
inline std::shared_ptr<const TokenIndex> synthetic_index() {
  Vocabulary v;
  for (int b = 0; b < 256; ++b) v.tokens.push_back(std::string(1, static_cast<char>(b)));
  const char* pieces[] = {
      "{\"",     "\":\"",   "\",\"",    "\"}",   "\":",   ",\"",      "\"},",  "[{",   "}]",
      "\"]",     "[\"",     "true",     "false", "null",  "name",     "id",    "type", "value",
      "status",  "date",    "time",     "email", "\":[",  "],\"",     "00",    "12",   "20",
      "-0",      "T1",      ":0",       "Z\"",   "@ex",   ".com",     " the",  " a",   "é",
      "中文",    "\\n",     "\\\"",     "\\u00", "1.5",   "e+",       "}}",    "]]",   "\":{\"",
      "\":true", "\":null", "\":false", "kind",  "label", "children", "items", "co"};
  for (const char* p : pieces) v.tokens.push_back(p);
  v.tokens.push_back("<|special|>");
  v.tokens.push_back("<|eos|>");
  v.special.assign(v.tokens.size(), 0);
  v.special[v.tokens.size() - 2] = 1;
  v.eos_ids.push_back(static_cast<int32_t>(v.tokens.size() - 1));
  return TokenIndex::build(std::move(v)).value();
}

// The real vocabulary under .assets/tokenizers/<name>/tokenizer.json, or nullptr if absent.
inline std::shared_ptr<const TokenIndex> real_index(const std::string& name) {
  static std::map<std::string, std::shared_ptr<const TokenIndex>> cache;
  auto it = cache.find(name);
  if (it != cache.end()) return it->second;
  std::string path = std::string(STEMMA_ASSETS_DIR) + "/tokenizers/" + name + "/tokenizer.json";
  std::shared_ptr<const TokenIndex> index;
  if (std::filesystem::exists(path)) {
    auto v = load_vocabulary_from_tokenizer_json(path);
    if (v.ok()) index = TokenIndex::build(std::move(*v)).value();
  }
  cache[name] = index;
  return index;
}

// Bytes from each DFA state to the nearest accepting state.
inline std::vector<int32_t> distance_to_accept(const Dfa& dfa) {
  const int32_t n = dfa.num_states();
  std::vector<int32_t> dist(n, -1);
  std::vector<std::vector<int32_t>> rev(n);
  for (int32_t s = 0; s < n; ++s) {
    for (int b = 0; b < 256; ++b) {
      int32_t t = dfa.step(s, static_cast<uint8_t>(b));
      if (t >= 0) rev[t].push_back(s);
    }
  }
  std::vector<int32_t> queue;
  for (int32_t s = 0; s < n; ++s) {
    if (dfa.is_accepting(s)) dist[s] = 0, queue.push_back(s);
  }
  for (size_t i = 0; i < queue.size(); ++i) {
    for (int32_t p : rev[queue[i]]) {
      if (dist[p] < 0) dist[p] = dist[queue[i]] + 1, queue.push_back(p);
    }
  }
  return dist;
}

struct GenerationResult {
  std::string text;
  std::vector<int32_t> tokens;
  int64_t model_steps = 0;  // tokens sampled by the "model"
  bool ended = false;       // finished with EOS or a complete match
  JumpForwardStats jf;
};

// A "model" with random logits, restricted by the mask: random allowed tokens for a while,
// then the allowed token that gets closest to an accepting state (so every run terminates).
inline GenerationResult generate_random(const std::shared_ptr<const CompiledConstraint>& c,
                                        std::mt19937& rng, int wander_steps, bool use_jump,
                                        const LongestMatchEncoder* encoder) {
  GenerationResult out;
  ConstraintState state(c);
  // Keyed by the constraint and holding it alive, so a freed address is never reused here.
  static thread_local std::map<std::shared_ptr<const CompiledConstraint>, std::vector<int32_t>>
      dist_cache;
  auto& dist = dist_cache[c];
  if (dist.empty()) dist = distance_to_accept(c->dfa());
  TokenizerView view;
  view.token_bytes = &c->index().vocab().tokens;
  if (encoder) view.encode = [encoder](std::string_view t) { return encoder->encode(t); };
  std::vector<int32_t> allowed;
  for (int step = 0; step < 5000; ++step) {
    if (use_jump && encoder) {
      auto plan = jump_forward(&state, &out.tokens, view, &out.jf);
      if (!plan.ok()) break;
    }
    if (state.is_finished()) {
      out.ended = true;
      break;
    }
    const TokenMask* mask = state.current_mask();
    allowed.clear();
    for (size_t w = 0; w < mask->num_words(); ++w) {
      uint64_t bits = mask->words()[w];
      while (bits) {
        int b = __builtin_ctzll(bits);
        allowed.push_back(static_cast<int32_t>(w * 64 + b));
        bits &= bits - 1;
      }
    }
    if (allowed.empty()) break;  // would be a dead end: the caller's CHECK catches it
    bool finishing = step >= wander_steps;
    if (state.can_end() && (finishing || rng() % 10 == 0)) {
      out.ended = true;
      break;
    }
    int32_t pick = -1;
    if (!finishing) {
      pick = allowed[rng() % allowed.size()];
    } else {
      int32_t best = INT32_MAX;
      for (int32_t t : allowed) {
        if (c->index().is_eos(t)) continue;
        int32_t next = c->next_state(state.dfa_state(), t);
        if (next >= 0 && dist[next] < best) best = dist[next], pick = t;
      }
    }
    if (pick < 0 || c->index().is_eos(pick)) {
      out.ended = state.can_end();
      break;
    }
    ++out.model_steps;
    if (!state.accept_token(pick).ok()) break;
    out.tokens.push_back(pick);
  }
  for (int32_t t : out.tokens) out.text += c->index().vocab().tokens[t];
  return out;
}

}  // namespace stemma::constrain::testing
