#include "sdk/chat/chat_store.h"

#include <array>

#include "sdk/chat/json_text.h"

namespace stemma::chat {
namespace {

using sqlite::Statement;
using sqlite::Transaction;

// Version n of the schema is reached by applying kMigrations[0..n). Append new steps only;
// never edit a released one (files in the field were created by it).
constexpr std::array<sqlite::Migration, 1> kMigrations = {{
    {"sessions and turns",
     R"sql(
CREATE TABLE chat_sessions(
  id INTEGER PRIMARY KEY AUTOINCREMENT,  -- AUTOINCREMENT: a deleted session's id is never reused
  metadata TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  turn_count INTEGER NOT NULL DEFAULT 0,
  parent_id INTEGER REFERENCES chat_sessions(id) ON DELETE SET NULL,
  fork_turn_count INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX chat_sessions_by_update ON chat_sessions(updated_at DESC, id DESC);
CREATE TABLE chat_turns(
  session_id INTEGER NOT NULL REFERENCES chat_sessions(id) ON DELETE CASCADE,
  idx INTEGER NOT NULL,
  role TEXT NOT NULL,
  content TEXT NOT NULL,
  extras TEXT,
  created_at INTEGER NOT NULL,
  UNIQUE(session_id, idx)
);
)sql"},
}};
static_assert(kMigrations.size() == ChatStore::kSchemaVersion);

Status check_role(std::string_view role) {
  if (role.empty() || role.size() > 32) {
    return InvalidArgument("role must be 1-32 characters, got " + std::to_string(role.size()));
  }
  for (char c : role) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok)
      return InvalidArgument("role '" + std::string(role) +
                             "' has a character outside [A-Za-z0-9_-]");
  }
  return OkStatus();
}

Status session_not_found(const std::string& path, SessionId id) {
  return NotFound("chat store " + path + ": no session with id " + std::to_string(id));
}

constexpr const char* kSessionColumns =
    "SELECT id, metadata, created_at, updated_at, turn_count, parent_id, fork_turn_count "
    "FROM chat_sessions ";

SessionInfo read_session(const Statement& st) {
  SessionInfo info;
  info.id = st.column_int64(0);
  info.metadata_json = st.column_text(1);
  info.created_at_ms = st.column_int64(2);
  info.updated_at_ms = st.column_int64(3);
  info.turn_count = st.column_int64(4);
  if (!st.column_is_null(5)) info.parent_id = st.column_int64(5);
  info.fork_turn_count = st.column_int64(6);
  return info;
}

}  // namespace

Result<std::unique_ptr<ChatStore>> ChatStore::open(const std::string& path,
                                                   const ChatStoreOptions& options) {
  sqlite::OpenOptions open_options;
  open_options.create_if_missing = options.create_if_missing;
  open_options.durability = options.durability;
  open_options.busy_timeout_ms = options.busy_timeout_ms;
  STEMMA_ASSIGN_OR_RETURN(std::unique_ptr<sqlite::Database> db,
                          sqlite::Database::open(path, open_options, "chat store"));
  STEMMA_RETURN_IF_ERROR(sqlite::migrate(*db, "chat", kMigrations));
  return std::unique_ptr<ChatStore>(new ChatStore(std::move(db)));
}

Result<SessionId> ChatStore::create_session(std::string_view metadata_json) {
  STEMMA_ASSIGN_OR_RETURN(std::string metadata,
                          sqlite::normalize_json_object(metadata_json, "metadata_json", "{}"));
  std::lock_guard lock(mu_);
  const int64_t now = sqlite::now_unix_ms();
  STEMMA_ASSIGN_OR_RETURN(
      Statement st, db_->prepare("INSERT INTO chat_sessions(metadata, created_at, updated_at) "
                                 "VALUES(?1, ?2, ?2) RETURNING id"));
  STEMMA_RETURN_IF_ERROR(st.bind_text(1, metadata));
  STEMMA_RETURN_IF_ERROR(st.bind_int64(2, now));
  STEMMA_ASSIGN_OR_RETURN(bool row, st.step());
  if (!row) return Internal("chat store: INSERT ... RETURNING gave no id");
  SessionId id = st.column_int64(0);
  STEMMA_RETURN_IF_ERROR(st.run());  // finish the statement so the autocommit completes
  return id;
}

