#include "demos/faq-bot/reply_constraint.h"

#include <algorithm>
#include <cctype>

#include "engine/api/constraint_text.h"

namespace stemma::faqbot {

const char* const kReplySchema = R"({
  "type": "object",
  "properties": {
    "answer": {"type": "string"},
    "source_ids": {"type": "array", "items": {"type": "string"}},
    "escalate": {"type": "boolean"}
  },
  "required": ["answer", "source_ids", "escalate"],
  "additionalProperties": false
})";

namespace {

std::string regex_literal(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (std::string_view("\\^$.|?*+()[]{}").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

std::string json_string_regex() {
  return std::string("\"") + json_string_char_regex() + "*\"";
}

// True if `text` is written unchanged inside a JSON string by json.dumps (ASCII, no quote,
// backslash or control character).
bool json_verbatim(std::string_view text) {
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f || c == '"' || c == '\\') return false;
  }
  return true;
}

// "<span of the message's words>" (see reply_constraint.h), or "" if the message cannot pin it.
std::string summary_regex(std::string_view text) {
  if (!json_verbatim(text)) return "";
  struct Word {
    std::string core, punct, sep;  // the word, its trailing punctuation, the spaces after it
  };
  std::vector<Word> words;
  size_t i = 0;
  while (i < text.size() && text[i] == ' ') ++i;
  while (i < text.size()) {
    size_t j = i;
    while (j < text.size() && text[j] != ' ') ++j;
    size_t k = j;
    while (k > i + 1 && std::string_view("?.!,;:").find(text[k - 1]) != std::string_view::npos) {
      --k;
    }
    size_t next = j;
    while (next < text.size() && text[next] == ' ') ++next;
    words.push_back({std::string(text.substr(i, k - i)), std::string(text.substr(k, j - k)),
                     std::string(text.substr(j, next - j))});
    i = next;
  }
  if (words.empty() || words.size() > kMaxSummaryWords) return "";
  // tails[w]: the regex of a span that starts at word w.
  std::vector<std::string> tails(words.size());
  for (size_t w = words.size(); w-- > 0;) {
    const Word& word = words[w];
    std::string more;
    if (w + 1 < words.size()) more = "(?:" + regex_literal(word.sep) + tails[w + 1] + ")?";
    tails[w] = regex_literal(word.core);
    if (!word.punct.empty() || !more.empty()) {
      tails[w] += "(?:" + regex_literal(word.punct) + more + ")?";
    }
  }
  std::string out = "\"(?:";
  for (size_t w = 0; w < words.size(); ++w) out += (w ? "|" : "") + tails[w];
  return out + ")\"";
}

// "<one of the message's order numbers>", or "" if it has none.
std::string order_id_regex(std::string_view text) {
  std::vector<std::string> ids;
  for (size_t i = 0; i + 9 <= text.size(); ++i) {
    if (text.substr(i, 3) != "LM-") continue;
    bool digits = true;
    for (size_t k = i + 3; k < i + 9; ++k) digits &= text[k] >= '0' && text[k] <= '9';
    const bool ends = i + 9 == text.size() || text[i + 9] < '0' || text[i + 9] > '9';
    const bool starts = i == 0 || !std::isalnum(static_cast<unsigned char>(text[i - 1]));
    std::string id(text.substr(i, 9));
    if (digits && ends && starts && std::find(ids.begin(), ids.end(), id) == ids.end()) {
      ids.push_back(id);
    }
  }
  if (ids.empty()) return "";
  std::string out = "\"(?:";
  for (size_t k = 0; k < ids.size(); ++k) out += (k ? "|" : "") + regex_literal(ids[k]);
  return out + ")\"";
}

}  // namespace

std::string reply_regex(const std::vector<std::string>& allowed_ids, bool allow_tool_call,
                        std::string_view user_text) {
  const std::string str = json_string_regex();
  std::string reply = regex_literal("{\"answer\": ") + str + regex_literal(", \"source_ids\": [");
  std::string tail_none =
      regex_literal("], \"escalate\": ") + "(?:true|false)" + regex_literal("}");
  if (allowed_ids.empty()) {
    reply += tail_none;
  } else {
    std::string id = "(?:";
    for (size_t i = 0; i < allowed_ids.size(); ++i) {
      if (i > 0) id += '|';
      id += regex_literal("\"" + allowed_ids[i] + "\"");
    }
    id += ")";
    const std::string cited = id + "(?:" + regex_literal(", ") + id + "){0," +
                              std::to_string(allowed_ids.size() - 1) + "}" +
                              regex_literal("], \"escalate\": false}");
    reply += "(?:" + tail_none + "|" + cited + ")";
  }
  if (!allow_tool_call) return reply;
  auto tool = [&](std::string_view name, std::string_view arg, std::string value) {
    if (value.empty()) value = str;
    return regex_literal("<tool_call>{\"name\": \"") + regex_literal(name) +
           regex_literal("\", \"arguments\": {\"") + regex_literal(arg) + regex_literal("\": ") +
           value + regex_literal("}}</tool_call>");
  };
  return "(?:" + reply + "|" + tool("lookup_order", "order_id", order_id_regex(user_text)) + "|" +
         tool("create_ticket", "summary", summary_regex(user_text)) + ")";
}

}  // namespace stemma::faqbot
