// RagStore over a realistic corpus: ranking, hostile queries, metadata, updates, deletes, reopen.
#include "sdk/rag/rag_store.h"

#include "sdk/chat/chat_store.h"

#include <sqlite3.h>

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "tests/sdk/chat/temp_dir.h"
#include "tests/sdk/rag/corpus.h"

namespace stemma::rag {
namespace {

using stemma::testing::TempDir;
using testing::read_corpus;

struct ManualFile {
  const char* id;
  const char* file;
  const char* title;
};
constexpr ManualFile kManual[] = {
    {"manual/setup", "setup_guide.md", "Aurora X2 Setup Guide"},
    {"manual/network", "network_settings.md", "Network Settings"},
    {"manual/troubleshooting", "troubleshooting.md", "Troubleshooting"},
};

std::unique_ptr<RagStore> open_store(const std::string& path) {
  auto store = RagStore::open(path);
  REQUIRE_MESSAGE(store.ok(), store.status().to_string());
  return std::move(store).value();
}

void ingest_corpus(RagStore& store) {
  std::vector<Document> docs;
  for (const ManualFile& m : kManual) {
    Document doc;
    doc.id = m.id;
    doc.title = m.title;
    doc.text = read_corpus(m.file);
    REQUIRE_FALSE(doc.text.empty());
    doc.format = DocumentFormat::kMarkdown;
    doc.metadata_json = nlohmann::json{{"file", m.file}, {"product", "Aurora X2"}}.dump();
    docs.push_back(std::move(doc));
  }
  auto chunks = store.add_documents(docs);
  REQUIRE_MESSAGE(chunks.ok(), chunks.status().to_string());
  CHECK(*chunks >= 15);
  auto faq = store.add_qa_json(read_corpus("faq.json"));
  REQUIRE_MESSAGE(faq.ok(), faq.status().to_string());
  CHECK(*faq == 12);
}

struct Expectation {
  const char* question;
  const char* doc_id;
  const char* heading_suffix;  // "" for FAQ records
};

// Each question names what a user would type; the expected source is the section written to
// answer it.
constexpr Expectation kExpectations[] = {
    {"How do I factory reset my router?", "manual/troubleshooting", "Factory reset"},
    {"What do the LED status light colors mean?", "manual/setup", "LED status lights"},
    {"Can I set up a separate network for my guests?", "manual/network", "Guest network"},
    {"How do I forward port 25565 for my Minecraft server?", "manual/network", "Port forwarding"},
    {"What's your return policy?? I want a \"full refund\"!", "faq-003", ""},
    {"Is the warranty transferable (I'm selling my router)?", "faq-005", ""},
    {"What does \"band steering\" do -- and why can't my smart plug join?", "manual/network",
     "Wi-Fi bands and band steering"},
    {"Firmware update?!?! (v2.1.3) won't install... help!!!", "manual/troubleshooting",
     "Firmware updates"},
    {"Do I need to pay a monthly subscription?", "faq-001", ""},
    {"how do i reserve an IP address for my printer", "manual/network",
     "IP address reservation and DHCP"},
    {"My internet is slow; what can I do?", "manual/troubleshooting", "Slow speeds"},
    {"I forgot the password for the app", "faq-009", ""},
    {"What's in the box?", "manual/setup", "What's in the box"},
};

void check_rankings(RagStore& store) {
  for (const Expectation& e : kExpectations) {
    auto hits = store.search(e.question);
    REQUIRE_MESSAGE(hits.ok(), hits.status().to_string());
    REQUIRE_MESSAGE(!hits->empty(), e.question);
    const RagHit& top = hits->front();
    CHECK_MESSAGE(top.doc_id == e.doc_id, e.question, " -> ", top.doc_id, " / ", top.heading_path);
    CHECK_MESSAGE(top.heading_path.ends_with(e.heading_suffix), e.question, " -> ",
                  top.heading_path);
    for (size_t i = 1; i < hits->size(); ++i) CHECK((*hits)[i - 1].score >= (*hits)[i].score);
  }
}

TEST_CASE("rag store: the right section ranks first for realistic questions") {
  TempDir dir;
  auto store = open_store(dir.file("rag.db"));
  ingest_corpus(*store);
  check_rankings(*store);
}

TEST_CASE("rag store: punctuation and quotes in questions never error") {
  TempDir dir;
  auto store = open_store(dir.file("rag.db"));
  ingest_corpus(*store);
  RagStats before = store->stats().value();
  const char* hostile[] = {"\"",
                           "\"\"\"",
                           "'",
                           "(",
                           ")",
                           "*",
                           "AND",
                           "OR NOT",
                           "NEAR(a b)",
                           "title:reset",
                           "^start",
                           "-reset",
                           "{}[]",
                           "\\",
                           "",
                           "   ",
                           "'; DROP TABLE rag_chunks; --",
                           "reset\" OR \"",
                           "\xF0\x9F\x98\xA1",
                           "\xFF\xFE",
                           "¿Cómo reinicio el router?",
                           "What's \"WPA3\" (and WPA2)?: yes/no*"};
  for (const char* q : hostile) {
    for (bool prefix : {false, true}) {
      SearchOptions options;
      options.prefix_match = prefix;
      auto hits = store->search(q, options);
      CHECK_MESSAGE(hits.ok(), q, ": ", hits.status().to_string());
    }
  }
  std::string long_question;
  for (int i = 0; i < 2000; ++i) long_question += "reset? \"router\" (amber) ";
  CHECK(store->search(long_question).ok());
  CHECK(store->search("What's \"WPA3\" (and WPA2)?")
            .value()
            .front()
            .heading_path.ends_with("Security"));
  RagStats after = store->stats().value();
  CHECK(after.documents == before.documents);
  CHECK(after.chunks == before.chunks);
  // A caller-written MATCH expression with bad syntax is an argument error, not a crash.
  auto bad = store->search_match("reset AND (");
  CHECK(bad.status().code() == StatusCode::kInvalidArgument);
  CHECK(store->search_match("nosuchcolumn:reset").status().code() == StatusCode::kInvalidArgument);
  CHECK(store->search_match("\"factory\" AND \"reset\"")
            .value()
            .front()
            .heading_path.ends_with("Factory reset"));
}

TEST_CASE("rag store: FAQ ids, fields and metadata come back with every hit") {
  TempDir dir;
  auto store = open_store(dir.file("rag.db"));
  ingest_corpus(*store);
  nlohmann::json faq = nlohmann::json::parse(read_corpus("faq.json"));
  for (const nlohmann::json& entry : faq) {
    SearchOptions only_faq;
    only_faq.kind = "qa";
    only_faq.top_k = 3;
    auto hits = store->search(entry["question"].get<std::string>(), only_faq);
    REQUIRE(hits.ok());
    REQUIRE(!hits->empty());
    const RagHit& top = hits->front();
    CHECK_MESSAGE(top.doc_id == entry["id"], entry["question"]);
    if (top.doc_id != entry["id"]) continue;
    CHECK(top.kind == "qa");
    CHECK(top.title == entry["question"]);
    CHECK(top.text == entry["answer"]);
    CHECK(top.heading_path == entry["category"]);
    CHECK(nlohmann::json::parse(top.metadata_json) ==
          nlohmann::json{{"updated", entry["updated"]}});
  }
  auto manual_hits = store->search("guest network password");
  REQUIRE(manual_hits.ok());
  REQUIRE(!manual_hits->empty());
  CHECK(nlohmann::json::parse(manual_hits->front().metadata_json) ==
        nlohmann::json{{"file", "network_settings.md"}, {"product", "Aurora X2"}});

  SearchOptions prefix;
  prefix.doc_id_prefix = "manual/";
  std::vector<RagHit> manual_only = store->search("password reset", prefix).value();
  CHECK(!manual_only.empty());
  for (const RagHit& hit : manual_only) {
    CHECK(hit.doc_id.starts_with("manual/"));
  }
  SearchOptions bad_kind;
  bad_kind.kind = "pdf";
  CHECK(store->search("reset", bad_kind).status().code() == StatusCode::kInvalidArgument);
}

void check_fts_integrity(const std::string& path) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  char* err = nullptr;
  // rank=1 also compares the index against the content table (rag_chunks).
  int rc = sqlite3_exec(db, "INSERT INTO rag_fts(rag_fts, rank) VALUES('integrity-check', 1)",
                        nullptr, nullptr, &err);
  CHECK_MESSAGE(rc == SQLITE_OK, (err ? err : ""));
  sqlite3_free(err);
  sqlite3_close(db);
}

TEST_CASE("rag store: delete and update keep the index in step") {
  TempDir dir;
  const std::string path = dir.file("rag.db");
  {
    auto store = open_store(path);
    ingest_corpus(*store);
    RagStats before = store->stats().value();
    DocumentInfo info = store->get_document("manual/troubleshooting").value();
    CHECK(info.kind == "markdown");
    CHECK(info.title == "Troubleshooting");

    REQUIRE(store->delete_document("manual/troubleshooting").ok());
    CHECK(store->get_document("manual/troubleshooting").status().code() == StatusCode::kNotFound);
    CHECK(store->delete_document("manual/troubleshooting").code() == StatusCode::kNotFound);
    RagStats after = store->stats().value();
    CHECK(after.documents == before.documents - 1);
    CHECK(after.chunks == before.chunks - info.chunk_count);
    std::vector<RagHit> gone = store->search("factory reset firmware update").value();
    for (const RagHit& hit : gone) {
      CHECK(hit.doc_id != "manual/troubleshooting");
    }
    CHECK(store->get_chunks("manual/troubleshooting")->empty());

    // Re-adding an id replaces the record: the old answer's words no longer find it.
    QaRecord updated{"faq-004", "How long is the warranty?",
                     "Three years from delivery, extendable with Aurora Care.", "Warranty", ""};
    REQUIRE(store->add_qa_records({&updated, 1}).ok());
    auto hits = store->search("Aurora Care extension").value();
    REQUIRE(!hits.empty());
    CHECK(hits.front().doc_id == "faq-004");
    std::vector<RagHit> old_words = store->search("power surges water damage").value();
    for (const RagHit& hit : old_words) {
      CHECK(hit.doc_id != "faq-004");
    }
    CHECK(store->stats()->documents == after.documents);
  }
  check_fts_integrity(path);
}

TEST_CASE("rag store: the index survives close and reopen") {
  TempDir dir;
  const std::string path = dir.file("rag.db");
  std::vector<RagHit> first;
  {
    auto store = open_store(path);
    ingest_corpus(*store);
    first = store->search("How do I factory reset my router?").value();
  }
  auto store = open_store(path);
  auto again = store->search("How do I factory reset my router?").value();
  REQUIRE(again.size() == first.size());
  for (size_t i = 0; i < again.size(); ++i) {
    CHECK(again[i].doc_id == first[i].doc_id);
    CHECK(again[i].chunk_index == first[i].chunk_index);
    CHECK(again[i].score == doctest::Approx(first[i].score));
  }
  check_rankings(*store);
  CHECK(store->list_documents()->size() == 15);
  REQUIRE(store->optimize().ok());
  check_rankings(*store);
}

TEST_CASE("rag store: bad QA JSON is refused with the entry named and nothing written") {
  TempDir dir;
  auto store = open_store(dir.file("rag.db"));
  auto expect_error = [&](const std::string& json, const std::string& needle) {
    auto r = store->add_qa_json(json);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kInvalidArgument);
    CHECK_MESSAGE(r.status().message().find(needle) != std::string::npos, r.status().message());
  };
  expect_error("{oops", "not valid JSON");
  expect_error(R"({"id":"faq-1"})", "array");
  expect_error(R"([{"id":"a","question":"q","answer":"x"}, 3])", "entry 1");
  expect_error(R"([{"id":"a","question":"q"}])", "\"answer\"");
  expect_error(R"([{"id":42,"question":"q","answer":"x"}])", "\"id\" must be a string");
  expect_error(R"([{"id":"a","question":"q","answer":"x"},{"id":"a","question":"r","answer":"y"}])",
               "share the id 'a'");
  expect_error(R"([{"id":"","question":"q","answer":"x"}])", "empty");
  CHECK(store->stats()->documents == 0);

