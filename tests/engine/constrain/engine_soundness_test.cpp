// Soundness through the real engine: the CPU executor, the scheduler (continuous batching,
// radix cache, jump-forward re-tokenized by the model's own tokenizer) and the sampler's mask.
// Every fixture schema (and a set of real-world-style regexes) is generated under, with seeded
// sampling, jump-forward on and off, on:
//   faq        models/stemma-faq.gguf with its trained weights (byte-level BPE, 4096 tokens)
//   faq_dummy  the same shape and tokenizer with seeded random weights
//   llama3     a tiny Llama-shaped model with seeded random weights over the Llama 3 vocabulary
//              (128,256 tokens; .assets/tokenizers/llama3, skipped with a reason if absent)
// Regex outputs must full-match in RE2 here; schema outputs are written to
// constrain_engine_outputs_<model>.jsonl and checked with Python's jsonschema by the ctest
// constrain_soundness_<model>_validate.
//
// "Any model" includes ones that never close a string: after a random number of free tokens a
// logits processor (part of the "model": it runs before the engine's mask and cannot unmask
// anything) steers towards the nearest end, so every output ends. Under recursive schemas
// (grammars) half the requests first dive: the processor favours, of a few sampled tokens, the
// one that nests deepest, so outputs go far past the old unrolling depth.
//
// Scale: every schema by default; STEMMA_SOUNDNESS_STRIDE=k takes every k-th schema without a
// $ref cycle (the ASan build defaults to 4) and every recursive one.
#include <doctest/doctest.h>
#include <re2/re2.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "engine/api/engine.h"
#include "engine/constrain/json_schema.h"
#include "engine/constrain/utf8.h"
#include "engine/engine_internal.h"
#include "engine/tokenizer/hf_tokenizer_json.h"
#include "test_support.h"

namespace stemma {
namespace {

namespace sc = stemma::constrain;
using sc::testing::all_schema_files;
using sc::testing::fixtures_dir;
using sc::testing::read_file;

#if defined(__SANITIZE_ADDRESS__)
constexpr int kDefaultStride = 4;
#else
constexpr int kDefaultStride = 1;
#endif

int stride() {
  if (const char* s = std::getenv("STEMMA_SOUNDNESS_STRIDE")) return std::max(1, std::atoi(s));
  return kDefaultStride;
}

// The "model"'s length bound: free for `wander` tokens, then pushed (hard) towards the end:
// each allowed token is penalized by the bytes still needed after it. Before that, for `dive`
// tokens, the allowed token (of 16 sampled) that leaves the deepest grammar stack is pushed up.
// Re-derives its constraint state from `generated` each call (jump-forward re-spells tokens,
// so it compares, not just appends).
class SteerToEnd : public LogitsProcessor {
 public:
  SteerToEnd(std::shared_ptr<const sc::CompiledConstraint> c, size_t dive, size_t wander,
             uint64_t seed)
      : c_(c), state_(c), dive_(dive), wander_(wander), rng_(seed) {}

  Status process(std::span<const int32_t> generated, std::span<float> logits) override {
    size_t common = 0;
    while (common < seen_.size() && common < generated.size() && seen_[common] == generated[common])
      ++common;
    STEMMA_RETURN_IF_ERROR(state_.rollback(seen_.size() - common));
    seen_.resize(common);
    for (size_t i = common; i < generated.size(); ++i) {
      STEMMA_RETURN_IF_ERROR(state_.accept_token(generated[i]));
      seen_.push_back(generated[i]);
    }
    const sc::TokenMask* mask = state_.current_mask();
    if (mask == nullptr) return OkStatus();
    const int32_t n = std::min<int32_t>(mask->size(), static_cast<int32_t>(logits.size()));
    if (generated.size() < dive_ && state_.stack_depth() < kDiveDepth) {
      std::vector<int32_t> allowed;
      for (int32_t t = 0; t < n; ++t) {
        if (mask->test(t) && !c_->index().is_eos(t)) allowed.push_back(t);
      }
      int32_t best = -1, pick = -1;
      for (int k = 0; k < 16 && !allowed.empty(); ++k) {
        const int32_t t = allowed[rng_() % allowed.size()];
        STEMMA_RETURN_IF_ERROR(state_.accept_token(t));
        const int32_t d = state_.stack_depth();
        STEMMA_RETURN_IF_ERROR(state_.rollback(1));
        if (d > best) best = d, pick = t;
      }
      if (pick >= 0) logits[static_cast<size_t>(pick)] += 100.0f;
      return OkStatus();
    }
    if (generated.size() < wander_) return OkStatus();
    for (int32_t t = 0; t < n; ++t) {
      if (!mask->test(t)) continue;
      // EOS (allowed only where the output is complete) is 0 and beats going on.
      const int64_t after = state_.bytes_to_end_after(t);
      const int64_t d = c_->index().is_eos(t) ? -1 : (after >= 0 ? after : 1 << 20);
      logits[static_cast<size_t>(t)] -= 100.0f * static_cast<float>(d);
    }
    return OkStatus();
  }