Result<int64_t> ChatStore::append_turn(SessionId session, std::string_view role,
                                       std::string_view content, std::string_view extras_json) {
  STEMMA_RETURN_IF_ERROR(check_role(role));
  STEMMA_ASSIGN_OR_RETURN(std::string extras,
                          sqlite::normalize_json_object(extras_json, "extras_json", ""));
  std::lock_guard lock(mu_);
  const int64_t now = sqlite::now_unix_ms();
  // Claiming the index and inserting the turn is one transaction: a crash leaves both or neither.
  STEMMA_ASSIGN_OR_RETURN(Transaction txn, Transaction::begin(*db_));
  int64_t index = 0;
  {
    STEMMA_ASSIGN_OR_RETURN(Statement st,
                            db_->prepare("UPDATE chat_sessions SET turn_count=turn_count+1, "
                                         "updated_at=?2 WHERE id=?1 RETURNING turn_count-1"));
    STEMMA_RETURN_IF_ERROR(st.bind_int64(1, session));
    STEMMA_RETURN_IF_ERROR(st.bind_int64(2, now));
    STEMMA_ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) return session_not_found(db_->path(), session);
    index = st.column_int64(0);
    STEMMA_RETURN_IF_ERROR(st.run());
  }
  {
    STEMMA_ASSIGN_OR_RETURN(
        Statement st,
        db_->prepare("INSERT INTO chat_turns(session_id, idx, role, content, extras, created_at) "
                     "VALUES(?1, ?2, ?3, ?4, ?5, ?6)"));
    STEMMA_RETURN_IF_ERROR(st.bind_int64(1, session));
    STEMMA_RETURN_IF_ERROR(st.bind_int64(2, index));
    STEMMA_RETURN_IF_ERROR(st.bind_text(3, role));
    STEMMA_RETURN_IF_ERROR(st.bind_text(4, content));
    if (extras.empty()) {
      STEMMA_RETURN_IF_ERROR(st.bind_null(5));
    } else {
      STEMMA_RETURN_IF_ERROR(st.bind_text(5, extras));
    }
    STEMMA_RETURN_IF_ERROR(st.bind_int64(6, now));
    STEMMA_RETURN_IF_ERROR(st.run());
  }
  STEMMA_RETURN_IF_ERROR(txn.commit());
  return index;
}

Result<std::vector<ChatTurn>> ChatStore::load_session(SessionId session) {
  std::lock_guard lock(mu_);
  // One read transaction, so the session row and its turns come from the same snapshot.
  STEMMA_RETURN_IF_ERROR(db_->exec("BEGIN"));
  struct EndRead {
    sqlite::Database* db;
    ~EndRead() { (void)db->exec("COMMIT"); }
  } end_read{db_.get()};
  STEMMA_ASSIGN_OR_RETURN(SessionInfo info, get_session_locked(session));
  std::vector<ChatTurn> turns;
  turns.reserve(static_cast<size_t>(info.turn_count));
  STEMMA_ASSIGN_OR_RETURN(
      Statement st, db_->prepare("SELECT idx, role, content, extras, created_at FROM chat_turns "
                                 "WHERE session_id=?1 ORDER BY idx"));
  STEMMA_RETURN_IF_ERROR(st.bind_int64(1, session));
  while (true) {
    STEMMA_ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) break;
    ChatTurn turn;
    turn.index = st.column_int64(0);
    turn.role = st.column_text(1);
    turn.content = st.column_text(2);
    if (!st.column_is_null(3)) turn.extras_json = st.column_text(3);
    turn.created_at_ms = st.column_int64(4);
    if (turn.index != static_cast<int64_t>(turns.size())) {
      return CorruptData("chat store " + db_->path() + ": session " + std::to_string(session) +
                         " is missing turn " + std::to_string(turns.size()));
    }
    turns.push_back(std::move(turn));
  }
  if (static_cast<int64_t>(turns.size()) != info.turn_count) {
    return CorruptData("chat store " + db_->path() + ": session " + std::to_string(session) +
                       " records " + std::to_string(info.turn_count) + " turns but holds " +
                       std::to_string(turns.size()));
  }
  return turns;
}

