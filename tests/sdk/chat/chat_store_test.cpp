// ChatStore behaviour: sessions, turns, metadata, forks, truncation, and resuming after reopen.
#include "sdk/chat/chat_store.h"

#include <doctest/doctest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/sdk/chat/temp_dir.h"

namespace stemma::chat {
namespace {

using testing::TempDir;

std::unique_ptr<ChatStore> open_store(const std::string& path) {
  auto store = ChatStore::open(path);
  REQUIRE_MESSAGE(store.ok(), store.status().to_string());
  return std::move(store).value();
}

TEST_CASE("chat store: turns come back in order with their roles, content and extras") {
  TempDir dir;
  auto store = open_store(dir.file("chat.db"));
  auto id = store->create_session(R"({"user":"ada","model":"qwen"})");
  REQUIRE(id.ok());
  CHECK(store->append_turn(*id, "system", "You are terse.").value() == 0);
  CHECK(store->append_turn(*id, "user", "Weather in Paris?").value() == 1);
  const std::string tool_call =
      R"({"tool_calls":[{"name":"weather","arguments":{"city":"Paris"}}]})";
  CHECK(store->append_turn(*id, "assistant", "", tool_call).value() == 2);
  CHECK(store->append_turn(*id, "tool", "{\"temp_c\": 21}").value() == 3);
  // Text with quotes, NUL bytes and multi-byte UTF-8 is stored byte for byte.
  const std::string tricky = std::string(
                                 "It's \"21\" \xC2\xB0"
                                 "C\n") +
                             std::string(1, '\0') + "end";
  CHECK(store->append_turn(*id, "assistant", tricky).value() == 4);

  auto turns = store->load_session(*id);
  REQUIRE(turns.ok());
  REQUIRE(turns->size() == 5);
  CHECK((*turns)[0].role == "system");
  CHECK((*turns)[1].content == "Weather in Paris?");
  CHECK(nlohmann::json::parse((*turns)[2].extras_json) == nlohmann::json::parse(tool_call));
  CHECK((*turns)[3].extras_json.empty());
  CHECK((*turns)[4].content == tricky);
  for (size_t i = 0; i < turns->size(); ++i) CHECK((*turns)[i].index == static_cast<int64_t>(i));

  auto info = store->get_session(*id);
  REQUIRE(info.ok());
  CHECK(info->turn_count == 5);
  CHECK(nlohmann::json::parse(info->metadata_json) ==
        nlohmann::json{{"user", "ada"}, {"model", "qwen"}});
  CHECK_FALSE(info->parent_id.has_value());
}

TEST_CASE("chat store: invalid arguments are refused and change nothing") {
  TempDir dir;
  auto store = open_store(dir.file("chat.db"));
  CHECK(store->create_session("[1,2]").status().code() == StatusCode::kInvalidArgument);
  CHECK(store->create_session("{not json").status().code() == StatusCode::kInvalidArgument);
  auto id = store->create_session();
  REQUIRE(id.ok());
  CHECK(store->append_turn(*id, "", "x").status().code() == StatusCode::kInvalidArgument);
  CHECK(store->append_turn(*id, "us er", "x").status().code() == StatusCode::kInvalidArgument);
  CHECK(store->append_turn(*id, "user", "x", "\"str\"").status().code() ==
        StatusCode::kInvalidArgument);
  auto missing = store->append_turn(*id + 100, "user", "x");
  CHECK(missing.status().code() == StatusCode::kNotFound);
  CHECK(missing.status().message().find(std::to_string(*id + 100)) != std::string::npos);
  CHECK(store->load_session(*id)->empty());
  CHECK(store->get_session(*id)->turn_count == 0);
  CHECK(store->load_session(*id + 100).status().code() == StatusCode::kNotFound);
  CHECK(store->delete_session(*id + 100).code() == StatusCode::kNotFound);
  CHECK(store->set_metadata(*id + 100, "{}").code() == StatusCode::kNotFound);
}

TEST_CASE("chat store: fork copies the leading turns and leaves the parent alone") {
  TempDir dir;
  auto store = open_store(dir.file("chat.db"));
  SessionId parent = store->create_session(R"({"topic":"router"})").value();
  for (int i = 0; i < 6; ++i) {
    REQUIRE(
        store->append_turn(parent, i % 2 ? "assistant" : "user", "turn " + std::to_string(i)).ok());
  }
  auto child = store->fork_session(parent, 3);
  REQUIRE(child.ok());
  CHECK(*child != parent);
  REQUIRE(store->append_turn(*child, "assistant", "a different answer").ok());

  auto child_turns = store->load_session(*child).value();
  REQUIRE(child_turns.size() == 4);
  CHECK(child_turns[2].content == "turn 2");
  CHECK(child_turns[3].content == "a different answer");
  auto parent_turns = store->load_session(parent).value();
  REQUIRE(parent_turns.size() == 6);
  CHECK(parent_turns[3].content == "turn 3");

  auto info = store->get_session(*child).value();
  CHECK(info.parent_id == parent);
  CHECK(info.fork_turn_count == 3);
  CHECK(nlohmann::json::parse(info.metadata_json)["topic"] == "router");

  auto with_meta = store->fork_session(parent, 0, R"({"branch":"b"})");
  REQUIRE(with_meta.ok());
  CHECK(store->load_session(*with_meta)->empty());
  CHECK(nlohmann::json::parse(store->get_session(*with_meta)->metadata_json) ==
        nlohmann::json{{"branch", "b"}});
  CHECK(store->fork_session(parent, 7).status().code() == StatusCode::kOutOfRange);
  CHECK(store->fork_session(parent, -1).status().code() == StatusCode::kOutOfRange);

  // Deleting the parent keeps the fork's own copy; the link is cleared.
  REQUIRE(store->delete_session(parent).ok());
  CHECK(store->load_session(*child)->size() == 4);
  CHECK_FALSE(store->get_session(*child)->parent_id.has_value());
  CHECK(store->get_session(parent).status().code() == StatusCode::kNotFound);
}

TEST_CASE("chat store: truncate drops the tail and appends continue from there") {
  TempDir dir;
  auto store = open_store(dir.file("chat.db"));
  SessionId id = store->create_session().value();
  for (int i = 0; i < 4; ++i) REQUIRE(store->append_turn(id, "user", std::to_string(i)).ok());
  REQUIRE(store->truncate_session(id, 2).ok());
  CHECK(store->append_turn(id, "assistant", "again").value() == 2);
  auto turns = store->load_session(id).value();
  REQUIRE(turns.size() == 3);
  CHECK(turns[1].content == "1");
  CHECK(turns[2].content == "again");
  CHECK(store->truncate_session(id, 4).code() == StatusCode::kOutOfRange);
}

TEST_CASE("chat store: list_sessions orders by last update and pages") {
  TempDir dir;
  auto store = open_store(dir.file("chat.db"));
  SessionId a = store->create_session(R"({"name":"a"})").value();
  SessionId b = store->create_session(R"({"name":"b"})").value();
  SessionId c = store->create_session(R"({"name":"c"})").value();
  // Ties on updated_at break by id (newest first), so b and c list as c, b whatever the clock
  // did; the pause makes the append to a strictly later than both.
  std::this_thread::sleep_for(std::chrono::milliseconds(3));
  REQUIRE(store->append_turn(a, "user", "hi").ok());
  auto all = store->list_sessions().value();
  REQUIRE(all.size() == 3);
  CHECK(all[0].id == a);
  CHECK(all[0].turn_count == 1);
  CHECK(all[1].id == c);
  CHECK(all[2].id == b);
  auto page = store->list_sessions(1, 1).value();
  REQUIRE(page.size() == 1);
  CHECK(page[0].id == c);
  REQUIRE(store->delete_session(c).ok());
  CHECK(store->list_sessions()->size() == 2);
  // Ids are never reused after a delete.
  CHECK(store->create_session().value() > c);
}

TEST_CASE("chat store: sessions resume after close and reopen") {
  TempDir dir;
  const std::string path = dir.file("resume.db");
  SessionId id = 0;
  {
    auto store = open_store(path);
    id = store->create_session(R"({"k":1})").value();
    REQUIRE(store->append_turn(id, "user", "first").ok());
    REQUIRE(store->append_turn(id, "assistant", "second", R"({"tokens":7})").ok());
  }
  for (int restart = 0; restart < 3; ++restart) {
    auto store = open_store(path);
    auto turns = store->load_session(id);
    REQUIRE(turns.ok());
    REQUIRE(turns->size() == static_cast<size_t>(2 + restart));
    CHECK((*turns)[0].content == "first");
    CHECK(nlohmann::json::parse((*turns)[1].extras_json)["tokens"] == 7);
    CHECK(store->append_turn(id, "user", "after restart " + std::to_string(restart)).value() ==
          2 + restart);
  }
  auto store = open_store(path);
  auto turns = store->load_session(id).value();
  REQUIRE(turns.size() == 5);
  CHECK(turns[4].content == "after restart 2");
  CHECK(nlohmann::json::parse(store->get_session(id)->metadata_json)["k"] == 1);
}

TEST_CASE("chat store: metadata can be replaced") {
  TempDir dir;
  auto store = open_store(dir.file("chat.db"));
  SessionId id = store->create_session(R"({"title":"draft"})").value();
  REQUIRE(store->set_metadata(id, R"({"title":"Router setup","tags":["wifi"]})").ok());
  auto meta = nlohmann::json::parse(store->get_session(id)->metadata_json);
  CHECK(meta["title"] == "Router setup");
  CHECK(meta["tags"][0] == "wifi");
  CHECK(store->set_metadata(id, "3").code() == StatusCode::kInvalidArgument);
  CHECK(nlohmann::json::parse(store->get_session(id)->metadata_json)["title"] == "Router setup");
}

}  // namespace
}  // namespace stemma::chat

namespace stemma::chat {
namespace {

TEST_CASE("chat store: an in-memory store works and is private to its connection") {
  auto store = ChatStore::open(sqlite::kInMemoryPath);
  REQUIRE_MESSAGE(store.ok(), store.status().to_string());
  SessionId id = (*store)->create_session().value();
  CHECK((*store)->append_turn(id, "user", "hello").value() == 0);
  auto other = ChatStore::open(sqlite::kInMemoryPath);
  REQUIRE(other.ok());
  CHECK((*other)->list_sessions()->empty());
}

}  // namespace
}  // namespace stemma::chat