 private:
  // Python's jsonschema, which checks the outputs, recurses per nesting level.
  static constexpr int32_t kDiveDepth = 24;
  std::shared_ptr<const sc::CompiledConstraint> c_;
  sc::ConstraintState state_;
  size_t dive_, wander_;
  std::mt19937_64 rng_;
  std::vector<int32_t> seen_;
};

// Real-world-style regexes (no lookaround or backreferences: the engine refuses those).
const std::vector<std::string>& regexes() {
  static const std::vector<std::string> r = {
      R"(\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01]))",
      R"(([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?)",
      R"([a-z0-9._%+-]{1,20}@[a-z0-9-]{1,15}\.(com|org|net|io))",
      R"(\+?1?[ -]?\(?\d{3}\)?[ -]?\d{3}-\d{4})",
      R"((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3})",
      R"(#[0-9a-fA-F]{6})",
      R"([A-Z][a-z]{1,12}( [A-Z][a-z]{1,12}){0,2})",
      R"(-?(0|[1-9]\d{0,6})(\.\d{1,4})?)",
      R"((yes|no|maybe))",
      R"(https?://[a-z0-9-]{1,12}(\.[a-z0-9-]{1,12}){1,3}(/[a-z0-9_-]{1,10}){0,3})",
      R"([A-Z]{3}-\d{3,6})",
      R"(v\d{1,2}\.\d{1,3}\.\d{1,3}(-(alpha|beta|rc)\.\d)?)",
      R"([0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12})",
      R"(\$\d{1,3}(,\d{3})*\.\d{2})",
      R"((Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4})",
      R"([a-z_][a-z0-9_]{0,15}\(([a-z_][a-z0-9_]{0,8}(, [a-z_][a-z0-9_]{0,8}){0,3})?\))",
      R"(\[(\d{1,3}(,\d{1,3}){0,5})?\])",
      R"(Answer: (A|B|C|D)\.)",
      R"([^\n"]{1,40})",
      R"((\w+ ){1,5}\w+[.!?])",
      R"(日本語|中文|한국어|English)",
      R"(<tool_call>\{"name":"[a-z_]{1,12}"\}</tool_call>)",
  };
  return r;
}

struct ModelUnderTest {
  std::string name;
  std::shared_ptr<const LoadedModel> model;
  std::shared_ptr<const Tokenizer> tokenizer;
};

struct Job {
  std::string schema;  // fixture file, or "" for a regex job
  std::string regex;   // the regex the output must match (the schema's regex for schemas)
  std::shared_ptr<const sc::CompiledConstraint> constraint;
  bool jump = false;
  RequestId id = 0;
  bool dive = false;  // recursive schemas: nest deep first
};

