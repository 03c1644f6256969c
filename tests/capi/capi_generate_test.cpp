// stemma_generate: greedy replies against HF transformers, from many threads at once;
// streaming, stop strings, max_tokens, constraints, seeds, cancellation and option checks.
#include <atomic>
#include <cmath>
#include <mutex>
#include <set>
#include <thread>

#include "tests/capi/capi_test_util.h"

using namespace capi_test;

namespace {

struct Result {
  stemma_status status = STEMMA_INTERNAL;
  std::string text;
  stemma_finish_reason finish = STEMMA_FINISH_NONE;
  std::string error;
};

Result generate(const std::string& prompt, const stemma_gen_options* o,
                stemma_stream_fn fn = nullptr, void* user = nullptr) {
  Result r;
  CString out;
  r.status = stemma_generate(engine(), prompt.c_str(), o, fn, user, out.out(), &r.finish);
  r.text = out.str();
  if (r.status != STEMMA_OK) r.error = stemma_last_error();
  return r;
}

struct Pieces {
  std::mutex mu;
  std::vector<std::string> pieces;
  size_t cancel_after = 0;
  static int32_t collect(void* user, const char* piece, size_t length) {
    auto* p = static_cast<Pieces*>(user);
    std::lock_guard<std::mutex> lock(p->mu);
    p->pieces.emplace_back(piece, length);
    return p->cancel_after > 0 && p->pieces.size() >= p->cancel_after;
  }
  std::string joined() {
    std::string s;
    for (auto& p : pieces) s += p;
    return s;
  }
};

const char* kQuestion =
    "<|im_start|>user\nHow do I reset my Lumora Hub?<|im_end|>\n<|im_start|>assistant\n";

}  // namespace

TEST_CASE("greedy replies equal HF transformers', with eight threads generating at once") {
  const auto cases = hf_cases(14);
  REQUIRE(cases.size() >= 15);
  std::vector<Result> results(cases.size());
  std::atomic<size_t> next{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (size_t i = next++; i < cases.size(); i = next++) {
        // The reply, then the EOS token that ends it.
        stemma_gen_options o = gen_options(static_cast<int32_t>(cases[i].output_ids.size()) + 1);
        results[i] = generate(cases[i].prompt, &o);
      }
    });
  }
  for (auto& t : threads) t.join();
  int same = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    CAPTURE(cases[i].id);
    CHECK(results[i].status == STEMMA_OK);
    if (results[i].text == cases[i].output && results[i].finish == STEMMA_FINISH_STOP) {
      ++same;
    } else {
      MESSAGE(cases[i].id << " differs: " << results[i].text);
    }
  }
  MESSAGE("identical to HF: " << same << "/" << cases.size());
  // Measured: all identical. A near-tie flipped by float summation order (the batch differs
  // with the threads' timing) may cost one reply; more is a real divergence.
  CHECK(same >= static_cast<int>(cases.size()) - 1);
}

TEST_CASE("streamed pieces are valid UTF-8 and add up to the returned text") {
  const auto c = hf_cases(14).at(2);
  stemma_gen_options o = gen_options(200);
  Pieces p;
  const Result r = generate(c.prompt, &o, Pieces::collect, &p);
  REQUIRE(r.status == STEMMA_OK);
  CHECK(r.text == c.output);
  CHECK(p.joined() == r.text);
  CHECK(p.pieces.size() > 10);
  // Each piece on its own passes the library's UTF-8 check (a search query takes any text).
  stemma_rag* rag = nullptr;
  REQUIRE(stemma_rag_open(":memory:", &rag) == STEMMA_OK);
  for (const auto& piece : p.pieces) {
    CString hits;
    CHECK(stemma_rag_search(rag, piece.c_str(), 1, hits.out()) == STEMMA_OK);
  }
  stemma_rag_free(rag);
}

TEST_CASE("max_tokens and stop strings end the reply where HF's tokens say") {
  const auto c = hf_cases(14).at(1);
  REQUIRE(c.output_ids.size() > 12);
  // max_tokens: the first 12 of HF's tokens.
  stemma_gen_options o = gen_options(12);
  const Result r = generate(c.prompt, &o);
  REQUIRE(r.status == STEMMA_OK);
  CHECK(r.finish == STEMMA_FINISH_LENGTH);
  CString prefix;
  REQUIRE(stemma_detokenize(engine(), c.output_ids.data(), 12, prefix.out()) == STEMMA_OK);
  CHECK(r.text == prefix.str());

  // A stop string: the text ends before its first occurrence in HF's reply, and it is never
  // streamed.
  const std::string stop = c.output.substr(c.output.size() / 2, 6);
  const char* stops[] = {"never-in-this-reply", stop.c_str()};
  o = gen_options(200);
  o.stop = stops;
  o.num_stop = 2;
  Pieces p;
  const Result s = generate(c.prompt, &o, Pieces::collect, &p);
  REQUIRE(s.status == STEMMA_OK);
  CHECK(s.finish == STEMMA_FINISH_STOP);
  CHECK(s.text == c.output.substr(0, c.output.find(stop)));
  CHECK(p.joined() == s.text);
}

