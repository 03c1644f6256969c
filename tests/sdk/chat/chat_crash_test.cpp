// A writer killed with SIGKILL in the middle of a write loop loses no committed turn and leaves
// no partial one. The writer is a forked child; it reports each index after append_turn returns
// (i.e. after COMMIT), so the parent knows a lower bound of what must be on disk.
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <cstring>
#include <nlohmann/json.hpp>
#include <string>

#include "sdk/chat/chat_store.h"
#include "tests/sdk/chat/temp_dir.h"

namespace stemma::chat {
namespace {

using testing::TempDir;

// Turn i's content is large (tens of KB, several pages), so a kill often lands inside a write.
std::string content_for(int64_t i) {
  std::string unit = "turn " + std::to_string(i) + " payload; ";
  std::string out;
  const size_t size = 8000 + static_cast<size_t>((i * 7919) % 40000);
  while (out.size() < size) out += unit;
  out.resize(size);
  return out;
}

std::string extras_for(int64_t i) {
  return nlohmann::json{{"i", i}, {"check", i * 31}}.dump();
}

[[noreturn]] void run_writer(const std::string& path, SessionId session, int report_fd) {
  auto store = ChatStore::open(path);
  if (!store.ok()) _exit(2);
  for (int64_t i = (*store)->get_session(session)->turn_count;; ++i) {
    auto index =
        (*store)->append_turn(session, i % 2 ? "assistant" : "user", content_for(i), extras_for(i));
    if (!index.ok() || *index != i) _exit(3);
    if (write(report_fd, &i, sizeof i) != static_cast<ssize_t>(sizeof i)) _exit(4);
  }
}

// Reads one reported index; false at end of stream.
bool read_report(int fd, int64_t* index) {
  size_t got = 0;
  char* out = reinterpret_cast<char*>(index);
  while (got < sizeof *index) {
    ssize_t n = read(fd, out + got, sizeof *index - got);
    if (n <= 0) return false;
    got += static_cast<size_t>(n);
  }
  return true;
}

void check_integrity(const std::string& path) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  CHECK(std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, 0))) == "ok");
  sqlite3_finalize(st);
  sqlite3_close(db);
}

TEST_CASE("chat store: SIGKILL mid-write loses no committed turn and leaves no partial turn") {
  TempDir dir;
  const std::string path = dir.file("crash.db");
  SessionId session = 0;
  {
    auto store = ChatStore::open(path);
    REQUIRE(store.ok());
    session = (*store)->create_session(R"({"test":"crash"})").value();
  }
  int64_t committed = 0;  // turns known to be committed so far
  // Several rounds: each child resumes the same session after the previous one was killed.
  const int kills_after[] = {25, 7, 16};
  for (int wait_for : kills_after) {
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      close(fds[0]);
      run_writer(path, session, fds[1]);
    }
    close(fds[1]);
    int64_t last = committed - 1;
    for (int seen = 0; seen < wait_for; ++seen) {
      int64_t index = 0;
      REQUIRE_MESSAGE(read_report(fds[0], &index), "writer died early");
      CHECK(index == last + 1);
      last = index;
    }
    // The child is now inside its next append_turn (or about to be).
    REQUIRE(kill(child, SIGKILL) == 0);
    int wstatus = 0;
    REQUIRE(waitpid(child, &wstatus, 0) == child);
    CHECK(WIFSIGNALED(wstatus));
    CHECK(WTERMSIG(wstatus) == SIGKILL);
    int64_t index = 0;
    while (read_report(fds[0], &index)) last = index;  // reports still in the pipe
    close(fds[0]);

    auto store = ChatStore::open(path);
    REQUIRE_MESSAGE(store.ok(), store.status().to_string());
    auto turns = (*store)->load_session(session);
    REQUIRE_MESSAGE(turns.ok(), turns.status().to_string());
    // Every reported turn is there; at most one more (committed, killed before reporting).
    CHECK(static_cast<int64_t>(turns->size()) >= last + 1);
    CHECK(static_cast<int64_t>(turns->size()) <= last + 2);
    for (const ChatTurn& turn : *turns) {
      CHECK(turn.role == (turn.index % 2 ? "assistant" : "user"));
      CHECK(turn.content == content_for(turn.index));
      CHECK(turn.extras_json == extras_for(turn.index));
    }
    CHECK((*store)->get_session(session)->turn_count == static_cast<int64_t>(turns->size()));
    committed = static_cast<int64_t>(turns->size());
  }
  check_integrity(path);
  CHECK(committed >= 25 + 7 + 16);
}

}  // namespace
}  // namespace stemma::chat
