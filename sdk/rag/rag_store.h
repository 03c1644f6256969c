// RagStore: a document store for retrieval-augmented generation, in one SQLite file with FTS5.
//
// Documents (plain text, markdown, or question/answer records such as FAQ entries) are split
// into chunks (see text_chunker.h); each chunk is indexed in an FTS5 table with three columns —
// title, heading path, body — using the porter stemmer over unicode61 tokens. search() turns a
// free-form question into a safe OR query (fts_query.h) and ranks chunks by BM25, with per-column
// weights.
//
// Documents are identified by the caller's id ("faq-042", "manual/setup.md"); adding a
// document with an existing id replaces it (update). Every add/delete is one transaction.
//
// Threads: one SQLite connection guarded by a mutex; any thread may call any method. The file
// may be shared with a ChatStore (schemas are versioned per component in stemma_schema).
//
// All data in and out is plain (strings, JSON text, numbers) so the C ABI can wrap it directly.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/api/status.h"
#include "sdk/chat/sqlite_db.h"
#include "sdk/rag/text_chunker.h"

namespace stemma::rag {

enum class DocumentFormat { kPlainText, kMarkdown };

// Kinds as stored and reported in hits.
inline constexpr std::string_view kKindText = "text";
inline constexpr std::string_view kKindMarkdown = "markdown";
inline constexpr std::string_view kKindQa = "qa";

struct Document {
  std::string id;     // caller's id, non-empty, at most 256 bytes
  std::string title;  // indexed (title column); may be empty
  std::string text;
  DocumentFormat format = DocumentFormat::kMarkdown;
  std::string metadata_json;  // "" or a JSON object, returned with every hit
};

// A question/answer record (an FAQ entry). Indexed as title = question, heading = category,
// body = answer; hits return them in the same fields.
struct QaRecord {
  std::string id;  // e.g. "faq-042"
  std::string question;
  std::string answer;
  std::string category;       // may be empty
  std::string metadata_json;  // "" or a JSON object
};

struct DocumentInfo {
  std::string id;
  std::string title;
  std::string kind;  // "text", "markdown" or "qa"
  std::string metadata_json;
  int64_t chunk_count = 0;
  int64_t updated_at_ms = 0;
};

struct RagHit {
  std::string doc_id;
  int64_t chunk_index = 0;
  std::string title;         // document title (a QA record's question)
  std::string heading_path;  // "Setup > Wi-Fi" (a QA record's category)
  std::string text;          // the chunk body (a QA record's answer)
  std::string kind;
  std::string metadata_json;
  double score = 0;  // BM25 relevance, higher is better (the negated FTS5 bm25() value)
};

struct SearchOptions {
  size_t top_k = 5;
  bool remove_stop_words = true;
  bool prefix_match = false;
  // BM25 weight of each indexed column: matches in titles and headings say more about what a
  // chunk is about than matches in body text.
  double title_weight = 3.0;
  double heading_weight = 2.0;
  double body_weight = 1.0;
  std::string kind;           // "" = all kinds; else only "text", "markdown" or "qa"
  std::string doc_id_prefix;  // "" = all documents; else only ids starting with it ("faq-")
};

struct RagStoreOptions {
  bool create_if_missing = true;
  // Ingest is rebuildable from the source documents, so NORMAL (process-crash safe) is enough.
  sqlite::Durability durability = sqlite::Durability::kNormal;
  int busy_timeout_ms = 5000;
  ChunkOptions chunking;
};

struct RagStats {
  int64_t documents = 0;
  int64_t chunks = 0;
};

class RagStore {
 public:
  static constexpr int kSchemaVersion = 1;

  // Opens or creates the store. Refuses (kUnsupported) when the SQLite library lacks FTS5, and,
  // like the chat store, refuses non-database files, foreign databases and newer schemas.
  static Result<std::unique_ptr<RagStore>> open(const std::string& path,
                                                const RagStoreOptions& options = {});

  // Adds or replaces documents (one transaction for the batch); returns chunks written.
  Result<int64_t> add_document(const Document& document);
  Result<int64_t> add_documents(std::span<const Document> documents);
  // Adds or replaces QA records (one transaction for the batch); returns records written.
  Result<int64_t> add_qa_records(std::span<const QaRecord> records);
  // Parses a JSON array of objects with string fields "id", "question", "answer" and optional
  // "category"; any other fields become the record's metadata. Returns records written.
  Result<int64_t> add_qa_json(std::string_view json_text);

  // Removes a document and its chunks (kNotFound when absent).
  Status delete_document(std::string_view doc_id);
  Result<DocumentInfo> get_document(std::string_view doc_id);
  Result<std::vector<DocumentInfo>> list_documents();
  // A document's chunks in order, as hits with score 0.
  Result<std::vector<RagHit>> get_chunks(std::string_view doc_id);
  Result<RagStats> stats();

  // The top_k chunks for a free-form question, best first (ties broken by doc id, chunk index).
  // A question with no searchable terms yields no hits, not an error.
  Result<std::vector<RagHit>> search(std::string_view question, const SearchOptions& options = {});
  // Same ranking for a caller-written FTS5 MATCH expression; a syntax error is kInvalidArgument.
  Result<std::vector<RagHit>> search_match(std::string_view match_expression,
                                           const SearchOptions& options = {});

  // Merges the FTS5 index segments (worth running after large ingests).
  Status optimize();

  const std::string& path() const { return db_->path(); }

 private:
  RagStore(std::unique_ptr<sqlite::Database> db, ChunkOptions chunking)
      : db_(std::move(db)), chunking_(chunking) {}
  Status delete_locked(std::string_view doc_id, bool* existed);
  Result<int64_t> write_document_locked(std::string_view id, std::string_view title,
                                        std::string_view kind, const std::string& metadata,
                                        const std::vector<TextChunk>& chunks);

  std::mutex mu_;
  std::unique_ptr<sqlite::Database> db_;
  ChunkOptions chunking_;
};

}  // namespace stemma::rag
