#include "demos/faq-bot/fake_tools.h"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "demos/faq-bot/faq_prompt.h"

namespace stemma::faqbot {
namespace {

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

std::string str(const std::string& s) {
  return py_json_string(s, true);
}

std::string date_from(uint64_t h) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "2026-%02d-%02d", static_cast<int>(h % 12) + 1,
                static_cast<int>((h / 12) % 28) + 1);
  return buf;
}

// "LM-" and six digits. A hand check: std::regex trips GCC 12's -Wmaybe-uninitialized under ASan.
bool is_order_id(const std::string& s) {
  if (s.size() != 9 || s.compare(0, 3, "LM-") != 0) return false;
  for (size_t i = 3; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

std::string lookup_order(const std::string& order_id) {
  if (!is_order_id(order_id)) {
    return py_json_object({{"error", str("order not found")}, {"order_id", str(order_id)}});
  }
  const uint64_t h = fnv1a(order_id);
  switch (h % 5) {
    case 0:
      return py_json_object({{"order_id", str(order_id)}, {"status", str("processing")}});
    case 1:
    case 2: {
      static const char* kCarriers[] = {"UPS", "FedEx", "USPS", "DHL"};
      return py_json_object({{"order_id", str(order_id)},
                             {"status", str("shipped")},
                             {"carrier", str(kCarriers[(h / 5) % 4])},
                             {"eta", str(date_from(h / 20))}});
    }
    case 3:
      return py_json_object({{"order_id", str(order_id)},
                             {"status", str("delivered")},
                             {"delivered_on", str(date_from(h / 5))}});
    default:
      return py_json_object({{"order_id", str(order_id)}, {"status", str("cancelled")}});
  }
}

}  // namespace

ToolResult run_fake_tool(const std::string& name, const std::string& arguments_json) {
  nlohmann::json args = nlohmann::json::parse(arguments_json, nullptr, false);
  ToolResult r;
  if (name == "lookup_order") {
    std::string id = args.is_object() && args.contains("order_id") && args["order_id"].is_string()
                         ? args["order_id"].get<std::string>()
                         : "";
    r.result_json = lookup_order(id);
  } else if (name == "create_ticket") {
    const std::string summary =
        args.is_object() && args.contains("summary") && args["summary"].is_string()
            ? args["summary"].get<std::string>()
            : "";
    const uint64_t h = fnv1a(summary);
    r.result_json = py_json_object(
        {{"ticket_id", str("T-" + std::to_string(10000 + h % 90000))}, {"status", str("open")}});
  } else {
    r.known_tool = false;
    r.result_json = py_json_object({{"error", str("unknown tool " + name)}});
  }
  return r;
}

std::vector<agent::Tool> fake_tools() {
  auto tool = [](std::string name, std::string description, std::string schema) {
    agent::Tool t;
    t.fn = [name](const std::string& arguments_json) -> Result<std::string> {
      return run_fake_tool(name, arguments_json).result_json;
    };
    t.name = std::move(name);
    t.description = std::move(description);
    t.parameters_schema = std::move(schema);
    return t;
  };
  return {tool("lookup_order", "Look up an order by its number (LM- and six digits)",
               R"({"type": "object", "properties": {"order_id": {"type": "string"}},
                   "required": ["order_id"], "additionalProperties": false})"),
          tool("create_ticket", "Open a support ticket for a human agent",
               R"({"type": "object", "properties": {"summary": {"type": "string"}},
                   "required": ["summary"], "additionalProperties": false})")};
}

}  // namespace stemma::faqbot
