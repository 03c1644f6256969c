// The agent on seeded random weights at the FAQ model's shape (same tokenizer and template):
// whatever such a model writes, every turn parses. With tool_choice = required it loops until
// the step limit, every call naming a registered tool with arguments valid under its schema
// (checked here, and by Python's jsonschema in sdk_agent_random_validate).
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "engine/constrain/dfa.h"
#include "engine/constrain/json_schema.h"
#include "sdk/agent/agent.h"
#include "tests/sdk/agent/agent_test_tools.h"
#include "tests/sdk/program/sdk_test_models.h"

namespace stemma::agent {
namespace {

using testing::CallLog;

// Bounded schemas: a random model never closes an unbounded string by itself.
const std::vector<std::pair<std::string, std::string>> kTools = {
    {"lookup_order",
     R"({"type": "object", "properties": {"order_id": {"type": "string", "pattern": "^LM-[0-9]{6}$"}}, "required": ["order_id"], "additionalProperties": false})"},
    {"create_ticket",
     R"({"type": "object", "properties": {"summary": {"type": "string", "minLength": 1, "maxLength": 24}, "priority": {"enum": ["low", "normal", "high"]}}, "required": ["summary"], "additionalProperties": false})"},
    {"set_thermostat",
     R"({"type": "object", "properties": {"room": {"type": "string", "maxLength": 10}, "celsius": {"type": "integer", "minimum": 5, "maximum": 30}, "eco": {"type": "boolean"}}, "required": ["room", "celsius"], "additionalProperties": false})"},
};

// An independent-of-the-agent check of one call: JSON, and accepted by the schema's own
// automaton (the agent builds one regex for all tools; this compiles each schema alone).
void check_call(const AgentStep& s) {
  REQUIRE(s.kind == "tool_call");
  const std::string* schema = nullptr;
  for (const auto& [name, sch] : kTools) {
    if (name == s.name) schema = &sch;
  }
  REQUIRE_MESSAGE(schema != nullptr, s.name);
  auto j = nlohmann::json::parse(s.arguments, nullptr, false);
  REQUIRE_MESSAGE(!j.is_discarded(), s.arguments);
  constrain::JsonSchemaOptions o;
  o.whitespace = 1;
  auto re = constrain::json_schema_to_regex(*schema, o);
  REQUIRE(re.ok());
  auto dfa = constrain::compile_regex(re->regex);
  REQUIRE(dfa.ok());
  CHECK_MESSAGE(dfa->matches(s.arguments), s.name << " " << s.arguments);
  CHECK(s.text == tool_call_text(s.name, s.arguments));
}

std::unique_ptr<Agent> make_agent(const sdktest::TestEngine& t, CallLog* log, AgentOptions o) {
  auto a = Agent::create(t.runtime, std::move(o));
  REQUIRE(a.ok());
  for (const auto& [name, schema] : kTools) {
    REQUIRE((*a)->add_tool({name, "a test tool", schema,
                            testing::logged(log, name,
                                            [](auto&) { return std::string("{\"ok\": true}"); })})
                .ok());
  }
  return std::move(a).value();
}

TEST_CASE("random weights, tool_choice required: every call parses until the step limit") {
  CallLog log;
  int calls = 0;
  for (uint64_t seed : {1, 2}) {
    sdktest::TestEngineOptions eo;
    eo.random_weights = true;
    eo.seed = seed;
    auto t = sdktest::open_test_engine(eo);
    REQUIRE_MESSAGE(t.ok(), t.status().to_string());
    AgentOptions o;
    o.tool_choice = ToolChoice::kRequired;
    o.max_steps = 4;
    o.gen.max_tokens = 512;
    o.gen.temperature = 1.0f;
    o.gen.seed = seed;
    auto agent = make_agent(*t, &log, o);
    AgentRun run = agent->run("Do whatever you like with the tools.");
    MESSAGE(trace_json(run.trace));
    CHECK(run.status.code() == StatusCode::kResourceExhausted);
    REQUIRE(run.trace.size() == 4);
    for (const AgentStep& s : run.trace) {
      check_call(s);
      CHECK(s.finish == FinishReason::kStopToken);
      ++calls;
    }
    // The conversation kept every call and result, append-only.
    CHECK(run.messages.size() == 2 + 2 * 4);
    for (size_t i = 1; i < run.trace.size(); ++i) {
      CHECK(run.trace[i].cached_tokens >=
            run.trace[i - 1].prompt_tokens + run.trace[i - 1].generated_tokens - 1);
    }
  }
  CHECK(calls == 8);
  std::vector<Tool> tools;
  for (const auto& [name, schema] : kTools) tools.push_back({name, "", schema, nullptr});
  testing::write_calls(tools, log, "random");
}

TEST_CASE("random weights, tool_choice auto with an answer schema: every turn parses") {
  const char* answer_schema =
      R"({"type": "object", "properties": {"answer": {"type": "string", "maxLength": 16}, "done": {"type": "boolean"}}, "required": ["answer", "done"], "additionalProperties": false})";
  CallLog log;
  int answers = 0, tool_calls = 0;
  sdktest::TestEngineOptions eo;
  eo.random_weights = true;
  eo.seed = 3;
  auto t = sdktest::open_test_engine(eo);
  REQUIRE(t.ok());
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    AgentOptions o;
    o.answer_schema = answer_schema;
    o.max_steps = 3;
    o.gen.max_tokens = 512;
    o.gen.temperature = 1.0f;
    o.gen.seed = seed;
    auto agent = make_agent(*t, &log, o);
    AgentRun run = agent->run("Answer or call a tool.");
    MESSAGE(trace_json(run.trace));
    CHECK((run.status.ok() || run.status.code() == StatusCode::kResourceExhausted));
    for (const AgentStep& s : run.trace) {
      if (s.kind == "answer") {
        ++answers;
        auto j = nlohmann::json::parse(s.text, nullptr, false);
        REQUIRE_MESSAGE(!j.is_discarded(), s.text);
        CHECK(j["answer"].is_string());
        CHECK(j["done"].is_boolean());
        CHECK(run.answer == s.text);
      } else {
        check_call(s);
        ++tool_calls;
      }
    }
  }
  MESSAGE(answers << " answers, " << tool_calls << " tool calls");
  CHECK(answers + tool_calls >= 4);
}

}  // namespace
}  // namespace stemma::agent