TEST_CASE("regex and JSON Schema constraints hold, with and without jump-forward") {
  stemma_gen_options o = gen_options(60);
  o.regex = "(yes|no|maybe)";
  Result r = generate(kQuestion, &o);
  REQUIRE(r.status == STEMMA_OK);
  CHECK(std::set<std::string>{"yes", "no", "maybe"}.count(r.text) == 1);
  CHECK(r.finish == STEMMA_FINISH_STOP);

  const char* schema = R"({"type": "object", "properties": {
      "answer": {"type": "string", "maxLength": 40}, "escalate": {"type": "boolean"}},
      "required": ["answer", "escalate"], "additionalProperties": false})";
  for (int32_t jump : {1, 0}) {
    CAPTURE(jump);
    stemma_engine_stats before, after;
    stemma_engine_stats_init(&before);
    stemma_engine_stats_init(&after);
    REQUIRE(stemma_engine_stats_get(engine(), &before) == STEMMA_OK);
    o = gen_options(120);
    o.json_schema = schema;
    o.jump_forward = jump;
    r = generate(kQuestion, &o);
    REQUIRE(stemma_engine_stats_get(engine(), &after) == STEMMA_OK);
    REQUIRE(r.status == STEMMA_OK);
    const auto j = nlohmann::json::parse(r.text);  // throws (fails the test) if not JSON
    CHECK(j.size() == 2);
    CHECK(j.at("answer").is_string());
    CHECK(j.at("answer").get<std::string>().size() <= 40);
    CHECK(j.at("escalate").is_boolean());
    const int64_t jumped = after.jump_forward_tokens - before.jump_forward_tokens;
    if (jump == 1) {
      CHECK(jumped > 0);  // `{"answer": "` and friends are forced
    } else {
      CHECK(jumped == 0);
    }
  }
}

TEST_CASE("sampling with a seed is reproducible; different seeds differ") {
  stemma_gen_options o = gen_options(24);
  o.temperature = 1.0f;
  o.seed = 7;
  const Result a = generate(kQuestion, &o);
  const Result b = generate(kQuestion, &o);
  REQUIRE(a.status == STEMMA_OK);
  CHECK(a.text == b.text);
  std::set<std::string> texts;
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    o.seed = seed;
    o.temperature = 1.5f;
    texts.insert(generate(kQuestion, &o).text);
  }
  CHECK(texts.size() > 1);
}

TEST_CASE("the stream callback cancels: CANCELLED with the text so far") {
  stemma_gen_options o = gen_options(100);
  Pieces p;
  p.cancel_after = 3;
  const Result r = generate(kQuestion, &o, Pieces::collect, &p);
  CHECK(r.status == STEMMA_CANCELLED);
  CHECK(r.finish == STEMMA_FINISH_CANCELLED);
  CHECK(p.pieces.size() == 3);
  CHECK(r.text.rfind(p.joined(), 0) == 0);
  CHECK(r.error.find("stream callback cancelled") != std::string::npos);
}

TEST_CASE("stemma_generate inside the engine's own stream callback is FAILED_PRECONDITION") {
  // It used to deadlock: the callback runs on the engine's worker, which would wait for itself.
  struct Nested {
    int calls = 0;
    Result inner;
    static int32_t call(void* user, const char*, size_t) {
      auto* n = static_cast<Nested*>(user);
      if (n->calls++ == 0) {
        stemma_gen_options o = gen_options(4);
        n->inner = generate(kQuestion, &o);
      }
      return 0;
    }
  } nested;
  stemma_gen_options o = gen_options(6);
  const Result outer = generate(kQuestion, &o, Nested::call, &nested);
  CHECK(outer.status == STEMMA_OK);
  CHECK(nested.inner.status == STEMMA_FAILED_PRECONDITION);
  CHECK(nested.inner.error.find("stream callback") != std::string::npos);
  CHECK(nested.inner.text.empty());
}

