// The agent on the shipped FAQ model with the two tools it was trained on (lookup_order,
// create_ticket): order questions from the eval set are answered through lookup_order and the
// answer uses the tool's result; a conversation that asks for an order and then for a human
// takes four model turns and both tools; every call parses and validates.
#include <doctest/doctest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "sdk/agent/agent.h"
#include "tests/sdk/agent/agent_test_tools.h"
#include "tests/sdk/program/sdk_test_models.h"

namespace stemma::agent {
namespace {

using testing::CallLog;

const char* const kOrderSchema =
    R"({"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"], "additionalProperties": false})";
const char* const kTicketSchema =
    R"({"type": "object", "properties": {"summary": {"type": "string"}}, "required": ["summary"], "additionalProperties": false})";
// The final reply of the FAQ model (docs/demo-model.md).
const char* const kReplySchema =
    R"({"type": "object", "properties": {"answer": {"type": "string"}, "source_ids": {"type": "array", "items": {"type": "string"}}, "escalate": {"type": "boolean"}}, "required": ["answer", "source_ids", "escalate"], "additionalProperties": false})";

// Deterministic stand-ins that return the result shapes the model was trained on.
std::string order_result(const nlohmann::json& a) {
  return "{\"order_id\": \"" + a["order_id"].get<std::string>() +
         "\", \"status\": \"shipped\", \"carrier\": \"DHL\", \"eta\": \"2026-12-09\"}";
}
std::string ticket_result(const nlohmann::json&) {
  return "{\"ticket_id\": \"T-52719\", \"status\": \"open\"}";
}

struct Fixture {
  sdktest::TestEngine t;
  CallLog log;
  std::unique_ptr<Agent> agent;
  std::map<std::string, std::string> prompt_by_id;
  nlohmann::json eval;

  Fixture() {
    auto e = sdktest::open_test_engine();
    REQUIRE_MESSAGE(e.ok(), e.status().to_string());
    t = std::move(e).value();
    AgentOptions o;
    o.answer_schema = kReplySchema;
    o.max_steps = 4;
    auto a = Agent::create(t.runtime, o);
    REQUIRE(a.ok());
    agent = std::move(a).value();
    REQUIRE(agent
                ->add_tool({"lookup_order", "Look up an order by its number", kOrderSchema,
                            testing::logged(&log, "lookup_order", order_result)})
                .ok());
    REQUIRE(agent
                ->add_tool({"create_ticket", "Open a support ticket", kTicketSchema,
                            testing::logged(&log, "create_ticket", ticket_result)})
                .ok());
    for (auto& p : sdktest::read_jsonl(sdktest::kHfGreedyPrompts)) {
      prompt_by_id[p["id"].get<std::string>()] = p["prompt"].get<std::string>();
    }
    eval = nlohmann::json::parse(sdktest::slurp(sdktest::kEval));
  }

  // The eval item's conversation (system, user, context) as the model was trained on it.
  std::vector<program::Message> conversation(const nlohmann::json& item) {
    auto m = sdktest::split_chatml(prompt_by_id.at(item["id"].get<std::string>()));
    REQUIRE(m.size() == 3);
    return m;
  }

