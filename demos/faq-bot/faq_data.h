// The FAQ the shipped model was trained on (demos/faq-bot/data/faq.json; entries are sdk/rag's
// FaqEntry) and its held-out evaluation set (eval.json), as plain structs.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engine/api/status.h"
#include "sdk/rag/faq_entry.h"

namespace stemma::faqbot {

using rag::FaqEntry;
using rag::load_faq;
using rag::parse_faq;

struct EvalItem {
  std::string id;        // "eval-001"
  std::string kind;      // "faq", "out_of_scope" or "tool"
  std::string phrasing;  // faq items: "held_out" or "seen"
  std::string question;
  std::optional<std::string> gold_source_id;  // faq items
  std::vector<std::string> retrieved_ids;     // what the training-time retriever returned
  bool gold_retrieved = false;
  // faq / out_of_scope items: the expected final reply.
  std::vector<std::string> expected_source_ids;
  bool expected_escalate = false;
  // tool items: the expected call.
  std::string expected_tool;
  std::string expected_tool_arguments_json;  // nlohmann dump of the arguments object
};

Result<std::vector<EvalItem>> load_eval(const std::string& path);

}  // namespace stemma::faqbot