  Document doc{"d", "t", "text", DocumentFormat::kPlainText, "[1]"};
  CHECK(store->add_document(doc).status().code() == StatusCode::kInvalidArgument);
  CHECK(store->stats()->documents == 0);
}

TEST_CASE("rag store: a chat store and a RAG store can share one file") {
  TempDir dir;
  const std::string path = dir.file("app.db");
  auto chat = chat::ChatStore::open(path);
  REQUIRE_MESSAGE(chat.ok(), chat.status().to_string());
  auto rag = RagStore::open(path);
  REQUIRE_MESSAGE(rag.ok(), rag.status().to_string());
  chat::SessionId id = (*chat)->create_session().value();
  REQUIRE((*chat)->append_turn(id, "user", "How do I reset it?").ok());
  REQUIRE((*rag)->add_qa_json(read_corpus("faq.json")).ok());
  chat->reset();
  rag->reset();
  auto chat_again = chat::ChatStore::open(path);
  auto rag_again = RagStore::open(path);
  REQUIRE(chat_again.ok());
  REQUIRE(rag_again.ok());
  CHECK((*chat_again)->load_session(id)->at(0).content == "How do I reset it?");
  CHECK((*rag_again)->stats()->documents == 12);
}

TEST_CASE("rag store: an in-memory store works for demos and tests") {
  auto store = RagStore::open(sqlite::kInMemoryPath);
  REQUIRE_MESSAGE(store.ok(), store.status().to_string());
  REQUIRE((*store)->add_qa_json(read_corpus("faq.json")).ok());
  CHECK((*store)->search("return policy").value().front().doc_id == "faq-003");
}

TEST_CASE("rag store: plain text documents") {
  TempDir dir;
  auto store = open_store(dir.file("rag.db"));
  Document doc{"notes", "Shop notes", "Opening hours are nine to five.\n\nClosed on Sundays.",
               DocumentFormat::kPlainText, R"({"lang":"en"})"};
  CHECK(store->add_document(doc).value() == 1);
  auto hits = store->search("When are you closed?").value();
  REQUIRE(hits.size() == 1);
  CHECK(hits[0].kind == "text");
  CHECK(hits[0].heading_path.empty());
  CHECK(hits[0].text == doc.text);
  CHECK(store->search("the of and").value().empty());
}

TEST_CASE("rag store: a non-database file is refused and left alone") {
  TempDir dir;
  const std::string path = dir.file("faq.json");
  const std::string text = read_corpus("faq.json");
  {
    std::ofstream out(path, std::ios::binary);
    out << text;
  }
  auto store = RagStore::open(path);
  REQUIRE_FALSE(store.ok());
  CHECK(store.status().message().find(path) != std::string::npos);
  std::ifstream in(path, std::ios::binary);
  CHECK(std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()) == text);
}

}  // namespace
}  // namespace stemma::rag