void run_soundness(const ModelUnderTest& m) {
  EngineOptions o;
  o.threads = 2;
  o.max_running = 64;
  o.kv_memory_bytes = int64_t{384} << 20;
  auto opened = internal::open_engine(o, {.model = m.model, .tokenizer = m.tokenizer});
  REQUIRE_MESSAGE(opened.ok(), opened.status().to_string());
  Engine& engine = **opened;

  std::vector<Job> jobs;
  const auto files = all_schema_files();
  REQUIRE(files.size() >= 200);
  for (size_t i = 0; i < files.size(); ++i) {
    const std::string text = read_file(fixtures_dir() + "/schemas/" + files[i]);
    auto regex = sc::json_schema_to_regex(text);
    REQUIRE(regex.ok());
    // The stride thins out the DFA schemas only: every recursive one runs.
    if (i % static_cast<size_t>(stride()) != 0 && !regex->is_grammar()) continue;
    auto c = internal::compile_json_schema(engine, text);
    REQUIRE_MESSAGE(c.ok(), files[i] << ": " << c.status().to_string());
    REQUIRE((*c)->is_grammar() == regex->is_grammar());
    // A grammar has no RE2 counterpart: its outputs are checked by jsonschema only.
    const std::string re = regex->is_grammar() ? "" : regex->regex;
    for (bool jump : {true, false}) jobs.push_back({files[i], re, *c, jump});
    if ((*c)->is_grammar()) {
      for (bool jump : {true, false}) jobs.push_back({files[i], re, *c, jump, 0, true});
    }
  }
  for (const std::string& r : regexes()) {
    auto c = internal::compile_regex(engine, r);
    REQUIRE_MESSAGE(c.ok(), r << ": " << c.status().to_string());
    for (bool jump : {true, false}) jobs.push_back({"", r, *c, jump});
  }

  const std::vector<int32_t> prompt = m.tokenizer->encode(
      "<|im_start|>user\nReply with JSON only.<|im_end|>\n<|im_start|>assistant\n");
  std::mt19937_64 rng(12345);
  for (size_t k = 0; k < jobs.size(); ++k) {
    Job& job = jobs[k];
    SamplingOptions s;
    s.temperature = 1.0f;
    s.seed = rng();
    s.max_tokens = 1500;
    s.constraint = job.constraint;
    s.jump_forward = job.jump;
    const size_t dive = job.dive ? 40 + rng() % 120 : 0;
    s.logits_processor =
        std::make_shared<SteerToEnd>(job.constraint, dive, dive + 4 + rng() % 60, rng());
    auto id = internal::submit(engine, prompt, s);
    REQUIRE_MESSAGE(id.ok(), id.status().to_string());
    job.id = *id;
  }

  const std::string path =
      std::string(STEMMA_BUILD_DIR) + "/constrain_engine_outputs_" + m.name + ".jsonl";
  std::ofstream out(path);
  REQUIRE(out.good());
  int64_t sampled_on = 0, forced_on = 0, tokens_off = 0;
  int schema_outputs = 0, regex_outputs = 0;
  int32_t deepest = 0;
  std::map<std::string, std::unique_ptr<RE2>> re2s;
  for (const Job& job : jobs) {
    auto r = engine.wait(job.id);
    REQUIRE(r.ok());
    CAPTURE(job.schema);
    const std::string shown_regex = job.regex.substr(0, 300);
    const std::string shown_text = r->text.substr(0, 300);
    CAPTURE(shown_regex);
    CAPTURE(shown_text);
    REQUIRE_MESSAGE(r->finish == FinishReason::kStopToken, finish_reason_name(r->finish)
                                                               << " " << r->error.to_string());
    std::vector<uint32_t> cps;
    CHECK(sc::decode_utf8(r->text, &cps));
    auto& re = re2s[job.regex];
    if (!re) {
      RE2::Options ro;
      ro.set_max_mem(int64_t{256} << 20);
      re = std::make_unique<RE2>(job.regex, ro);
    }
    if (!job.regex.empty() && re->ok()) CHECK(RE2::FullMatch(r->text, *re));
    if (job.constraint->is_grammar()) {
      sc::ConstraintState replay(job.constraint);
      for (int32_t t : r->tokens) {
        if (!job.constraint->index().is_eos(t)) REQUIRE(replay.accept_token(t).ok());
        deepest = std::max(deepest, replay.stack_depth());
      }
    }
    if (job.jump) {
      forced_on += r->jump_forward_tokens;
      sampled_on += static_cast<int64_t>(r->tokens.size()) - r->jump_forward_tokens;
    } else {
      CHECK(r->jump_forward_tokens == 0);
      tokens_off += static_cast<int64_t>(r->tokens.size());
    }
    if (job.schema.empty()) {
      ++regex_outputs;
      continue;
    }
    nlohmann::json line = {
        {"schema", job.schema}, {"output", r->text}, {"model", m.name}, {"jump_forward", job.jump}};
    out << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    ++schema_outputs;
  }
  const auto st = engine.stats();
  MESSAGE(m.name << ": " << schema_outputs << " schema outputs, " << regex_outputs
                 << " regex outputs; jump-forward on: " << sampled_on << " sampled + " << forced_on
                 << " forced tokens ("
                 << 100.0 * forced_on / std::max<int64_t>(1, sampled_on + forced_on)
                 << "% of output tokens without a model step); off: " << tokens_off
                 << " tokens; engine steps " << st.steps << ", cached prompt tokens "
                 << st.cached_tokens << "; deepest grammar stack " << deepest);
  CHECK(schema_outputs >= 2 * 200 / stride());
  CHECK(forced_on > 0);
  CHECK(deepest >= 8);
}

