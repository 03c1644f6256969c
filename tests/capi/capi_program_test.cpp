// stemma_program_*: programs against HF's greedy replies (append, messages + role blocks), the
// chat template (text of a whole conversation), select, fork/join with the shared prefix
// served from the cache, errors kept until wait, and run_batch.
#include <algorithm>
#include <atomic>
#include <mutex>

#include "tests/capi/capi_test_util.h"

using namespace capi_test;

namespace {

struct Program {
  stemma_program* p = nullptr;
  Program() { REQUIRE(stemma_program_new(engine(), &p) == STEMMA_OK); }
  explicit Program(stemma_program* handle) : p(handle) {}
  ~Program() { stemma_program_free(p); }
  std::string get(const char* name) {
    CString v;
    const stemma_status s = stemma_program_get(p, name, v.out());
    if (s != STEMMA_OK) return std::string("<") + stemma_status_name(s) + ">";
    return v.str();
  }
  std::string text() {
    CString v;
    REQUIRE(stemma_program_text(p, v.out()) == STEMMA_OK);
    return v.str();
  }
};

int64_t cached_tokens() {
  stemma_engine_stats s;
  stemma_engine_stats_init(&s);
  REQUIRE(stemma_engine_stats_get(engine(), &s) == STEMMA_OK);
  return s.cached_tokens;
}

}  // namespace

namespace {

// stemma_generate's reply to `prompt` (checked against HF transformers in capi_generate_test).
std::string generate_reply(const std::string& prompt, int32_t max_tokens) {
  stemma_gen_options o = gen_options(max_tokens);
  CString text;
  REQUIRE(stemma_generate(engine(), prompt.c_str(), &o, nullptr, nullptr, text.out(), nullptr) ==
          STEMMA_OK);
  return text.str();
}

}  // namespace

TEST_CASE("gen after appended text gives stemma_generate's reply, and HF's") {
  const auto cases = hf_cases(50);
  REQUIRE(cases.size() >= 5);
  std::vector<std::unique_ptr<Program>> programs;
  for (const auto& c : cases) {
    programs.push_back(std::make_unique<Program>());
    stemma_gen_options o = gen_options(static_cast<int32_t>(c.output_ids.size()) + 1);
    REQUIRE(stemma_program_append(programs.back()->p, c.prompt.c_str()) == STEMMA_OK);
    REQUIRE(stemma_program_gen(programs.back()->p, "reply", &o, nullptr, nullptr) == STEMMA_OK);
  }
  // All states run at once (queued operations are asynchronous); get waits for each.
  int same_as_hf = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    CAPTURE(cases[i].id);
    const std::string reply = programs[i]->get("reply");
    CHECK(reply ==
          generate_reply(cases[i].prompt, static_cast<int32_t>(cases[i].output_ids.size()) + 1));
    CHECK(programs[i]->text() == cases[i].prompt + reply);
    same_as_hf += reply == cases[i].output;
  }
  // A near-tie flipped by float summation order may cost one (see capi_generate_test).
  CHECK(same_as_hf >= static_cast<int>(cases.size()) - 1);
}

TEST_CASE("messages and an assistant role block follow the chat template") {
  const auto c = hf_cases(14).at(3);
  const auto messages = split_chatml(c.prompt);
  Program prog;
  for (const auto& m : messages) {
    REQUIRE(stemma_program_message(prog.p, m.at("role").get<std::string>().c_str(),
                                   m.at("content").get<std::string>().c_str()) == STEMMA_OK);
  }
  REQUIRE(stemma_program_role_begin(prog.p, "assistant") == STEMMA_OK);
  struct Stream {
    std::mutex mu;
    std::string text;
  } stream;
  auto collect = [](void* user, const char* piece, size_t n) -> int32_t {
    auto* s = static_cast<Stream*>(user);
    std::lock_guard<std::mutex> lock(s->mu);
    s->text.append(piece, n);
    return 0;
  };
  stemma_gen_options o = gen_options(200);
  REQUIRE(stemma_program_gen(prog.p, "reply", &o, collect, &stream) == STEMMA_OK);
  REQUIRE(stemma_program_role_end(prog.p) == STEMMA_OK);
  const std::string want = generate_reply(c.prompt, 200);
  CHECK(prog.get("reply") == want);
  CHECK(stream.text == want);
  // The whole state is the conversation with the reply as the template renders it.
  auto full = messages;
  full.push_back({{"role", "assistant"}, {"content", want}});
  CString rendered;
  REQUIRE(stemma_chat_format(engine(), full.dump().c_str(), nullptr, 0, rendered.out()) ==
          STEMMA_OK);
  CHECK(prog.text() == rendered.str());
}

