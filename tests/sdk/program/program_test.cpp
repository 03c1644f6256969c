// ProgramState on the shipped FAQ model: prompts built from role blocks are the trained prompts
// token for token; gen equals the engine's own generation; each gen's prompt extends the last;
// fork(8) computes the shared prefix once; select scores match forced decoding; constraints,
// stop strings, streaming, cancellation, errors and run_batch.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <mutex>
#include <nlohmann/json.hpp>

#include "sdk/program/program_state.h"
#include "sdk/program/run_batch.h"
#include "tests/sdk/program/sdk_test_models.h"

namespace stemma::program {
namespace {

using sdktest::open_test_engine;
using sdktest::TestEngine;

TestEngine faq_engine(bool radix = true) {
  sdktest::TestEngineOptions o;
  o.radix_cache = radix;
  auto t = open_test_engine(o);
  REQUIRE_MESSAGE(t.ok(), t.status().to_string());
  return std::move(t).value();
}

std::vector<nlohmann::json> eval_prompts(size_t n) {
  auto all = sdktest::read_jsonl(sdktest::kEvalPrompts);
  REQUIRE(all.size() >= n);
  all.resize(n);
  return all;
}

GenerationOptions greedy(int32_t max_tokens) {
  GenerationOptions g;
  g.max_tokens = max_tokens;
  g.temperature = 0;
  return g;
}

TEST_CASE("messages and role blocks reproduce the trained prompts token for token") {
  TestEngine t = faq_engine();
  for (const auto& item : eval_prompts(24)) {
    const std::string prompt = item["prompt"].get<std::string>();
    bool gen_prompt = false;
    auto messages = sdktest::split_chatml(prompt, &gen_prompt);
    REQUIRE(gen_prompt);
    REQUIRE(messages.size() >= 3);
    auto s = ProgramState::create(t.runtime);
    for (const auto& m : messages) REQUIRE(s->message(m.role, m.content).ok());
    REQUIRE(s->role_begin("assistant").ok());
    CHECK(s->text() == prompt);
    // The reference: the whole prompt tokenized at once, BOS first (how the model was trained).
    CHECK(s->tokens() == t.runtime->encode_start(prompt));
    REQUIRE(s->role_end().ok());
    CHECK(s->text() == prompt + "<|im_end|>\n");
    CHECK(s->wait().ok());
  }
}

TEST_CASE("gen equals the engine's own generation and the next gen's prompt extends it") {
  TestEngine t = faq_engine();
  for (const auto& item : eval_prompts(3)) {
    const std::string prompt = item["prompt"].get<std::string>();
    GenerationOptions so;
    so.max_tokens = 200;
    so.temperature = 0;
    auto ref = t.engine->generate(t.runtime->encode_start(prompt), so);
    REQUIRE(ref.ok());
    REQUIRE(ref->finish == FinishReason::kStopToken);

    auto s = ProgramState::create(t.runtime);
    REQUIRE(s->append(prompt).ok());
    REQUIRE(s->gen("reply", greedy(200)).ok());
    REQUIRE(s->role_end().code() == StatusCode::kFailedPrecondition);  // none open
    REQUIRE(s->append("<|im_end|>\n").ok());
    REQUIRE(s->message("user", "Thanks, and how do I reset it?").ok());
    REQUIRE(s->role_begin("assistant").ok());
    REQUIRE(s->gen("second", greedy(32)).ok());
    REQUIRE(s->role_end().ok());
    REQUIRE(s->wait().ok());

    auto reply = s->variable("reply");
    REQUIRE(reply.ok());
    CHECK(reply->value == ref->text);
    CHECK(reply->finish == FinishReason::kStopToken);
    auto second = s->variable("second");
    REQUIRE(second.ok());
    // Everything before the second gen's own new text was computed by the first request:
    // its prompt and all but its last generated token (EOS, never run through the model).
    const int64_t first_computed = reply->prompt_tokens + reply->generated_tokens - 1;
    CHECK(second->prompt_tokens > first_computed);
    CHECK(second->cached_tokens >= first_computed);
    // The state's tokens: the prompt, the reply's tokens as generated (EOS dropped), the rest.
    std::vector<int32_t> tokens = s->tokens();
    std::vector<int32_t> expect = t.runtime->encode_start(prompt);
    std::vector<int32_t> gen_ids = ref->tokens;
    REQUIRE(!gen_ids.empty());
    gen_ids.pop_back();  // <|im_end|>
    expect.insert(expect.end(), gen_ids.begin(), gen_ids.end());
    REQUIRE(tokens.size() > expect.size());
    CHECK(std::equal(expect.begin(), expect.end(), tokens.begin()));
    CHECK(s->text() == prompt + ref->text +
                           "<|im_end|>\n<|im_start|>user\nThanks, and how do I "
                           "reset it?<|im_end|>\n<|im_start|>assistant\n" +
                           second->value + "<|im_end|>\n");
  }
}

// The prefix of 8 forks, their prompts, and what the engine computed for them.
struct ForkRun {
  int64_t prefix_tokens = 0;
  int64_t prompt_tokens = 0;  // the 8 forks' prompts, summed
  int64_t best_prefill = 0;   // distinct prefixes of the 8 prompts: what an ideal cache computes
  int64_t prefill = 0;
  int64_t cached = 0;
  std::vector<std::string> answers;
};

// Tokens an ideal prefix cache computes for `prompts` (each distinct prefix once): the nodes
// of their trie.
int64_t trie_nodes(std::vector<std::vector<int32_t>> prompts) {
  std::sort(prompts.begin(), prompts.end());
  int64_t n = 0;
  for (size_t i = 0; i < prompts.size(); ++i) {
    size_t lcp = 0;
    if (i > 0) {
      while (lcp < prompts[i].size() && lcp < prompts[i - 1].size() &&
             prompts[i][lcp] == prompts[i - 1][lcp]) {
        ++lcp;
      }
    }
    n += static_cast<int64_t>(prompts[i].size() - lcp);
  }
  return n;
}

ForkRun run_forks(TestEngine& t) {
  const auto item = eval_prompts(1)[0];
  auto messages = sdktest::split_chatml(item["prompt"].get<std::string>());
  auto parent = ProgramState::create(t.runtime);
  REQUIRE(parent->message("system", messages[0].content).ok());
  REQUIRE(parent->message("user", messages[1].content).ok());
  REQUIRE(parent->message("context", messages[2].content).ok());
  ForkRun r;
  r.prefix_tokens = static_cast<int64_t>(parent->tokens().size());
  auto forks = parent->fork(8);
  REQUIRE(forks.ok());
  REQUIRE(forks->size() == 8);
  std::vector<std::vector<int32_t>> prompts;
  for (size_t i = 0; i < forks->size(); ++i) {
    ProgramState& f = *(*forks)[i];
    REQUIRE(f.message("user", "Question " + std::to_string(i + 1) + ": and the Lumora Hub?").ok());
    REQUIRE(f.role_begin("assistant").ok());
    prompts.push_back(f.tokens());  // no request has run yet: nothing is cached
    r.prompt_tokens += static_cast<int64_t>(prompts.back().size());
  }
  r.best_prefill = trie_nodes(prompts);
  const EngineStats before = t.engine->stats();
  for (auto& f : *forks) {
    REQUIRE(f->gen("answer", greedy(8)).ok());
    REQUIRE(f->role_end().ok());
  }
  REQUIRE(join(*forks).ok());
  const EngineStats after = t.engine->stats();
  r.prefill = after.prefill_tokens - before.prefill_tokens;
  r.cached = after.cached_tokens - before.cached_tokens;
  for (const auto& f : *forks) {
    auto v = f->variable("answer");
    REQUIRE(v.ok());
    r.answers.push_back(v->value);
  }
  return r;
}

TEST_CASE("fork(8) computes the shared prefix once (engine statistics)") {
  TestEngine on = faq_engine(true);
  const ForkRun a = run_forks(on);
  MESSAGE("prefix " << a.prefix_tokens << ", prompts " << a.prompt_tokens << ", best prefill "
                    << a.best_prefill << ", prefilled " << a.prefill << ", cached " << a.cached);
  REQUIRE(a.prefix_tokens > 200);
  // Cache off: every fork computes its whole prompt, the shared prefix 8 times.
  TestEngine off = faq_engine(false);
  const ForkRun b = run_forks(off);
  MESSAGE("cache off: prefilled " << b.prefill << ", cached " << b.cached);
  CHECK(b.prefill == b.prompt_tokens);
  CHECK(b.cached == 0);
  // Cache on: the shared prefix is computed once; the other 7 read it from the cache. The
  // forks also share the start of their own message ("<|im_start|>user\nQuestion "), which
  // an ideal cache computes once too; a fork that starts it while another is computing it may
  // compute those few tokens again (less than a page each).
  const int64_t page = internal::kv_shape(*on.engine).page_size;
  CHECK(a.prefill + a.cached == a.prompt_tokens);
  CHECK(a.prefill >= a.best_prefill);
  CHECK(a.prefill <= a.best_prefill + 8 * page);
  CHECK(a.prefill < 2 * a.prefix_tokens);
  CHECK(a.cached >= 7 * a.prefix_tokens);
  CHECK(a.answers == b.answers);
}

TEST_CASE("select picks the highest total log-probability; scores match forced decoding") {
  TestEngine t = faq_engine();
  const auto item = eval_prompts(2)[1];
  const std::string prompt = item["prompt"].get<std::string>();
  const std::vector<std::string> choices = {"{\"answer\": \"The Lumora Hub",
                                            "{\"answer\": \"I could", "<tool_call>", "Hello"};
  auto s = ProgramState::create(t.runtime);
  REQUIRE(s->append(prompt).ok());
  REQUIRE(s->select("pick", choices).ok());
  auto v = s->variable("pick");
  REQUIRE_MESSAGE(v.ok(), v.status().to_string());
  REQUIRE(v->choice_scores.size() == choices.size());
  // Reference: decode each choice token by token (a logits processor forcing its tokens) and sum
  // the logprobs the sampler reports: another path through the model than prompt logprobs.
  size_t best = 0;
  for (size_t i = 0; i < choices.size(); ++i) {
    std::vector<int32_t> ids = t.runtime->encode(choices[i]);
    SamplingOptions so;
    so.max_tokens = static_cast<int32_t>(ids.size());
    so.temperature = 0;
    so.logprobs = true;
    so.ignore_eos = true;
    so.logits_processor = std::make_shared<FunctionLogitsProcessor>(
        [ids](std::span<const int32_t> generated, std::span<float> logits) {
          const int32_t want = ids[generated.size()];
          for (size_t k = 0; k < logits.size(); ++k) {
            if (static_cast<int32_t>(k) != want) logits[k] = -INFINITY;
          }
          return OkStatus();
        });
    auto out = internal::generate(*t.engine, t.runtime->encode_start(prompt), so);
    REQUIRE(out.ok());
    REQUIRE(out->tokens == ids);
    double total = 0;
    for (float lp : out->logprobs) total += lp;
    CHECK(v->choice_scores[i] == doctest::Approx(total).epsilon(1e-3));
    if (v->choice_scores[i] > v->choice_scores[best]) best = i;
  }
  CHECK(v->value == choices[best]);
  CHECK(s->text() == prompt + choices[best]);
  CHECK(s->tokens().size() ==
        t.runtime->encode_start(prompt).size() + t.runtime->encode(choices[best]).size());
  // The 4 requests shared the prompt: it was computed once.
  CHECK(v->cached_tokens >= 3 * static_cast<int64_t>(t.runtime->encode_start(prompt).size()) - 48);
}

TEST_CASE("regex and JSON-schema gens always match; stop strings cut text and tokens") {
  TestEngine t = faq_engine();
  const std::string prompt = eval_prompts(1)[0]["prompt"].get<std::string>();
  auto s = ProgramState::create(t.runtime);
  REQUIRE(s->append(prompt).ok());
  auto fork = s->fork(3);
  REQUIRE(fork.ok());
  GenerationOptions re = greedy(40);
  re.regex = "Order LM-[0-9]{6} is (shipped|late)\\.";
  REQUIRE((*fork)[0]->gen("re", re).ok());
  GenerationOptions js = greedy(120);
  js.json_schema =
      R"({"type": "object", "properties": {"answer": {"type": "string", "maxLength": 40},
                      "escalate": {"type": "boolean"}}, "required": ["answer", "escalate"]})";
  js.json_whitespace = 1;
  REQUIRE((*fork)[1]->gen("js", js).ok());
  GenerationOptions st = greedy(60);
  st.stop_strings = {"\", \""};
  REQUIRE((*fork)[2]->gen("st", st).ok());
  REQUIRE((*fork)[2]->append("|after").ok());
  REQUIRE(join(*fork).ok());

  auto rev = (*fork)[0]->get("re");
  REQUIRE(rev.ok());
  MESSAGE("regex: " << *rev);
  CHECK(rev->starts_with("Order LM-"));
  CHECK(rev->size() ==
        std::string("Order LM-123456 is ").size() + (rev->ends_with("shipped.") ? 8 : 5));
  auto jsv = (*fork)[1]->get("js");
  REQUIRE(jsv.ok());
  MESSAGE("json: " << *jsv);
  auto parsed = nlohmann::json::parse(*jsv, nullptr, false);
  REQUIRE(!parsed.is_discarded());
  CHECK(parsed["answer"].is_string());
  CHECK(parsed["escalate"].is_boolean());
  auto stv = (*fork)[2]->variable("st");
  REQUIRE(stv.ok());
  MESSAGE("stop: " << stv->value);
  CHECK(stv->finish == FinishReason::kStopString);
  CHECK(stv->value.find("\", \"") == std::string::npos);
  // The unconstrained greedy reply begins with the stopped text followed by the stop string.
  auto full = ProgramState::create(t.runtime);
  REQUIRE(full->append(prompt).ok());
  REQUIRE(full->gen("all", greedy(60)).ok());
  auto all = full->get("all");
  REQUIRE(all.ok());
  CHECK(all->starts_with(stv->value + "\", \""));
  // The state continues right after the cut: its tokens spell its text.
  const std::string text = (*fork)[2]->text();
  CHECK(text == prompt + stv->value + "|after");
  CHECK((*fork)[2]->tokens() == t.runtime->encode_start(text));
}

