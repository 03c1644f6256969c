// The CPU backend against HF transformers on the reference suite (reference_suite.h): every
// architecture at head dims 64 and 128, GQA 1-8 and MQA, tied and untied, 1-4 layers, biases,
// rope default / linear / llama3 / yarn, F32 and BF16 weights, positions up to 4000.
//
// Each variant runs twice:
//  - the executor alone: one forward over the prompt (all 4000 tokens for F32 weights, the first
//    1000 for BF16, whose compute path is the same), every row kept; the sampled rows must be
//    within 1e-4 of HF's max |logit| and agree on the argmax;
//  - the Engine (chunked prefill of 256, pages of 16, radix cache on) over the first 1000 tokens:
//    prompt log-probabilities of the same positions (a function of the same rows), then greedy
//    continuations after the 1000 (and 1) prompt tokens, served from the first request's pages.
// (CI time: attention over 4000 positions is most of the cost; the sanitizer build caps every
// prompt at 1000 with STEMMA_REFERENCE_MAX_PROMPT.)
// Setting STEMMA_REFERENCE_TABLE=path writes the per-variant figures as a markdown table.
#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <memory>

#include "engine/api/engine.h"
#include "engine/backend/cpu/cpu_executor.h"
#include "engine/backend/cpu/greedy.h"
#include "engine/engine_internal.h"
#include "engine/model/gguf_convert.h"
#include "tests/engine/backend/reference_suite.h"

