// stemma_rag_*: the C ABI gives what the C++ RagStore gives for the same corpus (search hits
// field for field), and stemma_rag_answer generates from the prompt the SDK's prompt assembly
// builds, citing its sources.
#include <fstream>
#include <sstream>

#include "sdk/rag/prompt_assembly.h"
#include "sdk/rag/rag_answer.h"
#include "sdk/rag/rag_store.h"
#include "tests/capi/capi_test_util.h"

using namespace capi_test;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

const std::string kCorpus = src("tests/sdk/rag/corpus/");
const std::vector<std::string> kDocs = {"setup_guide.md", "network_settings.md",
                                        "troubleshooting.md"};

// The same corpus in the C ABI's store and in a C++ RagStore.
struct Stores {
  stemma_rag* rag = nullptr;
  std::unique_ptr<stemma::rag::RagStore> cpp;
  Stores() {
    REQUIRE(stemma_rag_open(":memory:", &rag) == STEMMA_OK);
    auto opened = stemma::rag::RagStore::open(":memory:");
    REQUIRE(opened.ok());
    cpp = std::move(opened).value();
    for (const auto& name : kDocs) {
      const std::string text = read_file(kCorpus + name);
      int64_t chunks = 0;
      REQUIRE(stemma_rag_add_document(rag, name.c_str(), name.c_str(), text.c_str(),
                                      STEMMA_DOC_MARKDOWN, &chunks) == STEMMA_OK);
      auto cpp_chunks =
          cpp->add_document({name, name, text, stemma::rag::DocumentFormat::kMarkdown});
      REQUIRE(cpp_chunks.ok());
      CHECK(chunks == cpp_chunks.value());
    }
    const std::string faq = read_file(kCorpus + "faq.json");
    int64_t count = 0;
    REQUIRE(stemma_rag_add_faq(rag, faq.c_str(), &count) == STEMMA_OK);
    auto cpp_count = cpp->add_qa_json(faq);
    REQUIRE(cpp_count.ok());
    CHECK(count == cpp_count.value());
  }
  ~Stores() { stemma_rag_free(rag); }
};

const std::vector<std::string> kQuestions = {
    "How do I cancel my \"Aurora Secure\" subscription?",
    "the wifi keeps dropping!! what can I do",
    "Which port forwarding options exist (TCP/UDP)?",
    "factory reset",
};

}  // namespace

TEST_CASE("search hits are the C++ store's hits, field for field") {
  Stores s;
  for (const auto& q : kQuestions) {
    CAPTURE(q);
    CString hits;
    REQUIRE(stemma_rag_search(s.rag, q.c_str(), 4, hits.out()) == STEMMA_OK);
    const auto got = hits.json();
    stemma::rag::SearchOptions so;
    so.top_k = 4;
    auto want = s.cpp->search(q, so);
    REQUIRE(want.ok());
    REQUIRE(got.size() == want->size());
    REQUIRE(!got.empty());
    for (size_t i = 0; i < got.size(); ++i) {
      const auto& w = want.value()[i];
      CHECK(got[i].at("doc_id") == w.doc_id);
      CHECK(got[i].at("chunk_index") == w.chunk_index);
      CHECK(got[i].at("title") == w.title);
      CHECK(got[i].at("heading") == w.heading_path);
      CHECK(got[i].at("text") == w.text);
      CHECK(got[i].at("kind") == w.kind);
      CHECK(got[i].at("score").get<double>() == doctest::Approx(w.score));
      const auto meta = w.metadata_json.empty() ? nlohmann::json::object()
                                                : nlohmann::json::parse(w.metadata_json);
      CHECK(got[i].at("metadata") == meta);
    }
  }
}

