#include "demos/faq-bot/faq_prompt.h"

#include <cstdio>

namespace stemma::faqbot {

const char* const kSystemPrompt =
    "You are Lumi, the customer support assistant of Lumora Home, a maker of smart home "
    "devices. Answer only from the FAQ context. Reply with one JSON object: "
    "{\"answer\": \"...\", \"source_ids\": [\"faq-...\"], \"escalate\": false}. If the context "
    "does not answer the question, reply with escalate true and empty source_ids. Tools: "
    "lookup_order(order_id) for an order number like LM-123456, and create_ticket(summary) when "
    "the customer asks for a human or a ticket. To call a tool, reply with "
    "<tool_call>{\"name\": \"...\", \"arguments\": {...}}</tool_call>.";

const char* const kEscalateAnswer =
    "I could not find this in the Lumora FAQ, so I am passing your question to a support agent.";

namespace {

void append_u_escape(uint32_t unit, std::string* out) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "\\u%04x", unit);
  *out += buf;
}

}  // namespace

std::string py_json_string(std::string_view s, bool ensure_ascii) {
  std::string out = "\"";
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      switch (c) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        case '\b':
          out += "\\b";
          break;
        case '\f':
          out += "\\f";
          break;
        default:
          // Control characters are escaped; DEL only when the output must be ASCII.
          if (c < 0x20 || (c == 0x7f && ensure_ascii)) {
            append_u_escape(c, &out);
          } else {
            out += static_cast<char>(c);
          }
      }
      continue;
    }
    // A multi-byte character: copy it, or write it as \u escapes (surrogate pairs above BMP).
    const int len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    if (!ensure_ascii || len == 1 || i + len > s.size()) {
      if (len == 1 || i + len > s.size()) {
        out += "\\ufffd";  // a stray byte: Python would have decoded it as U+FFFD
        i += 1;
      } else {
        out.append(s.substr(i, len));
        i += len;
      }
      continue;
    }
    uint32_t cp = c & (0xFF >> (len + 1));
    for (int k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    i += len;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      append_u_escape(0xD800 + (cp >> 10), &out);
      append_u_escape(0xDC00 + (cp & 0x3FF), &out);
    } else {
      append_u_escape(cp, &out);
    }
  }
  out += '"';
  return out;
}

std::string py_json_object(const std::vector<std::pair<std::string, std::string>>& members) {
  std::string out = "{";
  for (size_t i = 0; i < members.size(); ++i) {
    if (i > 0) out += ", ";
    out += py_json_string(members[i].first, true) + ": " + members[i].second;
  }
  return out + "}";
}

std::string reply_json(std::string_view answer, const std::vector<std::string>& source_ids,
                       bool escalate) {
  std::string ids = "[";
  for (size_t i = 0; i < source_ids.size(); ++i) {
    if (i > 0) ids += ", ";
    ids += py_json_string(source_ids[i], false);
  }
  ids += "]";
  return py_json_object({{"answer", py_json_string(answer, false)},
                         {"source_ids", ids},
                         {"escalate", escalate ? "true" : "false"}});
}

}  // namespace stemma::faqbot
