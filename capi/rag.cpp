// stemma_rag_*: the RAG document store (sdk/rag/rag_store.h) and grounded answers
// (sdk/rag/rag_answer.h) behind the C ABI.
#include <nlohmann/json.hpp>

#include "capi/capi_errors.h"
#include "capi/engine_core.h"
#include "capi/gen_options.h"
#include "capi/handles.h"
#include "capi/json_out.h"
#include "sdk/rag/rag_answer.h"
#include "sdk/rag/rag_store.h"

using namespace stemma;
using namespace stemma::capi;

struct stemma_rag {
  std::shared_ptr<rag::RagStore> store;
};

namespace {

nlohmann::ordered_json hit_json(const rag::RagHit& h) {
  nlohmann::ordered_json j;
  j["doc_id"] = h.doc_id;
  j["chunk_index"] = h.chunk_index;
  j["title"] = h.title;
  j["heading"] = h.heading_path;
  j["text"] = h.text;
  j["kind"] = h.kind;
  j["score"] = h.score;
  // Stored metadata is validated JSON; parse it back so callers get an object, not a string.
  j["metadata"] = nlohmann::ordered_json::object();
  if (!h.metadata_json.empty()) {
    auto parsed = nlohmann::ordered_json::parse(h.metadata_json, nullptr, /*exceptions=*/false);
    if (!parsed.is_discarded()) j["metadata"] = std::move(parsed);
  }
  return j;
}

}  // namespace

extern "C" {

STEMMA_API stemma_status stemma_rag_open(const char* path, stemma_rag** rag_out) {
  return guarded(__func__, [&, api = __func__]() -> Status {
    STEMMA_RETURN_IF_ERROR(check_not_null(api, "rag_out", rag_out));
    *rag_out = nullptr;
    // A path is bytes (not checked as UTF-8); "" is SQLite's private temporary store.
    STEMMA_RETURN_IF_ERROR(check_not_null(api, "path", path));
    STEMMA_ASSIGN_OR_RETURN(auto store, rag::RagStore::open(path));
    auto* handle = new stemma_rag{std::shared_ptr<rag::RagStore>(std::move(store))};
    *rag_out = register_handle(handle, HandleKind::kRag);
    return OkStatus();
  });
}

STEMMA_API void stemma_rag_free(stemma_rag* rag) {
  guarded_void(__func__, [&, api = __func__] {
    if (rag != nullptr && unregister_handle(rag, HandleKind::kRag)) delete rag;
  });
}

STEMMA_API stemma_status stemma_rag_add_document(stemma_rag* rag, const char* id, const char* title,
                                                 const char* text, int32_t format,
                                                 int64_t* chunks_out) {
  return guarded(__func__, [&, api = __func__]() -> Status {
    STEMMA_RETURN_IF_ERROR(check_handle(api, "rag", rag, HandleKind::kRag));
    STEMMA_RETURN_IF_ERROR(check_text(api, "id", id));
    STEMMA_RETURN_IF_ERROR(check_text(api, "title", title, /*nullable=*/true));
    STEMMA_RETURN_IF_ERROR(check_text(api, "text", text));
    if (format != STEMMA_DOC_TEXT && format != STEMMA_DOC_MARKDOWN) {
      return InvalidArgument(std::string(api) + ": format is " + std::to_string(format) +
                             "; expected STEMMA_DOC_TEXT (0) or STEMMA_DOC_MARKDOWN (1)");
    }
    rag::Document doc;
    doc.id = id;
    doc.title = title ? title : "";
    doc.text = text;
    doc.format = format == STEMMA_DOC_MARKDOWN ? rag::DocumentFormat::kMarkdown
                                               : rag::DocumentFormat::kPlainText;
    STEMMA_ASSIGN_OR_RETURN(int64_t chunks, rag->store->add_document(doc));
    if (chunks_out) *chunks_out = chunks;
    return OkStatus();
  });
}

STEMMA_API stemma_status stemma_rag_add_faq(stemma_rag* rag, const char* entries_json,
                                            int64_t* count_out) {
  return guarded(__func__, [&, api = __func__]() -> Status {
    STEMMA_RETURN_IF_ERROR(check_handle(api, "rag", rag, HandleKind::kRag));
    STEMMA_RETURN_IF_ERROR(check_text(api, "entries_json", entries_json));
    STEMMA_ASSIGN_OR_RETURN(int64_t count, rag->store->add_qa_json(entries_json));
    if (count_out) *count_out = count;
    return OkStatus();
  });
}

STEMMA_API stemma_status stemma_rag_search(stemma_rag* rag, const char* query, size_t top_k,
                                           char** hits_json_out) {
  return guarded(__func__, [&, api = __func__]() -> Status {
    STEMMA_RETURN_IF_ERROR(check_not_null(api, "hits_json_out", hits_json_out));
    *hits_json_out = nullptr;
    STEMMA_RETURN_IF_ERROR(check_handle(api, "rag", rag, HandleKind::kRag));
    STEMMA_RETURN_IF_ERROR(check_text(api, "query", query));
    if (top_k == 0) return InvalidArgument(std::string(api) + ": top_k is 0");
    rag::SearchOptions so;
    so.top_k = top_k;
    STEMMA_ASSIGN_OR_RETURN(std::vector<rag::RagHit> hits, rag->store->search(query, so));
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const auto& h : hits) out.push_back(hit_json(h));
    return copy_out(api, "hits_json_out", dump_json(out), hits_json_out);
  });
}