  std::vector<nlohmann::json> tool_items(const std::string& tool, size_t n) {
    std::vector<nlohmann::json> out;
    for (const auto& item : eval["items"]) {
      if (item["kind"] == "tool" && item["expected_tool_call"]["name"] == tool && out.size() < n) {
        out.push_back(item);
      }
    }
    REQUIRE(out.size() == n);
    return out;
  }
};

TEST_CASE("order questions go through lookup_order and the answer uses its result") {
  Fixture f;
  int right = 0;
  const auto items = f.tool_items("lookup_order", 12);
  for (const auto& item : items) {
    AgentRun run = f.agent->run(f.conversation(item));
    MESSAGE(item["question"].get<std::string>() << "\n" << trace_json(run.trace));
    // Whatever the model decides, its turns parse: the run ends with an answer.
    REQUIRE_MESSAGE(run.status.ok(), run.status.to_string());
    REQUIRE(!run.trace.empty());
    CHECK(run.trace.back().kind == "answer");
    auto answer = nlohmann::json::parse(run.answer, nullptr, false);
    REQUIRE(!answer.is_discarded());
    CHECK(answer["answer"].is_string());
    const auto& want = item["expected_tool_call"];
    if (run.trace.size() == 2 && run.trace[0].name == "lookup_order" &&
        nlohmann::json::parse(run.trace[0].arguments) == want["arguments"]) {
      ++right;
      // The answer is built from the tool's result (carrier and date are ours, not the FAQ's).
      const std::string text = answer["answer"].get<std::string>();
      CHECK(text.find(want["arguments"]["order_id"].get<std::string>()) != std::string::npos);
      CHECK(text.find("DHL") != std::string::npos);
      CHECK(text.find("2026-12-09") != std::string::npos);
      CHECK(run.trace[0].result == order_result(want["arguments"]));
      // Turn 2's prompt extends turn 1's: all of it but the last generated token is cached.
      CHECK(run.trace[1].cached_tokens >=
            run.trace[0].prompt_tokens + run.trace[0].generated_tokens - 1);
      REQUIRE(run.messages.size() == 6);  // system, user, context, call, tool, answer
      CHECK(run.messages[4].role == "tool");
    }
  }
  MESSAGE(right << " of " << items.size() << " order questions answered through lookup_order");
  // The model's own skill (docs/demo-model.md): it calls lookup_order for some phrasings and
  // create_ticket for others; a third of the eval's order questions is well within it.
  CHECK(right >= 1);
  CHECK(right * 3 >= static_cast<int>(items.size()));
  testing::write_calls(f.agent->tools(), f.log, "faq_orders");
}

TEST_CASE("a multi-step task: an order lookup, then a ticket, in one conversation") {
  Fixture f;
  // Turn 1: an order question; turn 2, in the same conversation: a request for a human.
  std::optional<AgentRun> first;
  for (const auto& item : f.tool_items("lookup_order", 12)) {
    AgentRun run = f.agent->run(f.conversation(item));
    if (run.status.ok() && run.trace.size() == 2 && run.trace[0].name == "lookup_order") {
      first = std::move(run);
      break;
    }
  }
  REQUIRE(first.has_value());
  // Turn 2 asks for a human: the eval's ticket requests, and two phrasings of the kind the model
  // was trained on (which of them it follows depends on the training run), each with the
  // retrieval context of an eval ticket request.
  std::vector<std::pair<std::string, std::string>> requests;
  for (const auto& item : f.tool_items("create_ticket", 4)) {
    auto turn = f.conversation(item);
    requests.emplace_back(turn[1].content, turn[2].content);
    requests.emplace_back("i want to talk to a human about my camera arrived broken",
                          turn[2].content);
    requests.emplace_back("please open a support ticket: the app crashes every time i open it",
                          turn[2].content);
  }
  int completed = 0;
  for (const auto& [request, context] : requests) {
    std::vector<program::Message> conv = first->messages;
    conv.push_back({"user", request});
    conv.push_back({"context", context});
    AgentRun run = f.agent->run(conv);
    MESSAGE(request << "\n" << trace_json(run.trace));
    REQUIRE_MESSAGE(run.status.ok(), run.status.to_string());
    // The earlier turns were kept and served from the cache.
    CHECK(run.trace[0].cached_tokens >= first->trace[1].prompt_tokens);
    if (run.trace.size() == 2 && run.trace[0].name == "create_ticket") {
      ++completed;
      auto args = nlohmann::json::parse(run.trace[0].arguments);
      CHECK(!args["summary"].get<std::string>().empty());
      auto answer = nlohmann::json::parse(run.answer);
      CHECK(answer["answer"].get<std::string>().find("T-52719") != std::string::npos);
      CHECK(answer["escalate"] == true);
      // Four model turns over the conversation: call, answer, call, answer.
      CHECK(run.messages.size() == first->messages.size() + 2 + 3);
    }
  }
  MESSAGE(completed << " of " << requests.size()
                    << " ticket requests completed after the order lookup");
  CHECK(completed >= 1);
  testing::write_calls(f.agent->tools(), f.log, "faq_multistep");
}

}  // namespace
}  // namespace stemma::agent
