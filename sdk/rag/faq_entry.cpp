#include "sdk/rag/faq_entry.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

namespace stemma::rag {
Result<std::string> read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot open " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Result<std::string> json_string_field(const nlohmann::json& obj, const char* key, bool required,
                                      const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    if (required) return InvalidArgument(where + ": missing string field '" + key + "'");
    return std::string();
  }
  if (!it->is_string()) return InvalidArgument(where + ": field '" + key + "' is not a string");
  return it->get<std::string>();
}

Result<std::vector<FaqEntry>> parse_faq(const std::string& json_text, const std::string& source) {
  nlohmann::json doc = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return InvalidArgument(source + ": not valid JSON");
  const nlohmann::json* entries = &doc;
  if (doc.is_object()) {
    auto it = doc.find("entries");
    if (it == doc.end()) return InvalidArgument(source + ": no \"entries\" array");
    entries = &*it;
  }
  if (!entries->is_array()) return InvalidArgument(source + ": entries is not an array");
  std::vector<FaqEntry> out;
  std::set<std::string> ids;
  for (size_t i = 0; i < entries->size(); ++i) {
    const nlohmann::json& e = (*entries)[i];
    const std::string where = source + ": entry " + std::to_string(i);
    if (!e.is_object()) return InvalidArgument(where + " is not an object");
    FaqEntry f;
    STEMMA_ASSIGN_OR_RETURN(f.id, json_string_field(e, "id", true, where));
    STEMMA_ASSIGN_OR_RETURN(f.title, json_string_field(e, "title", true, where));
    STEMMA_ASSIGN_OR_RETURN(f.question, json_string_field(e, "question", true, where));
    STEMMA_ASSIGN_OR_RETURN(f.answer, json_string_field(e, "answer", true, where));
    STEMMA_ASSIGN_OR_RETURN(f.category, json_string_field(e, "category", false, where));
    STEMMA_ASSIGN_OR_RETURN(f.product, json_string_field(e, "product", false, where));
    STEMMA_ASSIGN_OR_RETURN(f.tags, json_string_field(e, "tags", false, where));
    if (f.id.empty()) return InvalidArgument(where + ": empty id");
    if (!ids.insert(f.id).second) return InvalidArgument(where + ": duplicate id " + f.id);
    out.push_back(std::move(f));
  }
  return out;
}

Result<std::vector<FaqEntry>> load_faq(const std::string& path) {
  STEMMA_ASSIGN_OR_RETURN(std::string text, read_text_file(path));
  return parse_faq(text, path);
}

}  // namespace stemma::rag