namespace stemma {
namespace {

using testing::ReferenceSuite;
using testing::ReferenceVariant;

constexpr double kRelTolerance = 1e-4;  // of max |logit|, at every position (docs/model.md)

const ReferenceSuite& suite() {
  static const ReferenceSuite s = [] {
    std::string error;
    auto r = testing::load_reference_suite(std::string(STEMMA_FIXTURES_DIR) + "/reference", &error);
    if (!error.empty()) FAIL(error);
    return r;
  }();
  return s;
}

std::string work_dir() {
  const std::string d = std::string(STEMMA_BUILD_DIR) + "/reference-models";
  std::filesystem::create_directories(d);
  return d;
}

struct Figures {
  std::string name;
  double worst_rel = 0;
  int64_t worst_pos = 0;
  int agree = 0, rows = 0;
  double engine_logprob_rel = 0;
  int greedy_same = 0, greedy_checked = 0;
};

std::vector<Figures>& table() {
  static std::vector<Figures> t;
  return t;
}

void write_table() {
  const char* path = std::getenv("STEMMA_REFERENCE_TABLE");
  if (path == nullptr) return;
  std::ofstream out(path);
  out << "| model | weights | max \\|diff\\| / max \\|logit\\| (position) | argmax | engine "
         "logprobs | greedy |\n| --- | --- | --- | --- | --- | --- |\n";
  for (const auto& f : table()) {
    const auto cut = f.name.rfind(' ');
    out << "| " << f.name.substr(0, cut) << " | " << f.name.substr(cut + 1) << " | " << f.worst_rel
        << " (" << f.worst_pos << ") | " << f.agree << "/" << f.rows << " | "
        << f.engine_logprob_rel << " | " << f.greedy_same << "/" << f.greedy_checked << " |\n";
  }
}

// Greedy tokens must equal HF's up to the first step where HF's top two were within `tie`
// (there a float32 engine may pick the other one and diverge legitimately).
int greedy_prefix_checked(const ReferenceVariant& v, double tie) {
  int n = 0;
  while (n < static_cast<int>(v.greedy.size()) && v.greedy_margins[static_cast<size_t>(n)] > tie)
    ++n;
  return n;
}

void check_variant(const ReferenceVariant& v) {
  const ReferenceSuite& s = suite();
  const int64_t vocab = s.vocab;
  const int64_t max_prompt = testing::reference_max_prompt(s);
  const int64_t forward_len = v.dtype == "f32" ? max_prompt : std::min<int64_t>(max_prompt, 1000);
  const int64_t engine_len = std::min<int64_t>(max_prompt, s.greedy_prefix);
  const double scale = v.max_abs_logit;
  const double tie = 1e-3 * scale;
  Figures fig;
  fig.name = v.model + " " + v.dtype;

  auto loaded = testing::load_reference_model(v, work_dir());
  REQUIRE_MESSAGE(loaded.ok(), loaded.status().to_string());
  auto model = std::make_shared<const LoadedModel>(std::move(loaded).value());

  // 1. The executor: one forward, all rows.
  {
    KvCacheShape kv;
    kv.page_size = 16;
    kv.num_pages = (forward_len + 15) / 16;
    auto ex = cpu::CpuExecutor::create(model, kv, 2);
    REQUIRE_MESSAGE(ex.ok(), ex.status().to_string());
    auto out = cpu::greedy_generate(
        **ex, std::span<const int32_t>(s.prompt).first(static_cast<size_t>(forward_len)), 0, 0,
        /*keep_prompt_logits=*/true);
    REQUIRE_MESSAGE(out.ok(), out.status().to_string());
    for (size_t i = 0; i < s.positions.size(); ++i) {
      const int64_t p = s.positions[i];
      if (p >= forward_len) continue;
      const auto d =
          testing::compare_row(out->prompt_logits.data() + p * vocab, s.row(v, i), vocab, tie);
      const double rel = d.max_abs / scale;
      if (rel > fig.worst_rel) {
        fig.worst_rel = rel;
        fig.worst_pos = p;
      }
      ++fig.rows;
      fig.agree += d.argmax_agrees ? 1 : 0;
      INFO(fig.name << " position " << p << ": max |diff| / max |logit| = " << rel);
      CHECK(rel <= kRelTolerance);
      CHECK(d.argmax_agrees);
    }
  }

  // 2. The engine: chunked prefill, paged KV, then requests served from the radix cache.
  {
    EngineOptions o;
    o.threads = 2;
    o.page_size = 16;
    o.prefill_chunk = 256;
    o.max_batch_tokens = 512;
    o.num_pages = static_cast<int32_t>((engine_len + 64) / 16 * 2);
    auto engine = internal::open_engine(o, {.model = model});
    REQUIRE_MESSAGE(engine.ok(), engine.status().to_string());
    GenerationOptions all;
    all.max_tokens = 1;
    all.temperature = 0;
    all.ignore_eos = true;
    all.prompt_logprobs_from = 1;
    std::vector<int32_t> prompt(s.prompt.begin(), s.prompt.begin() + engine_len);
    auto first = (*engine)->generate(prompt, all);
    REQUIRE_MESSAGE(first.ok(), first.status().to_string());
    REQUIRE(first->prompt_logprobs.size() == prompt.size() - 1);
    for (size_t i = 0; i < s.positions.size(); ++i) {
      const int64_t p = s.positions[i];  // row p predicts prompt[p + 1]
      if (p + 1 >= engine_len) continue;
      const double want =
          testing::log_softmax_at(s.row(v, i), vocab, prompt[static_cast<size_t>(p + 1)]);
      const double got = first->prompt_logprobs[static_cast<size_t>(p)];
      const double rel = std::fabs(got - want) / scale;
      fig.engine_logprob_rel = std::max(fig.engine_logprob_rel, rel);
      INFO(fig.name << " engine, position " << p << ": logprob " << got << " vs HF " << want);
      CHECK(rel <= 2 * kRelTolerance);  // a logit difference plus its log-sum-exp's
    }

    // Greedy after the first greedy_prefix tokens: its prefix is cached by the request above.
    GenerationOptions greedy;
    greedy.max_tokens = static_cast<int32_t>(v.greedy.size());
    greedy.temperature = 0;
    greedy.ignore_eos = true;
    std::vector<int32_t> prefix(s.prompt.begin(), s.prompt.begin() + s.greedy_prefix);
    auto cont = (*engine)->generate(prefix, greedy);
    REQUIRE_MESSAGE(cont.ok(), cont.status().to_string());
    // Served from the first request's pages (all but the last, partly filled, page).
    if (engine_len >= s.greedy_prefix) CHECK(cont->cached_tokens >= s.greedy_prefix - 16);
    const int checked = greedy_prefix_checked(v, tie);
    fig.greedy_checked = checked;
    for (int j = 0; j < checked && j < static_cast<int>(cont->tokens.size()); ++j) {
      if (cont->tokens[static_cast<size_t>(j)] != v.greedy[static_cast<size_t>(j)]) break;
      ++fig.greedy_same;
    }
    INFO(fig.name << " greedy after " << s.greedy_prefix << " tokens");
    CHECK(fig.greedy_same == checked);

    // A one-token prompt: its only row is row 0.
    GenerationOptions one = greedy;
    one.max_tokens = 1;
    auto single = (*engine)->generate({s.prompt[0]}, one);
    REQUIRE(single.ok());
    int32_t hf_top = 0;
    for (int64_t t = 1; t < vocab; ++t)
      if (s.row(v, 0)[t] > s.row(v, 0)[hf_top]) hf_top = static_cast<int32_t>(t);
    CHECK(single->tokens == std::vector<int32_t>{hf_top});
  }
  MESSAGE(fig.name << ": worst " << fig.worst_rel << " at " << fig.worst_pos << ", argmax "
                   << fig.agree << "/" << fig.rows << ", engine logprobs " << fig.engine_logprob_rel
                   << ", greedy " << fig.greedy_same << "/" << fig.greedy_checked);
  table().push_back(fig);
}

}  // namespace

TEST_CASE("the CPU backend matches HF transformers on the reference suite") {
  const ReferenceSuite& s = suite();
  REQUIRE(!s.variants.empty());
  for (const ReferenceVariant& v : s.variants) {
    SUBCASE((v.model + " " + v.dtype).c_str()) {
      check_variant(v);
    }
  }
  write_table();
}

TEST_CASE("GGUF conversions keep yarn, llama3 and the biases: the same logits as the HF folder") {
  const ReferenceSuite& s = suite();
  for (const std::string name :
       {"llama-gqa4-hd128-yarn-bias", "llama3-gqa8-hd64", "qwen2-hd128-yarn"}) {
    const ReferenceVariant* v = nullptr;
    for (const auto& c : s.variants)
      if (c.model == name && c.dtype == "f32") v = &c;
    REQUIRE(v != nullptr);
    auto hf = testing::load_reference_model(*v, work_dir());
    REQUIRE(hf.ok());
    const std::string gguf = work_dir() + "/" + name + ".gguf";
    ConvertOptions co;
    co.type = DType::kF32;
    REQUIRE(convert_to_gguf(*hf, gguf, co).ok());
    auto gg = load_model(gguf);
    REQUIRE_MESSAGE(gg.ok(), gg.status().to_string());
    CHECK(gg->config.rope_scaling.type == hf->config.rope_scaling.type);
    CHECK(gg->config.mlp_bias == hf->config.mlp_bias);
    std::vector<float> rows[2];
    int i = 0;
    for (auto* m : {&*hf, &*gg}) {
      auto shared = std::make_shared<const LoadedModel>(std::move(*m));
      KvCacheShape kv;
      kv.page_size = 16;
      kv.num_pages = 40;
      auto ex = cpu::CpuExecutor::create(shared, kv, 2);
      REQUIRE(ex.ok());
      auto out =
          cpu::greedy_generate(**ex, std::span<const int32_t>(s.prompt).first(600), 0, 0, true);
      REQUIRE(out.ok());
      rows[i++] = out->prompt_logits;
    }
    double diff = 0;
    for (size_t k = 0; k < rows[0].size(); ++k)
      diff = std::max(diff, static_cast<double>(std::fabs(rows[0][k] - rows[1][k])));
    INFO(name);
    CHECK(diff / v->max_abs_logit < 1e-5);
  }
}

TEST_CASE("rope types whose frequencies follow the call length are refused by name") {
  for (const char* type : {"dynamic", "longrope"}) {
    const std::string cfg = std::string(R"({"architectures": ["LlamaForCausalLM"], "vocab_size": 64,
      "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 1,
      "num_attention_heads": 2, "rope_scaling": {"rope_type": ")") +
                            type + R"(", "factor": 2.0, "short_factor": [1], "long_factor": [1]}})";
    auto c = parse_hf_config(cfg, "config.json");
    REQUIRE_FALSE(c.ok());
    CHECK(c.status().code() == StatusCode::kUnsupported);
    CHECK(c.status().message().find(type) != std::string::npos);
  }
}

}  // namespace stemma
