// Files that are not chat stores are refused with the file named, and are never modified.
#include <sqlite3.h>

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include "sdk/chat/chat_store.h"
#include "tests/sdk/chat/temp_dir.h"

namespace stemma::chat {
namespace {

using testing::TempDir;

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

void raw_exec(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
  std::string message = err ? err : "";
  sqlite3_free(err);
  sqlite3_close(db);
  REQUIRE_MESSAGE(rc == SQLITE_OK, message);
}

TEST_CASE("chat store: a text file is refused, named, and left untouched") {
  TempDir dir;
  const std::string path = dir.file("notes.txt");
  std::string text;
  for (int i = 0; i < 200; ++i) text += "line " + std::to_string(i) + " of my precious notes\n";
  write_bytes(path, text);
  auto store = ChatStore::open(path);
  REQUIRE_FALSE(store.ok());
  CHECK(store.status().code() == StatusCode::kCorruptData);
  CHECK(store.status().message().find(path) != std::string::npos);
  CHECK(store.status().message().find("not a SQLite database") != std::string::npos);
  CHECK(read_bytes(path) == text);
  CHECK_FALSE(std::filesystem::exists(path + "-wal"));
}

TEST_CASE("chat store: a store with a damaged header is refused and not rewritten") {
  TempDir dir;
  const std::string path = dir.file("chat.db");
  {
    auto store = ChatStore::open(path);
    REQUIRE(store.ok());
    SessionId id = (*store)->create_session().value();
    REQUIRE((*store)->append_turn(id, "user", "keep me").ok());
  }
  std::string bytes = read_bytes(path);
  REQUIRE(bytes.size() > 100);
  bytes.replace(0, 16, "NotSQLiteFormat!");
  write_bytes(path, bytes);
  auto store = ChatStore::open(path);
  REQUIRE_FALSE(store.ok());
  CHECK(store.status().message().find(path) != std::string::npos);
  CHECK(read_bytes(path) == bytes);
}

TEST_CASE("chat store: another application's database is refused and left untouched") {
  TempDir dir;
  const std::string path = dir.file("app.db");
  raw_exec(path,
           "CREATE TABLE invoices(id INTEGER PRIMARY KEY, total REAL);"
           "INSERT INTO invoices(total) VALUES (12.5), (99.0);");
  const std::string before = read_bytes(path);
  auto store = ChatStore::open(path);
  REQUIRE_FALSE(store.ok());
  CHECK(store.status().code() == StatusCode::kFailedPrecondition);
  CHECK(store.status().message().find("invoices") != std::string::npos);
  CHECK(store.status().message().find(path) != std::string::npos);
  CHECK(read_bytes(path) == before);

  const std::string stamped = dir.file("stamped.db");
  raw_exec(stamped, "PRAGMA application_id=1234; CREATE TABLE t(x);");
  auto other = ChatStore::open(stamped);
  REQUIRE_FALSE(other.ok());
  CHECK(other.status().message().find("another application") != std::string::npos);
}

TEST_CASE("chat store: a newer schema version is refused and its data kept") {
  TempDir dir;
  const std::string path = dir.file("chat.db");
  SessionId id = 0;
  {
    auto store = ChatStore::open(path);
    REQUIRE(store.ok());
    id = (*store)->create_session().value();
    REQUIRE((*store)->append_turn(id, "user", "from the future").ok());
  }
  raw_exec(path, "UPDATE stemma_schema SET version=99 WHERE component='chat'");
  auto newer = ChatStore::open(path);
  REQUIRE_FALSE(newer.ok());
  CHECK(newer.status().code() == StatusCode::kUnsupported);
  CHECK(newer.status().message().find("99") != std::string::npos);
  CHECK(newer.status().message().find(path) != std::string::npos);
  // The refusal wrote nothing: put the version back and every turn is still there.
  raw_exec(path, "UPDATE stemma_schema SET version=1 WHERE component='chat'");
  auto store = ChatStore::open(path);
  REQUIRE(store.ok());
  auto turns = (*store)->load_session(id);
  REQUIRE(turns.ok());
  REQUIRE(turns->size() == 1);
  CHECK((*turns)[0].content == "from the future");
}

TEST_CASE("chat store: missing files, directories and empty paths") {
  TempDir dir;
  ChatStoreOptions no_create;
  no_create.create_if_missing = false;
  auto missing = ChatStore::open(dir.file("absent.db"), no_create);
  CHECK(missing.status().code() == StatusCode::kNotFound);
  CHECK_FALSE(std::filesystem::exists(dir.file("absent.db")));
  auto directory = ChatStore::open(dir.path());
  CHECK(directory.status().code() == StatusCode::kInvalidArgument);
  CHECK(ChatStore::open("").status().code() == StatusCode::kInvalidArgument);
  auto no_parent = ChatStore::open(dir.file("no/such/dir/chat.db"));
  CHECK_FALSE(no_parent.ok());
  CHECK(no_parent.status().message().find("no/such/dir/chat.db") != std::string::npos);
}

TEST_CASE("chat store: an empty file becomes a new store") {
  TempDir dir;
  const std::string path = dir.file("empty.db");
  write_bytes(path, "");
  auto store = ChatStore::open(path);
  REQUIRE_MESSAGE(store.ok(), store.status().to_string());
  CHECK((*store)->create_session().ok());
}

}  // namespace
}  // namespace stemma::chat
