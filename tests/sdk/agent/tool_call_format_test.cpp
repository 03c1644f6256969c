// The turn grammar without a model: the "does not start with <tool_call>" regex against RE2 on
// random strings; the turn regex accepts exactly the calls of registered tools with arguments
// valid under their schemas, and the answers; parse_turn reads what it accepts and names what
// is wrong with what it does not.
#include "sdk/agent/tool_call_format.h"

#include <doctest/doctest.h>
#include <re2/re2.h>

#include <random>

#include "engine/constrain/dfa.h"
#include "sdk/agent/tool_prompt.h"

namespace stemma::agent {
namespace {

Tool tool(std::string name, std::string schema) {
  return {std::move(name), "desc", std::move(schema),
          [](const std::string&) -> Result<std::string> { return std::string("ok"); }};
}

const char* const kOrder =
    R"({"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"], "additionalProperties": false})";
const char* const kTicket =
    R"({"type": "object", "properties": {"summary": {"type": "string"}, "urgent": {"type": "boolean"}}, "required": ["summary"], "additionalProperties": false})";

TEST_CASE("not_starting_with_regex agrees with its definition (RE2, and our automaton)") {
  const std::string lit(kToolCallOpen);
  const std::string pattern = not_starting_with_regex(lit);
  RE2 re(pattern);
  REQUIRE(re.ok());
  auto dfa = constrain::compile_regex(pattern);
  REQUIRE(dfa.ok());
  const std::vector<std::string> alphabet = {
      "<", "t", "o", "l", "_", "c", "a", ">", "x", " ", "\n", "é", "<tool_call>", "</tool_call>"};
  std::mt19937_64 rng(7);
  int positives = 0;
  for (int i = 0; i < 4000; ++i) {
    std::string s;
    // Often a prefix of the literal, so that near misses are common.
    if (rng() % 2) s = lit.substr(0, rng() % (lit.size() + 1));
    const size_t n = rng() % 6;
    for (size_t k = 0; k < n; ++k) s += alphabet[rng() % alphabet.size()];
    const bool want = !s.empty() && s.rfind(lit, 0) != 0;
    CHECK_MESSAGE(RE2::FullMatch(s, re) == want, s);
    CHECK_MESSAGE(dfa->matches(s) == want, s);
    positives += want;
  }
  CHECK(positives > 1000);
  CHECK(positives < 3500);
}

TEST_CASE("the turn regex: registered calls with valid arguments, or the answer") {
  const std::vector<Tool> tools = {tool("lookup_order", kOrder), tool("create_ticket", kTicket)};
  TurnFormat f;
  auto regex = turn_regex(tools, f);
  REQUIRE_MESSAGE(regex.ok(), regex.status().to_string());
  auto dfa = constrain::compile_regex(*regex);
  REQUIRE(dfa.ok());
  CHECK(dfa->matches(tool_call_text("lookup_order", R"({"order_id": "LM-123456"})")));
  CHECK(dfa->matches(tool_call_text("lookup_order", R"({"order_id":"x"})")));
  CHECK(dfa->matches(tool_call_text("create_ticket", R"({"summary": "s", "urgent": true})")));
  CHECK(dfa->matches(tool_call_text("create_ticket", "{\n\"summary\": \"s\"}")));
  CHECK_FALSE(dfa->matches(tool_call_text("delete_all", R"({"order_id": "x"})")));
  CHECK_FALSE(dfa->matches(tool_call_text("lookup_order", R"({})")));               // required
  CHECK_FALSE(dfa->matches(tool_call_text("lookup_order", R"({"order_id": 5})")));  // type
  CHECK_FALSE(dfa->matches(tool_call_text("lookup_order", R"({"order_id": "x", "y": 1})")));
  CHECK_FALSE(dfa->matches("<tool_call>{\"name\": \"lookup_order\"}"));
  CHECK(dfa->matches("The order has shipped."));
  CHECK(dfa->matches("<tool"));  // a proper prefix of the tag is text
  CHECK_FALSE(dfa->matches(""));

  f.answer_schema =
      R"({"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]})";
  auto with_schema = turn_regex(tools, f);
  REQUIRE(with_schema.ok());
  auto d2 = constrain::compile_regex(*with_schema);
  REQUIRE(d2.ok());
  CHECK(d2->matches(R"({"answer": "ok"})"));
  CHECK_FALSE(d2->matches("free text"));
  CHECK(d2->matches(tool_call_text("lookup_order", R"({"order_id": "x"})")));

  f.choice = ToolChoice::kRequired;
  auto required = turn_regex(tools, f);
  REQUIRE(required.ok());
  auto d3 = constrain::compile_regex(*required);
  REQUIRE(d3.ok());
  CHECK_FALSE(d3->matches(R"({"answer": "ok"})"));
  CHECK(d3->matches(tool_call_text("lookup_order", R"({"order_id": "x"})")));
  CHECK(turn_regex({}, f).status().code() == StatusCode::kFailedPrecondition);

  f.choice = ToolChoice::kNone;
  auto none = turn_regex(tools, f);
  REQUIRE(none.ok());
  auto d4 = constrain::compile_regex(*none);
  REQUIRE(d4.ok());
  CHECK_FALSE(d4->matches(tool_call_text("lookup_order", R"({"order_id": "x"})")));

  // A schema keyword the constraint cannot enforce is refused by name.
  auto bad = turn_regex({tool("t", R"({"type": "integer", "multipleOf": 3})")}, TurnFormat{});
  CHECK(bad.status().code() == StatusCode::kUnsupported);
  CHECK(bad.status().message().find("multipleOf") != std::string::npos);
}