TEST_CASE("select picks the greedy reply over a shuffled one") {
  const auto c = hf_cases(14).at(5);
  const std::string greedy = generate_reply(c.prompt, 200);
  std::string shuffled = greedy;
  std::reverse(shuffled.begin(), shuffled.end());
  Program prog;
  REQUIRE(stemma_program_append(prog.p, c.prompt.c_str()) == STEMMA_OK);
  const char* choices[] = {shuffled.c_str(), greedy.c_str()};
  REQUIRE(stemma_program_select(prog.p, "pick", choices, 2) == STEMMA_OK);
  CHECK(prog.get("pick") == greedy);
  CHECK(prog.text() == c.prompt + greedy);
  CHECK(stemma_program_select(prog.p, "x", choices, 0) == STEMMA_INVALID_ARGUMENT);
  const char* bad[] = {"ok", nullptr};
  CHECK(stemma_program_select(prog.p, "x", bad, 2) == STEMMA_INVALID_ARGUMENT);
  CHECK(last_error() == "stemma_program_select: choices[1] is NULL");
}

TEST_CASE("forks share their parent's prefix in the cache and join") {
  const auto c = hf_cases(14).at(7);
  Program parent;
  REQUIRE(stemma_program_append(parent.p, c.prompt.c_str()) == STEMMA_OK);
  stemma_gen_options first = gen_options(1);
  REQUIRE(stemma_program_gen(parent.p, "first", &first, nullptr, nullptr) == STEMMA_OK);
  REQUIRE(stemma_program_wait(parent.p) == STEMMA_OK);
  const int64_t before = cached_tokens();
  stemma_program* forks[3] = {};
  REQUIRE(stemma_program_fork(parent.p, 3, forks) == STEMMA_OK);
  std::vector<std::unique_ptr<Program>> owned;
  for (auto* f : forks) owned.push_back(std::make_unique<Program>(f));
  for (int i = 0; i < 3; ++i) {
    stemma_gen_options o = gen_options(8);
    o.temperature = 1.0f;
    o.seed = static_cast<uint64_t>(i + 1);
    REQUIRE(stemma_program_gen(forks[i], "more", &o, nullptr, nullptr) == STEMMA_OK);
  }
  REQUIRE(stemma_program_join(forks, 3) == STEMMA_OK);
  // Each fork's request found the parent's whole prompt (the pages it fills) in the cache.
  int64_t prompt_tokens = 0;
  {
    int32_t* ids = nullptr;
    size_t n = 0;
    REQUIRE(stemma_tokenize(engine(), c.prompt.c_str(), 1, &ids, &n) == STEMMA_OK);
    stemma_tokens_free(ids);
    prompt_tokens = static_cast<int64_t>(n);
  }
  CHECK(cached_tokens() - before >= 3 * (prompt_tokens / 16) * 16);
  const std::string parent_text = parent.text();
  for (auto& f : owned) {
    CHECK(f->text().rfind(parent_text, 0) == 0);
    CHECK(f->get("first") == parent.get("first"));  // variables are copied
    CHECK(f->get("more").size() > 0);
  }
  CHECK(stemma_program_fork(parent.p, 0, forks) == STEMMA_INVALID_ARGUMENT);
  CHECK(stemma_program_fork(parent.p, 2, nullptr) == STEMMA_INVALID_ARGUMENT);
}