Result<SessionInfo> ChatStore::get_session_locked(SessionId session) {
  STEMMA_ASSIGN_OR_RETURN(Statement st, db_->prepare(std::string(kSessionColumns) + "WHERE id=?1"));
  STEMMA_RETURN_IF_ERROR(st.bind_int64(1, session));
  STEMMA_ASSIGN_OR_RETURN(bool row, st.step());
  if (!row) return session_not_found(db_->path(), session);
  return read_session(st);
}

Result<SessionInfo> ChatStore::get_session(SessionId session) {
  std::lock_guard lock(mu_);
  return get_session_locked(session);
}

Result<std::vector<SessionInfo>> ChatStore::list_sessions(int64_t limit, int64_t offset) {
  if (limit < 0 || offset < 0) return InvalidArgument("list_sessions: negative limit or offset");
  std::lock_guard lock(mu_);
  STEMMA_ASSIGN_OR_RETURN(Statement st,
                          db_->prepare(std::string(kSessionColumns) +
                                       "ORDER BY updated_at DESC, id DESC LIMIT ?1 OFFSET ?2"));
  STEMMA_RETURN_IF_ERROR(st.bind_int64(1, limit));
  STEMMA_RETURN_IF_ERROR(st.bind_int64(2, offset));
  std::vector<SessionInfo> out;
  while (true) {
    STEMMA_ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) break;
    out.push_back(read_session(st));
  }
  return out;
}

Status ChatStore::set_metadata(SessionId session, std::string_view metadata_json) {
  STEMMA_ASSIGN_OR_RETURN(std::string metadata,
                          sqlite::normalize_json_object(metadata_json, "metadata_json", "{}"));
  std::lock_guard lock(mu_);
  STEMMA_ASSIGN_OR_RETURN(
      Statement st,
      db_->prepare("UPDATE chat_sessions SET metadata=?2, updated_at=?3 WHERE id=?1"));
  STEMMA_RETURN_IF_ERROR(st.bind_int64(1, session));
  STEMMA_RETURN_IF_ERROR(st.bind_text(2, metadata));
  STEMMA_RETURN_IF_ERROR(st.bind_int64(3, sqlite::now_unix_ms()));
  STEMMA_RETURN_IF_ERROR(st.run());
  if (sqlite3_changes(db_->handle()) != 1) return session_not_found(db_->path(), session);
  return OkStatus();
}

Status ChatStore::delete_session(SessionId session) {
  std::lock_guard lock(mu_);
  STEMMA_ASSIGN_OR_RETURN(Statement st, db_->prepare("DELETE FROM chat_sessions WHERE id=?1"));
  STEMMA_RETURN_IF_ERROR(st.bind_int64(1, session));
  STEMMA_RETURN_IF_ERROR(st.run());
  if (sqlite3_changes(db_->handle()) != 1) return session_not_found(db_->path(), session);
  return OkStatus();
}