TEST_CASE("parse_turn") {
  const std::vector<Tool> tools = {tool("lookup_order", kOrder)};
  auto call = parse_turn(tool_call_text("lookup_order", R"({"order_id": "LM-1"})"), tools);
  REQUIRE(call.ok());
  CHECK(call->kind == ParsedTurn::Kind::kToolCall);
  CHECK(call->name == "lookup_order");
  CHECK(call->arguments == R"({"order_id": "LM-1"})");
  auto answer = parse_turn("Your order shipped.", tools);
  REQUIRE(answer.ok());
  CHECK(answer->kind == ParsedTurn::Kind::kAnswer);
  CHECK(answer->answer == "Your order shipped.");
  CHECK(parse_turn("<tool_call>{\"name\": \"lookup_order\", \"argu", tools).status().code() ==
        StatusCode::kInvalidArgument);
  CHECK(parse_turn("<tool_call>not json</tool_call>", tools).status().code() ==
        StatusCode::kInvalidArgument);
  auto unknown = parse_turn(tool_call_text("rm", "{}"), tools);
  CHECK(unknown.status().message().find("rm") != std::string::npos);
  // Another layout of the same call still parses (re-dumped arguments).
  auto other = parse_turn(
      "<tool_call>{\"arguments\": {\"order_id\": \"a\"}, \"name\": \"lookup_order\"}</tool_call>",
      tools);
  REQUIRE(other.ok());
  CHECK(nlohmann::json::parse(other->arguments) == nlohmann::json{{"order_id", "a"}});
}

TEST_CASE("tool validation and the default system prompt") {
  CHECK(validate_tool(tool("", kOrder)).code() == StatusCode::kInvalidArgument);
  CHECK(validate_tool(tool("has space", kOrder)).code() == StatusCode::kInvalidArgument);
  CHECK(validate_tool(tool("ok", "not json")).code() == StatusCode::kInvalidArgument);
  CHECK(validate_tool(tool("ok", "[1]")).code() == StatusCode::kInvalidArgument);
  Tool no_fn = tool("ok", kOrder);
  no_fn.fn = nullptr;
  CHECK(validate_tool(no_fn).code() == StatusCode::kInvalidArgument);
  CHECK(validate_tool(tool("lookup-order_2", kOrder)).ok());
  const std::vector<Tool> tools = {tool("lookup_order", kOrder)};
  const std::string p = default_system_prompt(tools, ToolChoice::kAuto, true);
  CHECK(p.find("<tool_call>") != std::string::npos);
  CHECK(p.find("lookup_order") != std::string::npos);
  CHECK(p.find("\"order_id\"") != std::string::npos);
  CHECK(default_system_prompt(tools, ToolChoice::kAuto, false).find("lookup_order") ==
        std::string::npos);
  auto j = tools_json(tools);
  CHECK(j[0]["function"]["name"] == "lookup_order");
  CHECK(j[0]["function"]["parameters"]["required"][0] == "order_id");
}

}  // namespace
}  // namespace stemma::agent
