#include "demos/faq-bot/faq_data.h"

#include <nlohmann/json.hpp>

namespace stemma::faqbot {
using rag::json_string_field;
using rag::read_text_file;

Result<std::vector<EvalItem>> load_eval(const std::string& path) {
  STEMMA_ASSIGN_OR_RETURN(std::string text, read_text_file(path));
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded()) return InvalidArgument(path + ": not valid JSON");
  const nlohmann::json* items = &doc;
  if (doc.is_object()) {
    auto it = doc.find("items");
    if (it == doc.end()) return InvalidArgument(path + ": no \"items\" array");
    items = &*it;
  }
  if (!items->is_array()) return InvalidArgument(path + ": items is not an array");
  std::vector<EvalItem> out;
  try {
    for (size_t i = 0; i < items->size(); ++i) {
      const nlohmann::json& j = (*items)[i];
      const std::string where = path + ": item " + std::to_string(i);
      if (!j.is_object()) return InvalidArgument(where + " is not an object");
      EvalItem e;
      STEMMA_ASSIGN_OR_RETURN(e.id, json_string_field(j, "id", true, where));
      STEMMA_ASSIGN_OR_RETURN(e.kind, json_string_field(j, "kind", true, where));
      STEMMA_ASSIGN_OR_RETURN(e.question, json_string_field(j, "question", true, where));
      STEMMA_ASSIGN_OR_RETURN(e.phrasing, json_string_field(j, "phrasing", false, where));
      if (j.contains("gold_source_id") && j["gold_source_id"].is_string()) {
        e.gold_source_id = j["gold_source_id"].get<std::string>();
      }
      if (j.contains("retrieved_ids")) {
        e.retrieved_ids = j["retrieved_ids"].get<std::vector<std::string>>();
      }
      e.gold_retrieved = j.value("gold_retrieved", false);
      if (j.contains("expected")) {
        const auto& x = j["expected"];
        e.expected_source_ids = x.at("source_ids").get<std::vector<std::string>>();
        e.expected_escalate = x.at("escalate").get<bool>();
      }
      if (j.contains("expected_tool_call")) {
        const auto& t = j["expected_tool_call"];
        e.expected_tool = t.at("name").get<std::string>();
        e.expected_tool_arguments_json = t.at("arguments").dump();
      }
      out.push_back(std::move(e));
    }
  } catch (const nlohmann::json::exception& ex) {
    return InvalidArgument(path + ": " + ex.what());
  }
  return out;
}

}  // namespace stemma::faqbot