TEST_CASE("rag_answer generates from the SDK's assembled prompt and cites its sources") {
  Stores s;
  const std::string question = kQuestions[0];
  // The prompt the SDK assembles for the same hits, rendered and generated through the C ABI.
  stemma::rag::RagAnswerOptions ro;
  ro.search.top_k = 3;
  auto hits = s.cpp->search(question, ro.search);
  REQUIRE(hits.ok());
  stemma::rag::PromptParts parts;
  parts.system_prompt = ro.system_prompt;
  parts.retrieved = hits.value();
  parts.question = question;
  const auto assembled = stemma::rag::assemble_prompt(parts, ro.assembly);
  nlohmann::json messages = nlohmann::json::array();
  for (const auto& m : assembled.messages) {
    messages.push_back({{"role", m.role}, {"content", m.content}});
  }
  CString prompt, want;
  REQUIRE(stemma_chat_format(engine(), messages.dump().c_str(), nullptr, 1, prompt.out()) ==
          STEMMA_OK);
  stemma_gen_options o = gen_options(60);
  REQUIRE(stemma_generate(engine(), prompt.p, &o, nullptr, nullptr, want.out(), nullptr) ==
          STEMMA_OK);

  std::string streamed;
  auto collect = [](void* user, const char* piece, size_t n) -> int32_t {
    static_cast<std::string*>(user)->append(piece, n);
    return 0;
  };
  CString answer, sources;
  REQUIRE(stemma_rag_answer(s.rag, engine(), question.c_str(), 3, &o, collect, &streamed,
                            answer.out(), sources.out()) == STEMMA_OK);
  CHECK(answer.str() == want.str());
  CHECK(streamed == answer.str());
  CHECK(sources.json() == nlohmann::json(assembled.source_refs));
  CHECK(!assembled.source_refs.empty());
  // sources_json_out may be NULL.
  CString again;
  REQUIRE(stemma_rag_answer(s.rag, engine(), question.c_str(), 3, &o, nullptr, nullptr, again.out(),
                            nullptr) == STEMMA_OK);
  CHECK(again.str() == answer.str());
}

TEST_CASE("rag misuse is refused by name") {
  Stores s;
  int64_t n = 0;
  CHECK(stemma_rag_add_document(s.rag, "d", nullptr, "text", 2, &n) == STEMMA_INVALID_ARGUMENT);
  CHECK(last_error().find("format is 2") != std::string::npos);
  CHECK(stemma_rag_add_document(s.rag, nullptr, nullptr, "text", 0, &n) == STEMMA_INVALID_ARGUMENT);
  CHECK(stemma_rag_add_document(s.rag, "d", nullptr, "text", STEMMA_DOC_TEXT, nullptr) ==
        STEMMA_OK);  // chunks_out may be NULL
  CHECK(stemma_rag_add_faq(s.rag, "[{\"id\": \"x\", \"question\": 3}]", &n) ==
        STEMMA_INVALID_ARGUMENT);
  CHECK(last_error().find("question") != std::string::npos);
  CHECK(stemma_rag_add_faq(s.rag, "not json", &n) == STEMMA_INVALID_ARGUMENT);
  CString out, sources;
  CHECK(stemma_rag_search(s.rag, "x", 0, out.out()) == STEMMA_INVALID_ARGUMENT);
  CHECK(stemma_rag_answer(s.rag, engine(), "", 3, nullptr, nullptr, nullptr, out.out(),
                          sources.out()) == STEMMA_INVALID_ARGUMENT);
  CHECK(stemma_rag_answer(s.rag, nullptr, "q", 3, nullptr, nullptr, nullptr, out.out(),
                          sources.out()) == STEMMA_INVALID_ARGUMENT);
  CHECK(stemma_rag_answer(reinterpret_cast<stemma_rag*>(engine()), engine(), "q", 3, nullptr,
                          nullptr, nullptr, out.out(), sources.out()) == STEMMA_INVALID_ARGUMENT);
  CHECK(last_error() == "stemma_rag_answer: rag is a stemma_engine, not a stemma_rag");
  CHECK(out.p == nullptr);
  CHECK(sources.p == nullptr);
}
