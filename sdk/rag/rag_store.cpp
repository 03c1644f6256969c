#include "sdk/rag/rag_store.h"

#include <array>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "sdk/chat/json_text.h"
#include "sdk/rag/fts_query.h"

namespace stemma::rag {
namespace {

using sqlite::Statement;
using sqlite::Transaction;

// Version n of the schema is reached by applying kMigrations[0..n). Append new steps only.
// rag_fts is an external-content FTS5 index over rag_chunks: the text is stored once (in
// rag_chunks) and the triggers keep the index in step with it inside the same transaction.
constexpr std::array<sqlite::Migration, 1> kMigrations = {{
    {"documents, chunks and the FTS5 index",
     R"sql(
CREATE TABLE rag_documents(
  doc_id TEXT PRIMARY KEY,
  title TEXT NOT NULL,
  kind TEXT NOT NULL,
  metadata TEXT NOT NULL,
  chunk_count INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE rag_chunks(
  id INTEGER PRIMARY KEY,
  doc_id TEXT NOT NULL REFERENCES rag_documents(doc_id) ON DELETE CASCADE,
  chunk_index INTEGER NOT NULL,
  title TEXT NOT NULL,
  heading TEXT NOT NULL,
  body TEXT NOT NULL,
  UNIQUE(doc_id, chunk_index)
);
CREATE VIRTUAL TABLE rag_fts USING fts5(
  title, heading, body,
  content='rag_chunks', content_rowid='id',
  tokenize='porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER rag_chunks_after_insert AFTER INSERT ON rag_chunks BEGIN
  INSERT INTO rag_fts(rowid, title, heading, body) VALUES (new.id, new.title, new.heading, new.body);
END;
CREATE TRIGGER rag_chunks_after_delete AFTER DELETE ON rag_chunks BEGIN
  INSERT INTO rag_fts(rag_fts, rowid, title, heading, body)
    VALUES ('delete', old.id, old.title, old.heading, old.body);
END;
CREATE TRIGGER rag_chunks_after_update AFTER UPDATE ON rag_chunks BEGIN
  INSERT INTO rag_fts(rag_fts, rowid, title, heading, body)
    VALUES ('delete', old.id, old.title, old.heading, old.body);
  INSERT INTO rag_fts(rowid, title, heading, body) VALUES (new.id, new.title, new.heading, new.body);
END;
)sql"},
}};
static_assert(kMigrations.size() == RagStore::kSchemaVersion);

constexpr size_t kMaxIdBytes = 256;

Status check_doc_id(std::string_view id) {
  if (id.empty()) return InvalidArgument("document id is empty");
  if (id.size() > kMaxIdBytes) {
    return InvalidArgument("document id is " + std::to_string(id.size()) + " bytes, over " +
                           std::to_string(kMaxIdBytes) + ": " + std::string(id.substr(0, 40)));
  }
  return OkStatus();
}

std::string_view kind_of(DocumentFormat format) {
  return format == DocumentFormat::kMarkdown ? kKindMarkdown : kKindText;
}

// Probes for FTS5 on a TEMP table, so the store file itself is not touched.
Status check_fts5(sqlite::Database& db) {
  Status probe = db.exec("CREATE VIRTUAL TABLE temp.stemma_fts5_probe USING fts5(x)");
  if (!probe.ok()) {
    return Unsupported("RAG store " + db.path() + ": the SQLite library (version " +
                       sqlite3_libversion() +
                       ") has no FTS5 full-text search (PRAGMA compile_options lacks "
                       "ENABLE_FTS5); link a SQLite built with -DSQLITE_ENABLE_FTS5 (" +
                       probe.message() + ")");
  }
  return db.exec("DROP TABLE temp.stemma_fts5_probe");
}

constexpr const char* kHitColumns =
    "SELECT c.doc_id, c.chunk_index, c.title, c.heading, c.body, d.kind, d.metadata ";

RagHit read_hit(const Statement& st) {
  RagHit hit;
  hit.doc_id = st.column_text(0);
  hit.chunk_index = st.column_int64(1);
  hit.title = st.column_text(2);
  hit.heading_path = st.column_text(3);
  hit.text = st.column_text(4);
  hit.kind = st.column_text(5);
  hit.metadata_json = st.column_text(6);
  return hit;
}

constexpr const char* kDocumentColumns =
    "SELECT doc_id, title, kind, metadata, chunk_count, updated_at FROM rag_documents ";

DocumentInfo read_document(const Statement& st) {
  DocumentInfo info;
  info.id = st.column_text(0);
  info.title = st.column_text(1);
  info.kind = st.column_text(2);
  info.metadata_json = st.column_text(3);
  info.chunk_count = st.column_int64(4);
  info.updated_at_ms = st.column_int64(5);
  return info;
}

Result<std::string> string_field(const nlohmann::json& entry, const char* key, bool required,
                                 size_t index) {
  auto it = entry.find(key);
  if (it == entry.end() || it->is_null()) {
    if (!required) return std::string();
    return InvalidArgument("QA entry " + std::to_string(index) + ": missing \"" + key + "\"");
  }
  if (!it->is_string()) {
    return InvalidArgument("QA entry " + std::to_string(index) + ": \"" + key +
                           "\" must be a string, got " + it->type_name());
  }
  return it->get<std::string>();
}

}  // namespace

Result<std::unique_ptr<RagStore>> RagStore::open(const std::string& path,
                                                 const RagStoreOptions& options) {
  sqlite::OpenOptions open_options;
  open_options.create_if_missing = options.create_if_missing;
  open_options.durability = options.durability;
  open_options.busy_timeout_ms = options.busy_timeout_ms;
  STEMMA_ASSIGN_OR_RETURN(std::unique_ptr<sqlite::Database> db,
                          sqlite::Database::open(path, open_options, "RAG store"));
  STEMMA_RETURN_IF_ERROR(check_fts5(*db));
  STEMMA_RETURN_IF_ERROR(sqlite::migrate(*db, "rag", kMigrations));
  return std::unique_ptr<RagStore>(new RagStore(std::move(db), options.chunking));
}

Status RagStore::delete_locked(std::string_view doc_id, bool* existed) {
  // Chunks first, explicitly: the FTS triggers fire per chunk row either way, but this does not
  // depend on foreign_keys being on for the cascade.
  {
    STEMMA_ASSIGN_OR_RETURN(Statement st, db_->prepare("DELETE FROM rag_chunks WHERE doc_id=?1"));
    STEMMA_RETURN_IF_ERROR(st.bind_text(1, doc_id));
    STEMMA_RETURN_IF_ERROR(st.run());
  }
  STEMMA_ASSIGN_OR_RETURN(Statement st, db_->prepare("DELETE FROM rag_documents WHERE doc_id=?1"));
  STEMMA_RETURN_IF_ERROR(st.bind_text(1, doc_id));
  STEMMA_RETURN_IF_ERROR(st.run());
  *existed = sqlite3_changes(db_->handle()) > 0;
  return OkStatus();
}

Result<int64_t> RagStore::write_document_locked(std::string_view id, std::string_view title,
                                                std::string_view kind, const std::string& metadata,
                                                const std::vector<TextChunk>& chunks) {
  bool existed = false;
  STEMMA_RETURN_IF_ERROR(delete_locked(id, &existed));
  const int64_t now = sqlite::now_unix_ms();
  {
    STEMMA_ASSIGN_OR_RETURN(
        Statement st,
        db_->prepare("INSERT INTO rag_documents(doc_id, title, kind, metadata, chunk_count, "
                     "created_at, updated_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?6)"));
    STEMMA_RETURN_IF_ERROR(st.bind_text(1, id));
    STEMMA_RETURN_IF_ERROR(st.bind_text(2, title));
    STEMMA_RETURN_IF_ERROR(st.bind_text(3, kind));
    STEMMA_RETURN_IF_ERROR(st.bind_text(4, metadata));
    STEMMA_RETURN_IF_ERROR(st.bind_int64(5, static_cast<int64_t>(chunks.size())));
    STEMMA_RETURN_IF_ERROR(st.bind_int64(6, now));
    STEMMA_RETURN_IF_ERROR(st.run());
  }
  STEMMA_ASSIGN_OR_RETURN(
      Statement st,
      db_->prepare("INSERT INTO rag_chunks(doc_id, chunk_index, title, heading, body) "
                   "VALUES(?1, ?2, ?3, ?4, ?5)"));
  for (size_t i = 0; i < chunks.size(); ++i) {
    STEMMA_RETURN_IF_ERROR(st.bind_text(1, id));
    STEMMA_RETURN_IF_ERROR(st.bind_int64(2, static_cast<int64_t>(i)));
    STEMMA_RETURN_IF_ERROR(st.bind_text(3, title));
    STEMMA_RETURN_IF_ERROR(st.bind_text(4, chunks[i].heading_path));
    STEMMA_RETURN_IF_ERROR(st.bind_text(5, chunks[i].text));
    STEMMA_RETURN_IF_ERROR(st.run());
    st.reset();
  }
  return static_cast<int64_t>(chunks.size());
}

Result<int64_t> RagStore::add_document(const Document& document) {
  return add_documents(std::span<const Document>(&document, 1));
}

Result<int64_t> RagStore::add_documents(std::span<const Document> documents) {
  // Validate and chunk everything before taking the lock or opening the transaction.
  struct Prepared {
    std::string metadata;
    std::vector<TextChunk> chunks;
  };
  std::vector<Prepared> prepared;
  prepared.reserve(documents.size());
  std::unordered_map<std::string_view, size_t> seen;
  for (size_t i = 0; i < documents.size(); ++i) {
    const Document& doc = documents[i];
    STEMMA_RETURN_IF_ERROR(check_doc_id(doc.id).with_context("document " + std::to_string(i)));
    auto [it, fresh] = seen.emplace(doc.id, i);
    if (!fresh) {
      return InvalidArgument("documents " + std::to_string(it->second) + " and " +
                             std::to_string(i) + " share the id '" + doc.id + "'");
    }
    STEMMA_ASSIGN_OR_RETURN(std::string metadata,
                            sqlite::normalize_json_object(
                                doc.metadata_json, "metadata_json of '" + doc.id + "'", "{}"));
    std::vector<TextChunk> chunks = doc.format == DocumentFormat::kMarkdown
                                        ? chunk_markdown(doc.text, chunking_)
                                        : chunk_plain_text(doc.text, chunking_);
    prepared.push_back({std::move(metadata), std::move(chunks)});
  }
  std::lock_guard lock(mu_);
  STEMMA_ASSIGN_OR_RETURN(Transaction txn, Transaction::begin(*db_));
  int64_t written = 0;
  for (size_t i = 0; i < documents.size(); ++i) {
    STEMMA_ASSIGN_OR_RETURN(
        int64_t n,
        write_document_locked(documents[i].id, documents[i].title, kind_of(documents[i].format),
                              prepared[i].metadata, prepared[i].chunks));
    written += n;
  }
  STEMMA_RETURN_IF_ERROR(txn.commit());
  return written;
}

Result<int64_t> RagStore::add_qa_records(std::span<const QaRecord> records) {
  struct Prepared {
    std::string metadata;
    std::vector<TextChunk> chunks;
  };
  std::vector<Prepared> prepared;
  prepared.reserve(records.size());
  std::unordered_map<std::string_view, size_t> seen;
  for (size_t i = 0; i < records.size(); ++i) {
    const QaRecord& record = records[i];
    STEMMA_RETURN_IF_ERROR(check_doc_id(record.id).with_context("QA record " + std::to_string(i)));
    auto [it, fresh] = seen.emplace(record.id, i);
    if (!fresh) {
      return InvalidArgument("QA records " + std::to_string(it->second) + " and " +
                             std::to_string(i) + " share the id '" + record.id + "'");
    }
    if (record.question.empty()) {
      return InvalidArgument("QA record '" + record.id + "' has an empty question");
    }
    STEMMA_ASSIGN_OR_RETURN(
        std::string metadata,
        sqlite::normalize_json_object(record.metadata_json, "metadata_json of '" + record.id + "'",
                                      "{}"));
    // Each chunk of the answer carries the category as its heading; the question is the title.
    std::vector<TextChunk> chunks = chunk_plain_text(record.answer, chunking_);
    if (chunks.empty()) chunks.push_back({"", ""});
    for (TextChunk& chunk : chunks) chunk.heading_path = record.category;
    prepared.push_back({std::move(metadata), std::move(chunks)});
  }
  std::lock_guard lock(mu_);
  STEMMA_ASSIGN_OR_RETURN(Transaction txn, Transaction::begin(*db_));
  for (size_t i = 0; i < records.size(); ++i) {
    STEMMA_ASSIGN_OR_RETURN(int64_t n,
                            write_document_locked(records[i].id, records[i].question, kKindQa,
                                                  prepared[i].metadata, prepared[i].chunks));
    (void)n;
  }
  STEMMA_RETURN_IF_ERROR(txn.commit());
  return static_cast<int64_t>(records.size());
}

Result<int64_t> RagStore::add_qa_json(std::string_view json_text) {
  nlohmann::json root = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) return InvalidArgument("QA JSON is not valid JSON");
  if (!root.is_array()) {
    return InvalidArgument(std::string("QA JSON must be an array of entries, got ") +
                           root.type_name());
  }
  std::vector<QaRecord> records;
  records.reserve(root.size());
  for (size_t i = 0; i < root.size(); ++i) {
    const nlohmann::json& entry = root[i];
    if (!entry.is_object()) {
      return InvalidArgument("QA entry " + std::to_string(i) + " is not an object");
    }
    QaRecord record;
    STEMMA_ASSIGN_OR_RETURN(record.id, string_field(entry, "id", true, i));
    STEMMA_ASSIGN_OR_RETURN(record.question, string_field(entry, "question", true, i));
    STEMMA_ASSIGN_OR_RETURN(record.answer, string_field(entry, "answer", true, i));
    STEMMA_ASSIGN_OR_RETURN(record.category, string_field(entry, "category", false, i));
    nlohmann::json metadata = nlohmann::json::object();
    for (auto it = entry.begin(); it != entry.end(); ++it) {
      const std::string& key = it.key();
      if (key != "id" && key != "question" && key != "answer" && key != "category") {
        metadata[key] = it.value();
      }
    }
    record.metadata_json = metadata.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    records.push_back(std::move(record));
  }
  return add_qa_records(records);
}

Status RagStore::delete_document(std::string_view doc_id) {
  std::lock_guard lock(mu_);
  STEMMA_ASSIGN_OR_RETURN(Transaction txn, Transaction::begin(*db_));
  bool existed = false;
  STEMMA_RETURN_IF_ERROR(delete_locked(doc_id, &existed));
  if (!existed) {
    return NotFound("RAG store " + db_->path() + ": no document with id '" + std::string(doc_id) +
                    "'");
  }
  return txn.commit();
}

Result<DocumentInfo> RagStore::get_document(std::string_view doc_id) {
  std::lock_guard lock(mu_);
  STEMMA_ASSIGN_OR_RETURN(Statement st,
                          db_->prepare(std::string(kDocumentColumns) + "WHERE doc_id=?1"));
  STEMMA_RETURN_IF_ERROR(st.bind_text(1, doc_id));
  STEMMA_ASSIGN_OR_RETURN(bool row, st.step());
  if (!row) {
    return NotFound("RAG store " + db_->path() + ": no document with id '" + std::string(doc_id) +
                    "'");
  }
  return read_document(st);
}

Result<std::vector<DocumentInfo>> RagStore::list_documents() {
  std::lock_guard lock(mu_);
  STEMMA_ASSIGN_OR_RETURN(Statement st,
                          db_->prepare(std::string(kDocumentColumns) + "ORDER BY doc_id"));
  std::vector<DocumentInfo> out;
  while (true) {
    STEMMA_ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) break;
    out.push_back(read_document(st));
  }
  return out;
}

Result<std::vector<RagHit>> RagStore::get_chunks(std::string_view doc_id) {
  std::lock_guard lock(mu_);
  STEMMA_ASSIGN_OR_RETURN(
      Statement st, db_->prepare(std::string(kHitColumns) +
                                 "FROM rag_chunks c JOIN rag_documents d ON d.doc_id=c.doc_id "
                                 "WHERE c.doc_id=?1 ORDER BY c.chunk_index"));
  STEMMA_RETURN_IF_ERROR(st.bind_text(1, doc_id));
  std::vector<RagHit> out;
  while (true) {
    STEMMA_ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) break;
    out.push_back(read_hit(st));
  }
  return out;
}