STEMMA_API stemma_status stemma_rag_answer(stemma_rag* rag, stemma_engine* engine,
                                           const char* question, size_t top_k,
                                           const stemma_gen_options* options,
                                           stemma_stream_fn stream, void* user_data,
                                           char** answer_out, char** sources_json_out) {
  return guarded(__func__, [&, api = __func__]() -> Status {
    STEMMA_RETURN_IF_ERROR(check_not_null(api, "answer_out", answer_out));
    *answer_out = nullptr;
    if (sources_json_out) *sources_json_out = nullptr;
    STEMMA_RETURN_IF_ERROR(check_handle(api, "rag", rag, HandleKind::kRag));
    STEMMA_RETURN_IF_ERROR(check_handle(api, "engine", engine, HandleKind::kEngine));
    STEMMA_RETURN_IF_ERROR(check_text(api, "question", question));
    if (top_k == 0) return InvalidArgument(std::string(api) + ": top_k is 0");
    rag::RagAnswerOptions ro;
    ro.search.top_k = top_k;
    STEMMA_ASSIGN_OR_RETURN(ro.gen, to_generation_options(api, options));
    std::shared_ptr<EngineCore> core = engine->core;
    STEMMA_ASSIGN_OR_RETURN(auto runtime, core->runtime(api));
    std::shared_ptr<StreamBridge> bridge;
    if (stream != nullptr) bridge = std::make_shared<StreamBridge>(stream, user_data);
    auto answer = rag::rag_answer(*rag->store, *runtime, question, ro, text_callback(bridge));
    if (!answer.ok()) return answer.status().with_context(api);
    STEMMA_RETURN_IF_ERROR(copy_out(api, "answer_out", c_safe_text(answer->text), answer_out));
    if (sources_json_out) {
      nlohmann::ordered_json sources = answer->source_refs;
      Status s = copy_out(api, "sources_json_out", dump_json(sources), sources_json_out);
      if (!s.ok()) {
        stemma_string_free(*answer_out);
        *answer_out = nullptr;
        return s;
      }
    }
    if (answer->finish == FinishReason::kCancelled) {
      return Cancelled(std::string(api) + ": the stream callback cancelled the answer");
    }
    return OkStatus();
  });
}

}  // extern "C"