TEST_CASE("errors at once are returned; errors while running wait for wait/join") {
  Program prog;
  CHECK(stemma_program_role_end(prog.p) == STEMMA_FAILED_PRECONDITION);
  CHECK(stemma_program_message(prog.p, "", "x") == STEMMA_INVALID_ARGUMENT);
  CHECK(stemma_program_append(prog.p, "\xC0") == STEMMA_INVALID_ARGUMENT);
  CHECK(prog.get("never") == "<NOT_FOUND>");
  REQUIRE(stemma_program_append(prog.p, "Hello") == STEMMA_OK);
  stemma_gen_options o = gen_options(4);
  o.regex = "(a";  // compiled when the gen runs
  REQUIRE(stemma_program_gen(prog.p, "x", &o, nullptr, nullptr) == STEMMA_OK);  // queued
  CHECK(stemma_program_wait(prog.p) == STEMMA_INVALID_ARGUMENT);
  CHECK(last_error().find("regex") != std::string::npos);
  CHECK(stemma_program_wait(prog.p) == STEMMA_OK);  // cleared
  o = gen_options(3);
  REQUIRE(stemma_program_gen(prog.p, "y", &o, nullptr, nullptr) == STEMMA_OK);
  CHECK(prog.get("y").size() > 0);
  stemma_program* both[] = {prog.p, nullptr};
  CHECK(stemma_program_join(both, 2) == STEMMA_INVALID_ARGUMENT);
  CHECK(last_error() == "stemma_program_join: programs[1] is NULL");
}

TEST_CASE("run_batch runs fn per index on fresh states and reports fn's errors") {
  const auto cases = hf_cases(40);
  REQUIRE(cases.size() >= 6);
  struct Batch {
    const std::vector<HfCase>* cases;
    std::mutex mu;
    std::vector<std::string> replies;
    std::atomic<int> calls{0};
  } batch;
  batch.cases = &cases;
  batch.replies.resize(cases.size());
  auto fn = [](void* user, size_t index, stemma_program* program) -> stemma_status {
    auto* b = static_cast<Batch*>(user);
    b->calls++;
    const HfCase& c = (*b->cases)[index];
    stemma_gen_options o = gen_options(static_cast<int32_t>(c.output_ids.size()) + 1);
    stemma_status s = stemma_program_append(program, c.prompt.c_str());
    if (s == STEMMA_OK) s = stemma_program_gen(program, "reply", &o, nullptr, nullptr);
    char* reply = nullptr;
    if (s == STEMMA_OK) s = stemma_program_get(program, "reply", &reply);
    if (s == STEMMA_OK) {
      std::lock_guard<std::mutex> lock(b->mu);
      b->replies[index] = reply;
    }
    stemma_string_free(reply);
    stemma_program_free(program);  // borrowed: ignored, the state stays usable until fn returns
    return s;
  };
  REQUIRE(stemma_program_run_batch(engine(), cases.size(), 3, fn, &batch) == STEMMA_OK);
  CHECK(batch.calls == static_cast<int>(cases.size()));
  for (size_t i = 0; i < cases.size(); ++i) {
    CHECK(batch.replies[i] ==
          generate_reply(cases[i].prompt, static_cast<int32_t>(cases[i].output_ids.size()) + 1));
  }

  auto failing = [](void*, size_t index, stemma_program* program) -> stemma_status {
    if (index == 2) return stemma_program_role_end(program);  // fails: no open block
    return STEMMA_OK;
  };
  CHECK(stemma_program_run_batch(engine(), 4, 2, failing, nullptr) == STEMMA_FAILED_PRECONDITION);
  CHECK(last_error().find("fn returned FAILED_PRECONDITION for index 2: "
                          "stemma_program_role_end") != std::string::npos);
  auto odd = [](void*, size_t, stemma_program*) -> stemma_status { return 77; };
  CHECK(stemma_program_run_batch(engine(), 1, 1, odd, nullptr) == STEMMA_INTERNAL);
  CHECK(stemma_program_run_batch(engine(), 1, 1, nullptr, nullptr) == STEMMA_INVALID_ARGUMENT);
  CHECK(stemma_program_run_batch(engine(), 0, 1, odd, nullptr) == STEMMA_OK);
}
