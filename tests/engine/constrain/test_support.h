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

// The extra recursive schemas (tools/constrain/make_deep_instances.py), as "recursive/x.json"
// (paths relative to schemas/, like the names in deep_instances.jsonl).
inline std::vector<std::string> recursive_schema_files() {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(fixtures_dir() + "/schemas/recursive")) {
    if (e.path().extension() == ".json") out.push_back("recursive/" + e.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

inline std::vector<std::string> all_schema_files() {
  std::vector<std::string> out = schema_files();
  for (const std::string& f : recursive_schema_files()) out.push_back(f);
  return out;
}

// Whether the constraint accepts `text` as a whole, fed one byte at a time (the DFA, or the
// pushdown matcher for a grammar).
inline bool constraint_matches(const CompiledConstraint& c, std::string_view text) {
  const Grammar* g = c.grammar();
  if (!g) return c.dfa().matches(text);
  PushdownMatcher m(g);
  for (char ch : text) {
    if (!m.accept_bytes(std::string_view(&ch, 1)).ok()) return false;
  }
  return m.can_end();
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

struct GenerationResult {
  std::string text;
  std::vector<int32_t> tokens;
  int64_t model_steps = 0;  // tokens sampled by the "model"
  bool ended = false;       // finished with EOS or a complete match
  JumpForwardStats jf;
};

// A "model" with random logits, restricted by the mask: random allowed tokens for a while,
// then the allowed token that gets closest to the end (fewest bytes still needed), so every
// run terminates; for DFAs and grammars alike.
// With `dive_steps` (grammars), the first steps pick, of a few random allowed tokens, the one
// that leaves the deepest stack (up to kDiveDepth frames: Python's jsonschema, which checks
// the outputs, recurses per level): outputs nest far deeper than a uniform walk would.
inline GenerationResult generate_random(const std::shared_ptr<const CompiledConstraint>& c,
                                        std::mt19937& rng, int wander_steps, bool use_jump,
                                        const LongestMatchEncoder* encoder, int dive_steps = 0) {
  GenerationResult out;
  ConstraintState state(c);
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
    constexpr int32_t kDiveDepth = 24;
    if (!finishing && step < dive_steps && state.stack_depth() < kDiveDepth) {
      int32_t best = -1;
      for (int k = 0; k < 16; ++k) {
        const int32_t t = allowed[rng() % allowed.size()];
        if (c->index().is_eos(t) || !state.accept_token(t).ok()) continue;
        const int32_t d = state.stack_depth();
        if (!state.rollback(1).ok()) break;
        if (d > best) best = d, pick = t;
      }
      if (pick < 0) pick = allowed[rng() % allowed.size()];
    } else if (!finishing) {
      pick = allowed[rng() % allowed.size()];
    } else {
      int64_t best = INT64_MAX;
      for (int32_t t : allowed) {
        if (c->index().is_eos(t)) continue;
        const int64_t d = state.bytes_to_end_after(t);
        if (d >= 0 && d < best) best = d, pick = t;
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
