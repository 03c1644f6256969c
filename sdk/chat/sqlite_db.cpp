#include "sdk/chat/sqlite_db.h"

#include <chrono>
#include <filesystem>
#include <system_error>

namespace stemma::sqlite {
namespace {

// PRAGMA application_id stamped on every file Stemma creates ("Stma").
constexpr int32_t kStemmaApplicationId = 0x53746D61;

StatusCode code_for(int rc) {
  switch (rc & 0xff) {
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      return StatusCode::kCorruptData;
    case SQLITE_CANTOPEN:
      return StatusCode::kIoError;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return StatusCode::kResourceExhausted;
    case SQLITE_FULL:
    case SQLITE_NOMEM:
      return StatusCode::kResourceExhausted;
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return StatusCode::kFailedPrecondition;
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_TOOBIG:
    case SQLITE_RANGE:
      return StatusCode::kInvalidArgument;
    case SQLITE_MISUSE:
    case SQLITE_INTERNAL:
      return StatusCode::kInternal;
    default:
      return StatusCode::kIoError;
  }
}

}  // namespace

int64_t now_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// ---- Statement ----

Statement::~Statement() {
  if (stmt_ == nullptr) return;
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

Status Statement::bind_int64(int index, int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  return rc == SQLITE_OK ? OkStatus() : db_->error_for(rc, "binding a parameter");
}

Status Statement::bind_double(int index, double value) {
  int rc = sqlite3_bind_double(stmt_, index, value);
  return rc == SQLITE_OK ? OkStatus() : db_->error_for(rc, "binding a parameter");
}

Status Statement::bind_text(int index, std::string_view value) {
  // SQLITE_TRANSIENT: SQLite copies the bytes, so callers may pass temporaries.
  int rc =
      sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  return rc == SQLITE_OK ? OkStatus() : db_->error_for(rc, "binding a text parameter");
}

Status Statement::bind_null(int index) {
  int rc = sqlite3_bind_null(stmt_, index);
  return rc == SQLITE_OK ? OkStatus() : db_->error_for(rc, "binding a parameter");
}

Result<bool> Statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  const char* sql = sqlite3_sql(stmt_);
  return db_->error_for(rc, std::string("running \"") + (sql ? sql : "?") + "\"");
}

Status Statement::run() {
  while (true) {
    STEMMA_ASSIGN_OR_RETURN(bool row, step());
    if (!row) return OkStatus();
  }
}

std::string Statement::column_text(int col) const {
  const unsigned char* text = sqlite3_column_text(stmt_, col);
  int bytes = sqlite3_column_bytes(stmt_, col);
  if (text == nullptr) return std::string();
  return std::string(reinterpret_cast<const char*>(text), static_cast<size_t>(bytes));
}

// ---- Database ----

Status Database::error_for(int rc, std::string_view doing) const {
  std::string msg = what_ + " " + path_ + ": " + std::string(doing) + " failed: ";
  if ((rc & 0xff) == SQLITE_NOTADB) {
    msg += "the file is not a SQLite database (or is encrypted or damaged)";
  } else if ((rc & 0xff) == SQLITE_CORRUPT) {
    msg += "the database file is corrupt";
  } else if ((rc & 0xff) == SQLITE_BUSY) {
    msg += "the database is locked by another connection (busy timeout expired)";
  }
  const char* detail = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
  msg += std::string(" (") + (detail ? detail : sqlite3_errstr(rc)) + ", SQLite code " +
         std::to_string(rc) + ")";
  return Status(code_for(rc), std::move(msg));
}

Status Database::last_error(std::string_view doing) const {
  return error_for(sqlite3_extended_errcode(db_), doing);
}

Result<std::unique_ptr<Database>> Database::open(const std::string& path,
                                                 const OpenOptions& options,
                                                 std::string_view what) {
  if (path.empty()) return InvalidArgument(std::string(what) + ": empty path");
  // ":memory:" is a private in-memory database (tests, demos); it has no file to protect.
  const bool in_memory = path == kInMemoryPath;
  std::error_code ec;
  bool exists = !in_memory && std::filesystem::exists(path, ec);
  if (!exists && !in_memory && !options.create_if_missing) {
    return NotFound(std::string(what) + " " + path + ": no such file");
  }
  if (exists && std::filesystem::is_directory(path, ec)) {
    return InvalidArgument(std::string(what) + " " + path + ": is a directory, not a file");
  }
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
  if (options.create_if_missing || in_memory) flags |= SQLITE_OPEN_CREATE;
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  std::unique_ptr<Database> db(new Database(path, raw, std::string(what)));
  if (rc != SQLITE_OK) return db->error_for(rc, "opening");
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, options.busy_timeout_ms);

  // Reading the schema is the first thing that touches the file's contents: a file that is not a
  // database fails here, before anything could be written to it.
  STEMMA_RETURN_IF_ERROR(db->check_ownership());

  // WAL: readers never block the writer, and a commit appends to the log instead of rewriting
  // pages in place, so a crash mid-write leaves the last committed state intact.
  {
    STEMMA_ASSIGN_OR_RETURN(Statement wal, db->prepare("PRAGMA journal_mode=WAL"));
    STEMMA_ASSIGN_OR_RETURN(bool row, wal.step());
    std::string mode = row ? wal.column_text(0) : "";
    if (mode != "wal" && !(in_memory && mode == "memory")) {
      return Unsupported(std::string(what) + " " + path +
                         ": cannot switch to WAL journaling (journal_mode is '" + mode +
                         "'; WAL needs shared memory, which some network filesystems lack)");
    }
  }
  STEMMA_RETURN_IF_ERROR(db->exec(options.durability == Durability::kFull
                                      ? "PRAGMA synchronous=FULL"
                                      : "PRAGMA synchronous=NORMAL"));
  STEMMA_RETURN_IF_ERROR(db->exec("PRAGMA foreign_keys=ON"));
  return db;
}