Result<SessionId> ChatStore::fork_session(SessionId session, int64_t keep_turns,
                                          std::string_view metadata_json) {
  std::string metadata;
  if (!metadata_json.empty()) {
    STEMMA_ASSIGN_OR_RETURN(metadata,
                            sqlite::normalize_json_object(metadata_json, "metadata_json", "{}"));
  }
  std::lock_guard lock(mu_);
  STEMMA_ASSIGN_OR_RETURN(Transaction txn, Transaction::begin(*db_));
  STEMMA_ASSIGN_OR_RETURN(SessionInfo parent, get_session_locked(session));
  if (keep_turns < 0 || keep_turns > parent.turn_count) {
    return OutOfRange("fork_session: keep_turns " + std::to_string(keep_turns) + " is outside 0.." +
                      std::to_string(parent.turn_count) + " for session " +
                      std::to_string(session));
  }
  if (metadata.empty()) metadata = parent.metadata_json;
  const int64_t now = sqlite::now_unix_ms();
  SessionId child = 0;
  {
    STEMMA_ASSIGN_OR_RETURN(
        Statement st,
        db_->prepare("INSERT INTO chat_sessions(metadata, created_at, updated_at, turn_count, "
                     "parent_id, fork_turn_count) VALUES(?1, ?2, ?2, ?3, ?4, ?3) RETURNING id"));
    STEMMA_RETURN_IF_ERROR(st.bind_text(1, metadata));
    STEMMA_RETURN_IF_ERROR(st.bind_int64(2, now));
    STEMMA_RETURN_IF_ERROR(st.bind_int64(3, keep_turns));
    STEMMA_RETURN_IF_ERROR(st.bind_int64(4, session));
    STEMMA_ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) return Internal("chat store: INSERT ... RETURNING gave no id");
    child = st.column_int64(0);
    STEMMA_RETURN_IF_ERROR(st.run());
  }
  {
    STEMMA_ASSIGN_OR_RETURN(
        Statement st,
        db_->prepare("INSERT INTO chat_turns(session_id, idx, role, content, extras, created_at) "
                     "SELECT ?1, idx, role, content, extras, created_at FROM chat_turns "
                     "WHERE session_id=?2 AND idx<?3 ORDER BY idx"));
    STEMMA_RETURN_IF_ERROR(st.bind_int64(1, child));
    STEMMA_RETURN_IF_ERROR(st.bind_int64(2, session));
    STEMMA_RETURN_IF_ERROR(st.bind_int64(3, keep_turns));
    STEMMA_RETURN_IF_ERROR(st.run());
  }
  STEMMA_RETURN_IF_ERROR(txn.commit());
  return child;
}

Status ChatStore::truncate_session(SessionId session, int64_t keep_turns) {
  std::lock_guard lock(mu_);
  STEMMA_ASSIGN_OR_RETURN(Transaction txn, Transaction::begin(*db_));
  STEMMA_ASSIGN_OR_RETURN(SessionInfo info, get_session_locked(session));
  if (keep_turns < 0 || keep_turns > info.turn_count) {
    return OutOfRange("truncate_session: keep_turns " + std::to_string(keep_turns) +
                      " is outside 0.." + std::to_string(info.turn_count) + " for session " +
                      std::to_string(session));
  }
  {
    STEMMA_ASSIGN_OR_RETURN(Statement st,
                            db_->prepare("DELETE FROM chat_turns WHERE session_id=?1 AND idx>=?2"));
    STEMMA_RETURN_IF_ERROR(st.bind_int64(1, session));
    STEMMA_RETURN_IF_ERROR(st.bind_int64(2, keep_turns));
    STEMMA_RETURN_IF_ERROR(st.run());
  }
  {
    STEMMA_ASSIGN_OR_RETURN(
        Statement st,
        db_->prepare("UPDATE chat_sessions SET turn_count=?2, updated_at=?3 WHERE id=?1"));
    STEMMA_RETURN_IF_ERROR(st.bind_int64(1, session));
    STEMMA_RETURN_IF_ERROR(st.bind_int64(2, keep_turns));
    STEMMA_RETURN_IF_ERROR(st.bind_int64(3, sqlite::now_unix_ms()));
    STEMMA_RETURN_IF_ERROR(st.run());
  }
  return txn.commit();
}

}  // namespace stemma::chat
