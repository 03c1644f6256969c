// A thin RAII layer over one SQLite connection, shared by the chat store and the RAG store.
// It owns the things every Stemma store must get right the same way: refusing files that are
// not ours (never scribbling into someone else's database), WAL journaling with a chosen
// durability, busy timeouts, cached prepared statements, and errors that name the file.
//
// Not thread-safe by itself: a Database is one connection and its owner serializes calls
// (ChatStore and RagStore each hold a mutex around their connection).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

#include "engine/api/status.h"

namespace stemma::sqlite {

// How much a COMMIT promises. Both run in WAL mode.
enum class Durability {
  // synchronous=FULL: the WAL is fsync'ed at every commit, so a committed transaction survives a
  // process crash AND an OS crash or power loss. The default: a chat turn costs one fsync, which
  // is noise next to generating it.
  kFull,
  // synchronous=NORMAL: a committed transaction survives a process crash (the WAL frames are in
  // the OS page cache before COMMIT returns) but the last commits may roll back on power loss.
  kNormal,
};

struct OpenOptions {
  bool create_if_missing = true;
  Durability durability = Durability::kFull;
  // How long a writer waits for another connection's lock before giving up (SQLITE_BUSY).
  int busy_timeout_ms = 5000;
};

class Database;

// The path that opens a private, in-memory store (gone when closed; no WAL, no durability).
inline constexpr const char* kInMemoryPath = ":memory:";

// A prepared statement checked out of a Database's cache. Resets itself (and clears its
// bindings) when it goes out of scope so the cached statement is ready for the next user.
class Statement {
 public:
  Statement(Database* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement(Statement&& other) noexcept : db_(other.db_), stmt_(other.stmt_) {
    other.stmt_ = nullptr;
  }
  ~Statement();

  // Parameters are 1-based, as in SQLite.
  Status bind_int64(int index, int64_t value);
  Status bind_double(int index, double value);
  Status bind_text(int index, std::string_view value);
  Status bind_null(int index);

  // Runs one step: true when a row is available, false when the statement is done.
  Result<bool> step();
  // Runs a statement that returns no rows (or ignores them) to completion.
  Status run();
  // Makes the statement ready to run again with new bindings (old ones are kept until rebound).
  void reset() { sqlite3_reset(stmt_); }

  int64_t column_int64(int col) const { return sqlite3_column_int64(stmt_, col); }
  double column_double(int col) const { return sqlite3_column_double(stmt_, col); }
  bool column_is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::string column_text(int col) const;

 private:
  Database* db_;
  sqlite3_stmt* stmt_;
};

// An open store file.
class Database {
 public:
  // Opens (or creates) `path` as a Stemma store: refuses non-database files, databases that
  // another application owns, and databases that hold tables Stemma did not create. Switches the
  // file to WAL mode and sets the durability. Never truncates or rewrites existing content.
  // `what` names the store in errors ("chat store", "RAG store").
  static Result<std::unique_ptr<Database>> open(const std::string& path, const OpenOptions& options,
                                                std::string_view what);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  const std::string& path() const { return path_; }
  sqlite3* handle() { return db_; }

  // Runs SQL text (may hold several statements) that returns no rows.
  Status exec(std::string_view sql);
  // A cached prepared statement for `sql` (prepared once per connection).
  Result<Statement> prepare(const std::string& sql);

  // The Status for the connection's last error, with `doing` as context and the file named.
  Status last_error(std::string_view doing) const;
  Status error_for(int rc, std::string_view doing) const;

 private:
  Database(std::string path, sqlite3* db, std::string what)
      : path_(std::move(path)), db_(db), what_(std::move(what)) {}
  Status check_ownership();

  std::string path_;
  sqlite3* db_;
  std::string what_;
  std::unordered_map<std::string, sqlite3_stmt*> statements_;
};

// BEGIN IMMEDIATE ... COMMIT, rolled back if destroyed before commit(). IMMEDIATE takes the
// write lock up front so two connections never deadlock upgrading read locks to write locks
// (the busy timeout then simply queues writers).
class Transaction {
 public:
  static Result<Transaction> begin(Database& db);
  Transaction(Transaction&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();
  Status commit();

 private:
  explicit Transaction(Database* db) : db_(db) {}
  Database* db_;
};

// One schema step: SQL that moves a component from version (index) to version (index + 1).
struct Migration {
  const char* description;
  const char* sql;
};

// Brings `component`'s schema to version migrations.size(), applying the missing steps in one
// transaction. Versions are kept per component in the table stemma_schema, so the chat store and
// the RAG store may share one file. A file whose version is newer than this build knows is
// refused (kUnsupported): an older build must not write into a schema it does not understand.
Status migrate(Database& db, std::string_view component, std::span<const Migration> migrations);

// The schema version recorded for `component` (0 when none).
Result<int64_t> schema_version(Database& db, std::string_view component);

// Milliseconds since the Unix epoch (wall clock), for created/updated stamps.
int64_t now_unix_ms();

}  // namespace stemma::sqlite
