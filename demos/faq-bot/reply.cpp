#include "demos/faq-bot/reply.h"

#include <nlohmann/json.hpp>

#include "demos/faq-bot/faq_prompt.h"

namespace stemma::faqbot {

ParsedReply parse_reply(std::string_view text) {
  ParsedReply r;
  auto fail = [&](std::string why) {
    r = ParsedReply();
    r.error = std::move(why);
    return r;
  };
  std::string_view body = text;
  const bool tool = body.starts_with(kToolCallOpen);
  if (tool) {
    if (!body.ends_with(kToolCallClose)) return fail("tool call without </tool_call>");
    body = body.substr(kToolCallOpen.size(),
                       body.size() - kToolCallOpen.size() - kToolCallClose.size());
  }
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return fail("not valid JSON");
  if (!j.is_object()) return fail("not a JSON object");
  if (tool) {
    if (j.size() != 2 || !j.contains("name") || !j["name"].is_string() ||
        !j.contains("arguments") || !j["arguments"].is_object()) {
      return fail("tool call is not {\"name\": string, \"arguments\": object}");
    }
    r.kind = ParsedReply::Kind::kToolCall;
    r.tool_name = j["name"].get<std::string>();
    r.tool_arguments_json = j["arguments"].dump();
    return r;
  }
  if (j.size() != 3 || !j.contains("answer") || !j["answer"].is_string() ||
      !j.contains("source_ids") || !j["source_ids"].is_array() || !j.contains("escalate") ||
      !j["escalate"].is_boolean()) {
    return fail("reply is not {\"answer\": string, \"source_ids\": array, \"escalate\": bool}");
  }
  for (const auto& id : j["source_ids"]) {
    if (!id.is_string()) return fail("source_ids holds a non-string");
    r.source_ids.push_back(id.get<std::string>());
  }
  r.kind = ParsedReply::Kind::kAnswer;
  r.answer = j["answer"].get<std::string>();
  r.escalate = j["escalate"].get<bool>();
  return r;
}

bool is_grounded(const ParsedReply& reply, const std::vector<const FaqEntry*>& retrieved) {
  if (reply.kind != ParsedReply::Kind::kAnswer) return reply.kind == ParsedReply::Kind::kToolCall;
  if (reply.escalate) return true;
  if (reply.source_ids.size() != 1) return false;
  for (const FaqEntry* e : retrieved) {
    if (e->id == reply.source_ids[0]) return e->answer == reply.answer;
  }
  return false;
}

}  // namespace stemma::faqbot