Status Database::check_ownership() {
  int64_t app_id = 0;
  {
    STEMMA_ASSIGN_OR_RETURN(Statement st, prepare("PRAGMA application_id"));
    STEMMA_ASSIGN_OR_RETURN(bool row, st.step());
    if (row) app_id = st.column_int64(0);
  }
  if (app_id == kStemmaApplicationId) return OkStatus();
  if (app_id != 0) {
    return FailedPrecondition(what_ + " " + path_ +
                              ": the database belongs to another application (application_id " +
                              std::to_string(app_id) + "); refusing to modify it");
  }
  // No stamp: either a fresh file, or someone else's database that we must not alter.
  std::string foreign;
  {
    STEMMA_ASSIGN_OR_RETURN(
        Statement st,
        prepare("SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' LIMIT 1"));
    STEMMA_ASSIGN_OR_RETURN(bool row, st.step());
    if (row) foreign = st.column_text(0);
  }
  if (!foreign.empty()) {
    return FailedPrecondition(what_ + " " + path_ +
                              ": the database holds objects Stemma did not create (e.g. '" +
                              foreign + "'); refusing to modify it");
  }
  return exec("PRAGMA application_id=" + std::to_string(kStemmaApplicationId));
}

Database::~Database() {
  for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
  // sqlite3_close_v2 checkpoints the WAL when this is the last connection.
  if (db_ != nullptr) sqlite3_close_v2(db_);
}

Status Database::exec(std::string_view sql) {
  std::string text(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
  if (err != nullptr) sqlite3_free(err);
  if (rc != SQLITE_OK) return last_error("running \"" + text.substr(0, 80) + "\"");
  return OkStatus();
}

Result<Statement> Database::prepare(const std::string& sql) {
  auto it = statements_.find(sql);
  if (it != statements_.end()) return Statement(this, it->second);
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return last_error("preparing \"" + sql.substr(0, 80) + "\"");
  }
  statements_.emplace(sql, stmt);
  return Statement(this, stmt);
}

// ---- Transaction ----

Result<Transaction> Transaction::begin(Database& db) {
  STEMMA_RETURN_IF_ERROR(db.exec("BEGIN IMMEDIATE"));
  return Transaction(&db);
}

Transaction::~Transaction() {
  if (db_ != nullptr) (void)db_->exec("ROLLBACK");
}

Status Transaction::commit() {
  if (db_ == nullptr) return FailedPrecondition("transaction already finished");
  Database* db = db_;
  Status st = db->exec("COMMIT");
  if (!st.ok()) return st;  // still open: the destructor rolls it back
  db_ = nullptr;
  return OkStatus();
}

// ---- Schema versions ----

Result<int64_t> schema_version(Database& db, std::string_view component) {
  STEMMA_RETURN_IF_ERROR(
      db.exec("CREATE TABLE IF NOT EXISTS stemma_schema("
              "component TEXT PRIMARY KEY, version INTEGER NOT NULL) WITHOUT ROWID"));
  STEMMA_ASSIGN_OR_RETURN(Statement st,
                          db.prepare("SELECT version FROM stemma_schema WHERE component=?1"));
  STEMMA_RETURN_IF_ERROR(st.bind_text(1, component));
  STEMMA_ASSIGN_OR_RETURN(bool row, st.step());
  return row ? st.column_int64(0) : int64_t{0};
}

Status migrate(Database& db, std::string_view component, std::span<const Migration> migrations) {
  // The version is read inside the write transaction so two processes opening a fresh file at
  // once cannot both apply the same step.
  STEMMA_ASSIGN_OR_RETURN(Transaction txn, Transaction::begin(db));
  STEMMA_ASSIGN_OR_RETURN(int64_t version, schema_version(db, component));
  const auto latest = static_cast<int64_t>(migrations.size());
  if (version > latest) {
    return Unsupported("file " + db.path() + ": " + std::string(component) + " schema version " +
                       std::to_string(version) + " is newer than this build of Stemma supports (" +
                       std::to_string(latest) + "); upgrade Stemma to open it");
  }
  if (version < 0) {
    return CorruptData("file " + db.path() + ": " + std::string(component) +
                       " schema version is negative (" + std::to_string(version) + ")");
  }
  if (version == latest) return OkStatus();  // nothing to do; the transaction rolls back
  for (int64_t v = version; v < latest; ++v) {
    Status st = db.exec(migrations[static_cast<size_t>(v)].sql);
    if (!st.ok()) {
      return st.with_context("migrating " + std::string(component) + " schema to version " +
                             std::to_string(v + 1) + " (" +
                             migrations[static_cast<size_t>(v)].description + ")");
    }
  }
  {
    STEMMA_ASSIGN_OR_RETURN(
        Statement st, db.prepare("INSERT INTO stemma_schema(component, version) VALUES(?1, ?2) "
                                 "ON CONFLICT(component) DO UPDATE SET version=excluded.version"));
    STEMMA_RETURN_IF_ERROR(st.bind_text(1, component));
    STEMMA_RETURN_IF_ERROR(st.bind_int64(2, latest));
    STEMMA_RETURN_IF_ERROR(st.run());
  }
  return txn.commit();
}

}  // namespace stemma::sqlite
