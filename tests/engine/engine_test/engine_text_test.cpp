// The Engine's text side on the mock executor with a tiny byte-level tokenizer: decoded text,
// stop strings, constraints compiled by the engine.
#include <doctest/doctest.h>
#include <re2/re2.h>

#include <string>
#include <vector>

#include "engine/api/engine.h"
#include "engine/engine_internal.h"
#include "mock_executor.h"
#include "tests/engine/sample/tiny_tokenizer.h"

namespace stemma {
namespace {

using stemma::testing::MockExecutor;

std::shared_ptr<const Tokenizer> tiny() {
  static std::shared_ptr<const Tokenizer> tok = testing::make_tiny_tokenizer(
      {"{\"", "\":", "\",\"", "name", "true", "false", "abc", "ab", "12", "\"}"});
  return tok;
}

std::unique_ptr<Engine> open_text_engine(bool with_tokenizer = true, int32_t num_pages = 256) {
  auto exec = std::make_shared<MockExecutor>(tiny()->vocab_size(), 4, num_pages);
  exec->mutable_config().eos_token_ids = {tiny()->eos_id()};
  EngineOptions o;
  o.prefill_chunk = 16;
  EngineParts parts;
  parts.executor = exec;
  if (with_tokenizer) parts.tokenizer = tiny();
  auto e = internal::open_engine(o, parts);
  REQUIRE(e.ok());
  return std::move(e).value();
}

SamplingOptions sampled(int32_t max_tokens, uint64_t seed) {
  SamplingOptions s;
  s.max_tokens = max_tokens;
  s.temperature = 1.0f;
  s.seed = seed;
  return s;
}

std::vector<int32_t> prompt_of(const std::string& text) {
  return tiny()->encode(text, {.add_special = false});
}

TEST_CASE("Engine text: output text is the decode of the tokens, streamed in pieces") {
  auto engine = open_text_engine();
  REQUIRE(engine->text() != nullptr);
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    std::string streamed;
    auto id = internal::submit(*engine, prompt_of("hello"), sampled(24, seed),
                               [&](const StreamEvent& e) { streamed += std::string(e.text); });
    REQUIRE(id.ok());
    auto out = engine->wait(*id);
    REQUIRE(out.ok());
    auto decoded = tiny()->decode(out->tokens, {.skip_special = true});
    REQUIRE(decoded.ok());
    CHECK(out->text == *decoded);
    CHECK(streamed == out->text);
  }
}

TEST_CASE("Engine stop strings: finish kStopString, text cut before it, tokens a prefix") {
  auto engine = open_text_engine();
  int stopped = 0;
  for (uint64_t seed = 1; seed <= 30; ++seed) {
    auto ref = internal::generate(*engine, prompt_of("go"), sampled(40, seed));
    REQUIRE(ref.ok());
    if (ref->text.size() < 8) continue;
    // A stop string taken from the middle of the reference text (bytes 4..7).
    const std::string stop = ref->text.substr(4, 3);
    const size_t first = ref->text.find(stop);
    SamplingOptions s = sampled(40, seed);
    s.stop_strings = {stop};
    std::string streamed;
    auto id = internal::submit(*engine, prompt_of("go"), s,
                               [&](const StreamEvent& e) { streamed += std::string(e.text); });
    REQUIRE(id.ok());
    auto out = engine->wait(*id);
    REQUIRE(out.ok());
    CHECK(out->finish == FinishReason::kStopString);
    CHECK(out->text == ref->text.substr(0, first));
    CHECK(streamed == out->text);
    REQUIRE(out->tokens.size() <= ref->tokens.size());
    CHECK(std::equal(out->tokens.begin(), out->tokens.end(), ref->tokens.begin()));
    ++stopped;
  }
  CHECK(stopped >= 10);
}

TEST_CASE("Engine stop strings and constraints need a tokenizer") {
  auto engine = open_text_engine(false);
  CHECK(engine->text() == nullptr);
  SamplingOptions s = sampled(4, 1);
  s.stop_strings = {"x"};
  auto id = internal::submit(*engine, {1, 2, 3}, s);
  REQUIRE_FALSE(id.ok());
  CHECK(id.status().code() == StatusCode::kFailedPrecondition);
  auto c = internal::compile_regex(*engine, "a+");
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().code() == StatusCode::kFailedPrecondition);
}

TEST_CASE(
    "Engine constraints: every output full-matches its regex (RE2), with and without "
    "jump-forward; compiled once per text") {
  auto engine = open_text_engine();
  const std::vector<std::string> patterns = {
      R"(\{"name":"[a-c]{1,6}","ok":(true|false)\})",
      R"((ab|abc|12)+x[0-9]{2,4})",
      R"([a-z ]{3,12}\.)",
      R"(true|false|maybe)",
  };
  for (const std::string& pattern : patterns) {
    auto c = internal::compile_regex(*engine, pattern);
    REQUIRE(c.ok());
    auto again = internal::compile_regex(*engine, pattern);
    REQUIRE(again.ok());
    CHECK(c->get() == again->get());
    RE2 re(pattern);
    REQUIRE(re.ok());
    for (bool jump : {false, true}) {
      for (uint64_t seed = 1; seed <= 15; ++seed) {
        SamplingOptions s = sampled(64, seed);
        s.constraint = *c;
        s.jump_forward = jump;
        auto out = internal::generate(*engine, prompt_of("json:"), s);
        REQUIRE(out.ok());
        CAPTURE(pattern);
        CAPTURE(out->text);
        CHECK(out->finish == FinishReason::kStopToken);
        CHECK(RE2::FullMatch(out->text, re));
        if (!jump) CHECK(out->jump_forward_tokens == 0);
      }
    }
  }
  CHECK(engine->stats().jump_forward_tokens > 0);
}

TEST_CASE("Engine compile errors name the problem") {
  auto engine = open_text_engine();
  auto bad = internal::compile_regex(*engine, "(ab");
  CHECK_FALSE(bad.ok());
  auto schema = internal::compile_json_schema(*engine, R"({"type":"integer","multipleOf":3})");
  REQUIRE_FALSE(schema.ok());
  CHECK(schema.status().message().find("multipleOf") != std::string::npos);
  auto none = internal::compile_choices(*engine, {});
  CHECK_FALSE(none.ok());
}

}  // namespace
}  // namespace stemma
