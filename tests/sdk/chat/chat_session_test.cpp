// ChatSession on the shipped FAQ model: a session survives a process restart (a helper program
// run twice), a process killed while it generates loses no committed turn, each turn's prompt
// extends the previous one, a resumed session reuses what the cache holds, cancellation.
#include "sdk/chat/chat_session.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/sdk/chat/temp_dir.h"
#include "tests/sdk/program/sdk_test_models.h"

namespace stemma::chat {
namespace {

using testing::TempDir;

const char* const kSystem = "You are the support assistant of Lumora Home. Be brief.";

struct Child {
  pid_t pid = -1;
  int out_fd = -1;  // its stdout
};

Child spawn_helper(const std::vector<std::string>& args) {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    std::vector<char*> argv;
    std::string exe = CHAT_SESSION_HELPER;
    argv.push_back(exe.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(exe.c_str(), argv.data());
    _exit(127);
  }
  close(fds[1]);
  return {pid, fds[0]};
}

std::string read_line(int fd) {
  std::string line;
  char c;
  while (read(fd, &c, 1) == 1 && c != '\n') line += c;
  return line;
}

// Runs the helper to the end; its JSON output.
nlohmann::json run_helper(const std::vector<std::string>& args) {
  Child c = spawn_helper(args);
  std::string all, line;
  while (!(line = read_line(c.out_fd)).empty()) all = line;
  close(c.out_fd);
  int status = 0;
  REQUIRE(waitpid(c.pid, &status, 0) == c.pid);
  REQUIRE_MESSAGE((WIFEXITED(status) && WEXITSTATUS(status) == 0), "helper failed");
  return nlohmann::json::parse(all);
}

sdktest::TestEngine faq_engine() {
  auto t = sdktest::open_test_engine();
  REQUIRE_MESSAGE(t.ok(), t.status().to_string());
  return std::move(t).value();
}

GenerationOptions gen120() {
  GenerationOptions g;
  g.max_tokens = 120;
  return g;
}

TEST_CASE("a chat session survives a process restart") {
  TempDir dir;
  const std::string path = dir.file("chats.db");
  const std::string q1 = "How do I reset my Lumora Hub?";
  const std::string q2 = "And where is my order LM-204817?";
  // Process 1 starts the session; process 2 (a fresh process, fresh engine) resumes it.
  nlohmann::json first = run_helper({path, "new", kSystem, q1});
  const int64_t id = first["id"].get<int64_t>();
  nlohmann::json second = run_helper({path, "resume", std::to_string(id), q2});
  CHECK(second["id"].get<int64_t>() == id);
  // Process 2 saw what process 1 committed.
  const nlohmann::json& seen = second["history"];
  REQUIRE(seen.size() == 3);
  CHECK(seen[0]["role"] == "system");
  CHECK(seen[0]["content"] == kSystem);
  CHECK(seen[1]["content"] == q1);
  CHECK(seen[2]["role"] == "assistant");
  CHECK(seen[2]["content"] == first["reply"]);
  // The store holds the whole conversation.
  auto store = ChatStore::open(path);
  REQUIRE(store.ok());
  auto turns = (*store)->load_session(id);
  REQUIRE(turns.ok());
  REQUIRE(turns->size() == 5);
  const char* roles[] = {"system", "user", "assistant", "user", "assistant"};
  for (size_t i = 0; i < 5; ++i) CHECK((*turns)[i].role == roles[i]);
  CHECK((*turns)[3].content == q2);
  CHECK((*turns)[4].content == second["reply"].get<std::string>());
  CHECK((*turns)[4].extras_json.find("\"finish\"") != std::string::npos);
  // Process 2's prompt was the whole conversation rendered with the template, and the restart
  // changed nothing: one process holding the session throughout says the same.
  sdktest::TestEngine t = faq_engine();
  std::vector<program::Message> history;
  for (size_t i = 0; i < 3; ++i) history.push_back({(*turns)[i].role, (*turns)[i].content});
  history.push_back({"user", q2});
  auto rendered = t.runtime->render_chat(history, nullptr, true);
  REQUIRE(rendered.ok());
  CHECK(second["prompt_tokens"].get<int64_t>() ==
        static_cast<int64_t>(t.runtime->encode_prompt(*rendered).size()));
  auto one = ChatSession::create(t.runtime, nullptr, kSystem);
  REQUIRE(one.ok());
  auto r1 = (*one)->send(q1, gen120());
  REQUIRE(r1.ok());
  CHECK(r1->text == first["reply"].get<std::string>());
  auto r2 = (*one)->send(q2, gen120());
  REQUIRE(r2.ok());
  CHECK(r2->text == second["reply"].get<std::string>());
  CHECK_FALSE((*one)->id().has_value());
}

TEST_CASE("a process killed while it generates loses no committed turn") {
  TempDir dir;
  const std::string path = dir.file("chats.db");
  nlohmann::json first = run_helper({path, "new", kSystem, "Hello!"});
  const int64_t id = first["id"].get<int64_t>();
  Child c = spawn_helper({path, "hang", std::to_string(id), "How long do the batteries last?"});
  CHECK(read_line(c.out_fd) == "streaming");  // it is in the middle of the reply
  REQUIRE(kill(c.pid, SIGKILL) == 0);
  int status = 0;
  REQUIRE(waitpid(c.pid, &status, 0) == c.pid);
  CHECK(WIFSIGNALED(status));
  close(c.out_fd);
  {
    auto store = ChatStore::open(path);
    REQUIRE(store.ok());
    auto turns = (*store)->load_session(id);
    REQUIRE(turns.ok());
    // system, user, assistant, and the user turn committed before generating; no partial reply.
    REQUIRE(turns->size() == 4);
    CHECK((*turns)[2].content == first["reply"].get<std::string>());
    CHECK((*turns)[3].role == "user");
    CHECK((*turns)[3].content == "How long do the batteries last?");
  }
  // The session goes on after the crash.
  nlohmann::json after = run_helper({path, "resume", std::to_string(id), "Thanks!"});
  CHECK(after["history"].size() == 4);
  auto store = ChatStore::open(path);
  REQUIRE(store.ok());
  auto turns = (*store)->load_session(id);
  REQUIRE(turns.ok());
  REQUIRE(turns->size() == 6);
  CHECK((*turns)[5].content == after["reply"].get<std::string>());
}

TEST_CASE("each turn's prompt extends the last; a resumed session reuses the cache") {
  sdktest::TestEngine t = faq_engine();
  auto store = ChatStore::open(":memory:");
  REQUIRE(store.ok());
  auto s = ChatSession::create(t.runtime, store->get(), kSystem);
  REQUIRE(s.ok());
  const std::vector<std::string> questions = {"How do I reset my Lumora Hub?",
                                              "Does the doorbell work with Alexa?",
                                              "How long do the batteries last?"};
  int64_t previous_computed = 0;
  for (size_t i = 0; i < questions.size(); ++i) {
    auto r = (*s)->send(questions[i], gen120());
    REQUIRE_MESSAGE(r.ok(), r.status().to_string());
    MESSAGE("turn " << i << ": prompt " << r->prompt_tokens << ", cached " << r->cached_tokens
                    << ", generated " << r->generated_tokens << ", extended "
                    << r->prompt_extended);
    if (i > 0) {
      CHECK(r->prompt_extended);
      // All of the previous request's computed tokens (its prompt and its reply but the last
      // token) are served from the cache.
      CHECK(r->cached_tokens >= previous_computed);
    }
    previous_computed = r->prompt_tokens + r->generated_tokens - 1;
  }
  const auto history = (*s)->history();
  REQUIRE(history.size() == 7);
  // Resume in the same engine: the history is encoded whole (not from the generated tokens),
  // and the cache still serves what it shares with the live session's tokens.
  auto resumed = ChatSession::resume(t.runtime, **store, *(*s)->id());
  REQUIRE(resumed.ok());
  CHECK((*resumed)->history_json() == (*s)->history_json());
  auto r = (*resumed)->send("Thanks, bye!", gen120());
  REQUIRE(r.ok());
  MESSAGE("resumed: prompt " << r->prompt_tokens << ", cached " << r->cached_tokens);
  CHECK_FALSE(r->prompt_extended);
  CHECK(r->cached_tokens * 10 >= r->prompt_tokens * 9);
  CHECK((*store)->get_session(*(*s)->id())->turn_count == 9);
}

TEST_CASE("a cancelled reply is returned but not kept; later turns go on") {
  sdktest::TestEngine t = faq_engine();
  auto store = ChatStore::open(":memory:");
  REQUIRE(store.ok());
  auto s = ChatSession::create(t.runtime, store->get(), kSystem);
  REQUIRE(s.ok());
  std::string streamed;
  auto r = (*s)->send("How do I reset my Lumora Hub?", gen120(), [&](std::string_view p) {
    streamed += p;
    return streamed.size() < 10;
  });
  REQUIRE(r.ok());
  CHECK(r->finish == FinishReason::kCancelled);
  CHECK(r->text.size() >= 10);
  CHECK(streamed.starts_with(r->text.substr(0, 10)));
  auto history = (*s)->history();
  REQUIRE(history.size() == 2);  // system, user: no reply
  CHECK(history.back().role == "user");
  CHECK((*store)->get_session(*(*s)->id())->turn_count == 2);
  auto again = (*s)->send("Hello?", gen120());
  REQUIRE(again.ok());
  CHECK(again->finish == FinishReason::kStopToken);
  CHECK((*s)->history().size() == 4);
  // The unanswered question is not in the prompt (issue 15 item 15: the model used to see two
  // user turns in a row): the prompt is a fresh session's for the same message.
  auto fresh = ChatSession::create(t.runtime, nullptr, kSystem);
  REQUIRE(fresh.ok());
  auto first = (*fresh)->send("Hello?", gen120());
  REQUIRE(first.ok());
  CHECK(again->prompt_tokens == first->prompt_tokens);
  CHECK(again->text == first->text);
  CHECK((*store)->get_session(*(*s)->id())->turn_count == 4);
  // A store write that fails is an error, and no reply is generated for it.
  CHECK(ChatSession::resume(t.runtime, **store, 12345).status().code() == StatusCode::kNotFound);
}

TEST_CASE("a conversation that outgrows the context drops its oldest turns, or is refused") {
  // Issue 15 item 15: such a chat was OUT_OF_RANGE forever, with no way to trim it.
  sdktest::TestEngine t = faq_engine();
  auto store = ChatStore::open(":memory:");
  REQUIRE(store.ok());
  auto id = (*store)->create_session();
  REQUIRE(id.ok());
  REQUIRE((*store)->append_turn(*id, "system", kSystem).ok());
  std::string long_text;
  for (int i = 0; i < 60; ++i) long_text += "The hub's light blinks blue while it pairs. ";
  for (int turn = 0; turn < 12; ++turn) {  // far more than the 2,048-token context
    REQUIRE((*store)
                ->append_turn(*id, "user", "Question " + std::to_string(turn) + ": " + long_text)
                .ok());
    REQUIRE((*store)->append_turn(*id, "assistant", long_text).ok());
  }
  const int64_t ctx = t.runtime->context_length();
  auto s = ChatSession::resume(t.runtime, **store, *id);
  REQUIRE(s.ok());
  (*s)->set_history_policy(HistoryPolicy::kRefuse);
  auto refused = (*s)->send("How do I reset my Lumora Hub?", gen120());
  CHECK(refused.status().code() == StatusCode::kOutOfRange);
  CHECK((*store)->get_session(*id)->turn_count == 25);  // nothing stored for a refused send

  (*s)->set_history_policy(HistoryPolicy::kDropOldest);
  auto r = (*s)->send("How do I reset my Lumora Hub?", gen120());
  REQUIRE_MESSAGE(r.ok(), r.status().to_string());
  CHECK(r->dropped_turns > 0);
  CHECK(r->dropped_turns % 2 == 0);  // whole exchanges
  CHECK(r->prompt_tokens <= ctx / 2);
  CHECK(r->generated_tokens > 0);
  // The next turn extends the same window: the cache serves it.
  auto next = (*s)->send("Thanks!", gen120());
  REQUIRE(next.ok());
  CHECK(next->dropped_turns == r->dropped_turns);
  CHECK(next->prompt_extended);
  // The store keeps every turn; history() shows them all.
  CHECK((*store)->get_session(*id)->turn_count == 29);
  CHECK((*s)->history().size() == 29);
  // A single message larger than the context is still refused.
  std::string huge;
  for (int i = 0; i < 1200; ++i) huge += "blue light ";
  CHECK((*s)->send(huge, gen120()).status().code() == StatusCode::kOutOfRange);
}

}  // namespace
}  // namespace stemma::chat