std::shared_ptr<const LoadedModel> faq_model() {
  const std::string path = std::string(STEMMA_SOURCE_DIR) + "/models/stemma-faq.gguf";
  auto m = load_model(path);
  REQUIRE_MESSAGE(m.ok(), m.status().to_string());
  return std::make_shared<const LoadedModel>(std::move(*m));
}

std::shared_ptr<const Tokenizer> tokenizer_of(const LoadedModel& m) {
  REQUIRE(m.tokenizer.has_value());
  auto t = Tokenizer::create(*m.tokenizer);
  REQUIRE(t.ok());
  return std::shared_ptr<const Tokenizer>(std::move(*t));
}

TEST_CASE("soundness_faq: trained weights, every schema and regex") {
  auto model = faq_model();
  run_soundness({"faq", model, tokenizer_of(*model)});
}

TEST_CASE("soundness_faq_dummy: random weights at the faq model's shape") {
  auto real = faq_model();
  auto dummy = make_dummy_model(real->config, DType::kQ8_0, 7);
  REQUIRE(dummy.ok());
  run_soundness(
      {"faq_dummy", std::make_shared<const LoadedModel>(std::move(*dummy)), tokenizer_of(*real)});
}

TEST_CASE("soundness_llama3: random weights over the Llama 3 vocabulary") {
  const std::string path = std::string(STEMMA_ASSETS_DIR) + "/tokenizers/llama3/tokenizer.json";
  if (!std::filesystem::exists(path)) {
    std::filesystem::remove(std::string(STEMMA_BUILD_DIR) +
                            "/constrain_engine_outputs_llama3.jsonl");
    std::printf("SKIP soundness_llama3: %s is absent (fetched by scripts/setup.d)\n", path.c_str());
    std::fflush(stdout);
    std::exit(77);
  }
  auto spec = load_hf_tokenizer(path);
  REQUIRE(spec.ok());
  auto tok = Tokenizer::create(*spec);
  REQUIRE(tok.ok());
  ModelConfig c;
  c.arch = Architecture::kLlama;
  c.arch_name = "llama";
  c.vocab_size = (*tok)->vocab_size();
  c.hidden_size = 64;
  c.intermediate_size = 128;
  c.num_layers = 2;
  c.num_heads = 4;
  c.num_kv_heads = 2;
  c.head_dim = 16;
  c.max_position = 4096;
  c.rope_theta = 500000.0f;
  c.tie_embeddings = true;
  c.bos_token_id = (*tok)->bos_id();
  c.eos_token_ids = {(*tok)->eos_id()};
  auto dummy = make_dummy_model(c, DType::kQ8_0, 11);
  REQUIRE_MESSAGE(dummy.ok(), dummy.status().to_string());
  run_soundness({"llama3", std::make_shared<const LoadedModel>(std::move(*dummy)),
                 std::shared_ptr<const Tokenizer>(std::move(*tok))});
}

}  // namespace
}  // namespace stemma
