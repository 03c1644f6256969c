// ChatStore: multi-turn chat sessions persisted in one SQLite file.
//
// A session is an ordered list of turns (role + content + optional JSON extras such as tool
// calls) with a JSON metadata object. Sessions can be forked at any turn to branch a
// conversation; the fork copies the leading turns and remembers its parent.
//
// Durability: every call that writes is one transaction; when it returns OK the data is
// committed, and with Durability::kFull (the default) it survives a process kill, an OS crash
// or a power cut. A crash mid-write leaves either the whole turn or nothing (see
// docs/sdk-store.md).
//
// Threads: a ChatStore is one SQLite connection guarded by a mutex; any thread may call any
// method. Several ChatStores (in one process or several) may open the same file: writers queue
// on SQLite's lock for up to busy_timeout_ms.
//
// All data in and out is plain (ids, strings, JSON text) so the C ABI can wrap it one-to-one.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/api/status.h"
#include "sdk/chat/sqlite_db.h"

namespace stemma::chat {

using SessionId = int64_t;

struct ChatStoreOptions {
  bool create_if_missing = true;
  sqlite::Durability durability = sqlite::Durability::kFull;
  int busy_timeout_ms = 5000;
};

struct ChatTurn {
  int64_t index = 0;          // 0-based position in its session
  std::string role;           // "system", "user", "assistant", "tool", ...
  std::string content;        // the message text (UTF-8)
  std::string extras_json;    // a JSON object (tool calls, token counts, ...) or "" for none
  int64_t created_at_ms = 0;  // Unix epoch milliseconds
};

struct SessionInfo {
  SessionId id = 0;
  std::string metadata_json;  // a JSON object, "{}" when none was given
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;  // the last append, fork or metadata change
  int64_t turn_count = 0;
  std::optional<SessionId> parent_id;  // the session this one was forked from (if it still exists)
  int64_t fork_turn_count = 0;         // how many of the parent's turns it started with
};

class ChatStore {
 public:
  static constexpr int kSchemaVersion = 1;

  // Opens or creates the store at `path`. Refuses (with the file named) a file that is not a
  // SQLite database, a database of another application, or one written by a newer Stemma.
  static Result<std::unique_ptr<ChatStore>> open(const std::string& path,
                                                 const ChatStoreOptions& options = {});

  // A new empty session. `metadata_json` must be a JSON object ("" means "{}").
  Result<SessionId> create_session(std::string_view metadata_json = "");

  // Appends one turn at the end of the session; returns its index. `extras_json` is "" or a JSON
  // object. Roles are 1-32 characters of [A-Za-z0-9_-].
  Result<int64_t> append_turn(SessionId session, std::string_view role, std::string_view content,
                              std::string_view extras_json = "");

  // The session's turns in order.
  Result<std::vector<ChatTurn>> load_session(SessionId session);
  Result<SessionInfo> get_session(SessionId session);
  // Sessions, most recently updated first.
  Result<std::vector<SessionInfo>> list_sessions(int64_t limit = 100, int64_t offset = 0);

  // Replaces the metadata object.
  Status set_metadata(SessionId session, std::string_view metadata_json);
  // Removes the session and its turns; sessions forked from it keep their own copies.
  Status delete_session(SessionId session);
  // A new session holding copies of the first `keep_turns` turns of `session` (0..turn_count),
  // with the parent's metadata unless `metadata_json` is given. The parent is unchanged.
  Result<SessionId> fork_session(SessionId session, int64_t keep_turns,
                                 std::string_view metadata_json = "");
  // Drops every turn from index `keep_turns` on (e.g. to regenerate an answer in place).
  Status truncate_session(SessionId session, int64_t keep_turns);

  const std::string& path() const { return db_->path(); }

 private:
  explicit ChatStore(std::unique_ptr<sqlite::Database> db) : db_(std::move(db)) {}
  Result<SessionInfo> get_session_locked(SessionId session);

  std::mutex mu_;
  std::unique_ptr<sqlite::Database> db_;
};

}  // namespace stemma::chat