TEST_CASE("streaming pieces add up to the value; a callback can cancel") {
  TestEngine t = faq_engine();
  const std::string prompt = eval_prompts(1)[0]["prompt"].get<std::string>();
  std::mutex mu;
  std::string streamed;
  int pieces = 0;
  auto s = ProgramState::create(t.runtime);
  REQUIRE(s->append(prompt).ok());
  REQUIRE(s->gen("a", greedy(200), [&](std::string_view p) {
             std::lock_guard<std::mutex> lock(mu);
             streamed += p;
             ++pieces;
             return true;
           }).ok());
  auto a = s->get("a");
  REQUIRE(a.ok());
  CHECK(pieces > 5);
  CHECK(streamed == *a);

  auto c = ProgramState::create(t.runtime);
  REQUIRE(c->append(prompt).ok());
  std::string got;
  REQUIRE(c->gen("b", greedy(200), [&](std::string_view p) {
             std::lock_guard<std::mutex> lock(mu);
             got += p;
             return got.size() < 20;
           }).ok());
  REQUIRE(c->append("never").ok());
  Status w = c->wait();
  CHECK(w.code() == StatusCode::kCancelled);
  auto b = c->variable("b");
  REQUIRE(b.ok());
  CHECK(b->finish == FinishReason::kCancelled);
  CHECK(b->value.size() >= 20);
  CHECK(a->starts_with(b->value));
  CHECK(c->text() == prompt + b->value);  // the append after the error was skipped
  // The error was cleared by wait(): the state goes on.
  REQUIRE(c->append("!").ok());
  CHECK(c->wait().ok());
  CHECK(c->text() == prompt + b->value + "!");
}

