// Two threads appending at once, through one shared store and through two connections.
#include <doctest/doctest.h>

#include <string>
#include <thread>
#include <vector>

#include "sdk/chat/chat_store.h"
#include "tests/sdk/chat/temp_dir.h"

namespace stemma::chat {
namespace {

using testing::TempDir;

constexpr int kPerThread = 150;

// Every turn is present exactly once, indices are dense, and each thread's turns keep its order.
void check_interleaving(const std::vector<ChatTurn>& turns) {
  REQUIRE(turns.size() == 2 * kPerThread);
  int next[2] = {0, 0};
  for (size_t i = 0; i < turns.size(); ++i) {
    CHECK(turns[i].index == static_cast<int64_t>(i));
    const std::string& c = turns[i].content;
    REQUIRE(c.size() > 2);
    int thread = c[1] - '0';
    REQUIRE((thread == 0 || thread == 1));
    CHECK(std::stoi(c.substr(3)) == next[thread]);
    ++next[thread];
  }
  CHECK(next[0] == kPerThread);
  CHECK(next[1] == kPerThread);
}

void append_many(ChatStore* store, SessionId id, int thread, Status* result) {
  for (int i = 0; i < kPerThread; ++i) {
    auto r = store->append_turn(id, thread ? "assistant" : "user",
                                "t" + std::to_string(thread) + ":" + std::to_string(i));
    if (!r.ok()) {
      *result = r.status();
      return;
    }
  }
}

ChatStoreOptions fast_options() {
  // Process-crash durability is all this test needs; it keeps 300 commits quick on slow disks.
  ChatStoreOptions options;
  options.durability = sqlite::Durability::kNormal;
  return options;
}

TEST_CASE("chat store: two threads append to one session through one store") {
  TempDir dir;
  auto store = ChatStore::open(dir.file("chat.db"), fast_options()).value();
  SessionId id = store->create_session().value();
  Status results[2];
  std::thread a(append_many, store.get(), id, 0, &results[0]);
  std::thread b(append_many, store.get(), id, 1, &results[1]);
  a.join();
  b.join();
  REQUIRE_MESSAGE(results[0].ok(), results[0].to_string());
  REQUIRE_MESSAGE(results[1].ok(), results[1].to_string());
  check_interleaving(store->load_session(id).value());
}

TEST_CASE("chat store: two connections to one file append from two threads") {
  TempDir dir;
  const std::string path = dir.file("chat.db");
  auto first = ChatStore::open(path, fast_options()).value();
  auto second = ChatStore::open(path, fast_options()).value();
  SessionId id = first->create_session().value();
  Status results[2];
  std::thread a(append_many, first.get(), id, 0, &results[0]);
  std::thread b(append_many, second.get(), id, 1, &results[1]);
  a.join();
  b.join();
  REQUIRE_MESSAGE(results[0].ok(), results[0].to_string());
  REQUIRE_MESSAGE(results[1].ok(), results[1].to_string());
  check_interleaving(first->load_session(id).value());
  check_interleaving(second->load_session(id).value());
}

}  // namespace
}  // namespace stemma::chat
