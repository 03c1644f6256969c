// FaqEntry: one entry of an FAQ (what FaqRetriever indexes and context_block writes), and
// reading a list of them from JSON: {"entries": [...]} or a bare array of objects with string
// fields id, title, question, answer (required) and category, product, tags.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "engine/api/status.h"

namespace stemma::rag {

struct FaqEntry {
  std::string id;  // "faq-001"
  std::string title;
  std::string question;
  std::string answer;
  std::string category;
  std::string product;
  std::string tags;  // space-separated words: searched, never shown to the model
};

// Ids must be unique and non-empty; errors name the entry and the field.
Result<std::vector<FaqEntry>> load_faq(const std::string& path);
Result<std::vector<FaqEntry>> parse_faq(const std::string& json_text, const std::string& source);

// What reading these JSON data files takes (the FAQ demo's eval set uses them too): the whole
// file at `path` (NotFound naming it), and obj[key] as a string ("" when absent or null and not
// `required`; otherwise an error naming `where` and the field).
Result<std::string> read_text_file(const std::string& path);
Result<std::string> json_string_field(const nlohmann::json& obj, const char* key, bool required,
                                      const std::string& where);

}  // namespace stemma::rag