TEST_CASE("misuse is refused at once; run-time errors wait for wait()") {
  TestEngine t = faq_engine();
  auto s = ProgramState::create(t.runtime);
  CHECK(s->role_end().code() == StatusCode::kFailedPrecondition);
  REQUIRE(s->role_begin("assistant").ok());
  CHECK(s->role_begin("user").code() == StatusCode::kFailedPrecondition);
  CHECK(s->message("user", "x").code() == StatusCode::kFailedPrecondition);
  REQUIRE(s->role_end().ok());
  CHECK(s->select("x", {}).code() == StatusCode::kInvalidArgument);
  CHECK(s->select("x", {"a", ""}).code() == StatusCode::kInvalidArgument);
  CHECK(s->message("", "x").code() == StatusCode::kInvalidArgument);
  GenerationOptions bad = greedy(8);
  bad.max_tokens = 0;
  CHECK(s->gen("x", bad).code() == StatusCode::kInvalidArgument);
  CHECK(s->get("nothing").status().code() == StatusCode::kNotFound);

  GenerationOptions re = greedy(8);
  re.regex = "(unclosed";
  REQUIRE(s->gen("x", re).ok());
  REQUIRE(s->append("skipped").ok());
  CHECK(s->get("x").status().code() == StatusCode::kInvalidArgument);  // the pending error
  CHECK(s->fork(2).status().code() == StatusCode::kInvalidArgument);
  Status w = s->wait();
  CHECK(w.code() == StatusCode::kInvalidArgument);
  MESSAGE(w.to_string());
  CHECK(w.message().find("regex") != std::string::npos);
  CHECK(s->text().find("skipped") == std::string::npos);
  CHECK(s->wait().ok());  // cleared

  // A prompt that fills the context is refused by name.
  auto big = ProgramState::create(t.runtime);
  std::string filler;
  for (int i = 0; i < 3000; ++i) filler += " word";
  REQUIRE(big->append(filler).ok());
  REQUIRE(big->gen("x", greedy(8)).ok());
  Status bw = big->wait();
  CHECK(bw.code() == StatusCode::kOutOfRange);
  MESSAGE(bw.to_string());
}