TEST_CASE("bad options are refused by name") {
  struct Case {
    const char* name;
    void (*edit)(stemma_gen_options*);
    stemma_status status;
    const char* message;
  };
  static const char* null_stop[] = {nullptr};
  static const char* bad_stop[] = {"ok", "\xE2\x28"};
  static const char* empty_stop[] = {""};
  const std::vector<Case> cases = {
      {"size 0", [](stemma_gen_options* o) { o->struct_size = 0; }, STEMMA_INVALID_ARGUMENT,
       "options->struct_size is 0"},
      {"size +8", [](stemma_gen_options* o) { o->struct_size += 8; }, STEMMA_INVALID_ARGUMENT,
       "options->struct_size"},
      {"max_tokens", [](stemma_gen_options* o) { o->max_tokens = 0; }, STEMMA_INVALID_ARGUMENT,
       "max_tokens is 0"},
      {"temperature", [](stemma_gen_options* o) { o->temperature = std::nanf(""); },
       STEMMA_INVALID_ARGUMENT, "temperature"},
      {"top_p", [](stemma_gen_options* o) { o->top_p = 1.5f; }, STEMMA_INVALID_ARGUMENT, "top_p"},
      {"min_p", [](stemma_gen_options* o) { o->min_p = -1; }, STEMMA_INVALID_ARGUMENT, "min_p"},
      {"top_k", [](stemma_gen_options* o) { o->top_k = -3; }, STEMMA_INVALID_ARGUMENT, "top_k"},
      {"penalty", [](stemma_gen_options* o) { o->repetition_penalty = 0; }, STEMMA_INVALID_ARGUMENT,
       "repetition_penalty"},
      {"stop NULL array",
       [](stemma_gen_options* o) {
         o->stop = nullptr;
         o->num_stop = 2;
       },
       STEMMA_INVALID_ARGUMENT, "stop is NULL but num_stop is 2"},
      {"stop NULL entry",
       [](stemma_gen_options* o) {
         o->stop = null_stop;
         o->num_stop = 1;
       },
       STEMMA_INVALID_ARGUMENT, "options->stop[0] is NULL"},
      {"stop bad UTF-8",
       [](stemma_gen_options* o) {
         o->stop = bad_stop;
         o->num_stop = 2;
       },
       STEMMA_INVALID_ARGUMENT, "options->stop[1] is not valid UTF-8 (byte 0 of 2)"},
      {"stop empty",
       [](stemma_gen_options* o) {
         o->stop = empty_stop;
         o->num_stop = 1;
       },
       STEMMA_INVALID_ARGUMENT, "options->stop[0] is empty"},
      {"both constraints",
       [](stemma_gen_options* o) {
         o->regex = "a";
         o->json_schema = "{}";
       },
       STEMMA_INVALID_ARGUMENT, "regex and json_schema are both set"},
      {"bad regex", [](stemma_gen_options* o) { o->regex = "(unclosed"; }, STEMMA_INVALID_ARGUMENT,
       "options->regex"},
      {"schema not JSON", [](stemma_gen_options* o) { o->json_schema = "{"; },
       STEMMA_INVALID_ARGUMENT, "options->json_schema"},
      {"schema keyword",
       [](stemma_gen_options* o) { o->json_schema = R"({"type": "number", "multipleOf": 3})"; },
       STEMMA_UNSUPPORTED, "options->json_schema"},
      {"jump_forward", [](stemma_gen_options* o) { o->jump_forward = 2; }, STEMMA_INVALID_ARGUMENT,
       "jump_forward is 2"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    stemma_gen_options o = gen_options(8);
    c.edit(&o);
    const Result r = generate(kQuestion, &o);
    CHECK(r.status == c.status);
    CHECK(r.text.empty());
    CHECK(r.error.rfind("stemma_generate: ", 0) == 0);
    CHECK(r.error.find(c.message) != std::string::npos);
  }
  // NULL options are the defaults; a prompt must be given and fit the context.
  CString out;
  CHECK(stemma_generate(engine(), kQuestion, nullptr, nullptr, nullptr, out.out(), nullptr) ==
        STEMMA_OK);
  CHECK(stemma_generate(engine(), nullptr, nullptr, nullptr, nullptr, out.out(), nullptr) ==
        STEMMA_INVALID_ARGUMENT);
  CHECK(stemma_generate(engine(), kQuestion, nullptr, nullptr, nullptr, nullptr, nullptr) ==
        STEMMA_INVALID_ARGUMENT);
  std::string long_prompt;
  for (int i = 0; i < 3000; ++i) long_prompt += "reset ";
  stemma_gen_options o = gen_options(8);
  const Result r = generate(long_prompt, &o);
  CHECK(r.status == STEMMA_OUT_OF_RANGE);
  CHECK(r.error.find("exceeds") == std::string::npos);
  CHECK(r.error.find("context holds") != std::string::npos);
}

TEST_CASE("max_tokens past the context is capped, not refused") {
  CString info;
  REQUIRE(stemma_engine_model_info(engine(), info.out()) == STEMMA_OK);
  const int32_t context = info.json().at("context_length").get<int32_t>();
  stemma_gen_options o = gen_options(context * 4);
  const Result r = generate(kQuestion, &o);
  CHECK(r.status == STEMMA_OK);
  CHECK(r.finish == STEMMA_FINISH_STOP);
}