Result<RagStats> RagStore::stats() {
  std::lock_guard lock(mu_);
  STEMMA_ASSIGN_OR_RETURN(Statement st, db_->prepare("SELECT (SELECT count(*) FROM rag_documents), "
                                                     "(SELECT count(*) FROM rag_chunks)"));
  STEMMA_ASSIGN_OR_RETURN(bool row, st.step());
  RagStats stats;
  if (row) {
    stats.documents = st.column_int64(0);
    stats.chunks = st.column_int64(1);
  }
  return stats;
}

Result<std::vector<RagHit>> RagStore::search(std::string_view question,
                                             const SearchOptions& options) {
  QueryTermOptions term_options;
  term_options.remove_stop_words = options.remove_stop_words;
  term_options.prefix_match = options.prefix_match;
  std::string expression =
      match_expression(query_terms(question, term_options), options.prefix_match);
  if (expression.empty()) return std::vector<RagHit>();
  return search_match(expression, options);
}

Result<std::vector<RagHit>> RagStore::search_match(std::string_view expression,
                                                   const SearchOptions& options) {
  if (options.top_k == 0) return std::vector<RagHit>();
  if (!options.kind.empty() && options.kind != kKindText && options.kind != kKindMarkdown &&
      options.kind != kKindQa) {
    return InvalidArgument("search kind must be \"\", \"text\", \"markdown\" or \"qa\", got \"" +
                           options.kind + "\"");
  }
  std::lock_guard lock(mu_);
  STEMMA_ASSIGN_OR_RETURN(Statement st,
                          db_->prepare(std::string(kHitColumns) +
                                       ", bm25(rag_fts, ?2, ?3, ?4) AS rank_score "
                                       "FROM rag_fts JOIN rag_chunks c ON c.id = rag_fts.rowid "
                                       "JOIN rag_documents d ON d.doc_id = c.doc_id "
                                       "WHERE rag_fts MATCH ?1 "
                                       "AND (?5 = '' OR d.kind = ?5) "
                                       "AND (?6 = '' OR substr(c.doc_id, 1, length(?6)) = ?6) "
                                       "ORDER BY rank_score, c.doc_id, c.chunk_index LIMIT ?7"));
  STEMMA_RETURN_IF_ERROR(st.bind_text(1, expression));
  STEMMA_RETURN_IF_ERROR(st.bind_double(2, options.title_weight));
  STEMMA_RETURN_IF_ERROR(st.bind_double(3, options.heading_weight));
  STEMMA_RETURN_IF_ERROR(st.bind_double(4, options.body_weight));
  STEMMA_RETURN_IF_ERROR(st.bind_text(5, options.kind));
  STEMMA_RETURN_IF_ERROR(st.bind_text(6, options.doc_id_prefix));
  STEMMA_RETURN_IF_ERROR(st.bind_int64(7, static_cast<int64_t>(options.top_k)));
  std::vector<RagHit> out;
  while (true) {
    Result<bool> row = st.step();
    if (!row.ok()) {
      // Our own SQL is fixed, so a plain SQL error here comes from the MATCH expression
      // ("fts5: syntax error near ...", "no such column: x" for "x:term").
      if ((sqlite3_errcode(db_->handle()) & 0xff) == SQLITE_ERROR) {
        return InvalidArgument("FTS5 query '" + std::string(expression.substr(0, 80)) +
                               "' is not valid: " + row.status().message());
      }
      return row.status();
    }
    if (!*row) break;
    RagHit hit = read_hit(st);
    hit.score = -st.column_double(7);
    out.push_back(std::move(hit));
  }
  return out;
}

Status RagStore::optimize() {
  std::lock_guard lock(mu_);
  return db_->exec("INSERT INTO rag_fts(rag_fts) VALUES('optimize')");
}

}  // namespace stemma::rag