TEST_CASE(
    "run_batch runs every input, at most `parallelism` at a time, same results as one by one") {
  TestEngine t = faq_engine();
  const auto items = eval_prompts(6);
  auto program = [&](size_t i, ProgramState& s) -> Status {
    auto messages = sdktest::split_chatml(items[i]["prompt"].get<std::string>());
    for (const auto& m : messages) STEMMA_RETURN_IF_ERROR(s.message(m.role, m.content));
    STEMMA_RETURN_IF_ERROR(s.role_begin("assistant"));
    STEMMA_RETURN_IF_ERROR(s.gen("reply", greedy(24)));
    return s.role_end();
  };
  std::vector<std::string> one_by_one;
  for (size_t i = 0; i < items.size(); ++i) {
    auto s = ProgramState::create(t.runtime);
    REQUIRE(program(i, *s).ok());
    auto v = s->get("reply");
    REQUIRE(v.ok());
    one_by_one.push_back(*v);
  }
  std::atomic<int> in_fn{0}, max_in_fn{0};
  BatchOptions bo;
  bo.parallelism = 3;
  BatchResult r = run_batch(
      t.runtime, items.size(),
      [&](size_t i, ProgramState& s) {
        const int now = ++in_fn;
        int m = max_in_fn.load();
        while (now > m && !max_in_fn.compare_exchange_weak(m, now)) {
        }
        Status st = program(i, s);
        (void)s.wait();  // hold the slot while the state runs, to observe the bound
        --in_fn;
        return st;
      },
      bo);
  REQUIRE_MESSAGE(r.status.ok(), r.status.to_string());
  REQUIRE(r.states.size() == items.size());
  CHECK(max_in_fn.load() <= 3);
  CHECK(max_in_fn.load() >= 2);
  for (size_t i = 0; i < items.size(); ++i) {
    auto v = r.states[i]->get("reply");
    REQUIRE(v.ok());
    CHECK(*v == one_by_one[i]);
  }
  // An error of one input is the batch's error, named by index.
  BatchResult bad = run_batch(t.runtime, 3, [&](size_t i, ProgramState& s) -> Status {
    if (i == 1) return InvalidArgument("input one is bad");
    return s.append("fine");
  });
  CHECK(bad.status.code() == StatusCode::kInvalidArgument);
  CHECK(bad.status.message().find("input 1") != std::string::npos);
}

}  // namespace
}  // namespace stemma::program
