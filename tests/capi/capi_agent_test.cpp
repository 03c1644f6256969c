// stemma_agent_*: a C tool called by the demo model where HF's reference reply calls it, the
// result fed back, the trace; tool failures, step limits, answer schemas and misuse.
#include <mutex>

#include "tests/capi/capi_test_util.h"

using namespace capi_test;

namespace {

const char* kOrderSchema =
    R"({"type": "object", "properties": {"order_id": {"type": "string"}},
        "required": ["order_id"], "additionalProperties": false})";

struct Calls {
  std::vector<std::string> arguments;
  std::string result = R"({"status": "shipped", "carrier": "UPS", "eta": "2026-12-03"})";
  stemma_status status = STEMMA_OK;
  std::string error_text;
};

stemma_status lookup_order(void* user, const char* arguments, stemma_tool_result* result) {
  auto* calls = static_cast<Calls*>(user);
  calls->arguments.emplace_back(arguments);
  if (calls->status != STEMMA_OK) {
    if (!calls->error_text.empty()) stemma_tool_result_set(result, calls->error_text.c_str());
    return calls->status;
  }
  return stemma_tool_result_set(result, calls->result.c_str());
}

// The eval cases whose HF reply is a lookup_order call: the task is the user's message and its
// retrieval context (the agent renders system + user; the context rides in the user turn, so
// the first prompt is the eval prompt itself).
struct OrderCase {
  std::string task, order_id;
};
std::vector<OrderCase> order_cases() {
  std::vector<OrderCase> out;
  const std::string call = "<tool_call>{\"name\": \"lookup_order\", \"arguments\": ";
  for (const auto& c : hf_cases(1)) {
    if (c.output.rfind(call, 0) != 0) continue;
    const std::string args = c.output.substr(
        call.size(), c.output.size() - call.size() - std::string("}</tool_call>").size());
    const std::string user_start = "<|im_start|>user\n";
    const std::string gen_prompt = "<|im_end|>\n<|im_start|>assistant\n";
    const size_t from = c.prompt.find(user_start) + user_start.size();
    out.push_back({c.prompt.substr(from, c.prompt.size() - from - gen_prompt.size()),
                   nlohmann::json::parse(args).at("order_id")});
  }
  return out;
}

stemma_agent* new_agent(int32_t max_steps, const char* answer_schema = nullptr) {
  const std::string system = faq_system_prompt();
  stemma_agent_options o;
  stemma_agent_options_init(&o);
  o.system_prompt = system.c_str();
  o.max_steps = max_steps;
  o.max_tokens = 120;
  o.answer_schema = answer_schema;
  stemma_agent* agent = nullptr;
  REQUIRE(stemma_agent_new(engine(), &o, &agent) == STEMMA_OK);
  return agent;
}

}  // namespace

TEST_CASE("the model calls the C tool where HF's reply does, and answers from its result") {
  const auto cases = order_cases();
  REQUIRE(cases.size() >= 3);
  for (size_t i = 0; i < 3; ++i) {
    const auto& c = cases[i];
    CAPTURE(c.order_id);
    stemma_agent* agent = new_agent(3);
    Calls calls;
    REQUIRE(stemma_agent_add_tool(agent, "lookup_order", "Look up an order by its number",
                                  kOrderSchema, lookup_order, &calls) == STEMMA_OK);
    CString answer, trace;
    REQUIRE(stemma_agent_run(agent, c.task.c_str(), answer.out(), trace.out()) == STEMMA_OK);
    REQUIRE(calls.arguments.size() == 1);
    // The arguments parse and carry the order id HF's reply asked for.
    CHECK(nlohmann::json::parse(calls.arguments[0]) == nlohmann::json{{"order_id", c.order_id}});
    const auto t = trace.json();
    REQUIRE(t.size() == 2);
    CHECK(t[0].at("kind") == "tool_call");
    CHECK(t[0].at("name") == "lookup_order");
    CHECK(t[0].at("arguments") == nlohmann::json{{"order_id", c.order_id}});
    CHECK(t[0].at("result") == calls.result);
    CHECK(t[1].at("kind") == "answer");
    CHECK(t[1].at("text") == answer.str());
    CHECK(answer.str().find(c.order_id) != std::string::npos);
    stemma_agent_free(agent);
  }
}

TEST_CASE("a failing tool ends the run with its status and words; the trace is kept") {
  const auto c = order_cases().at(0);
  stemma_agent* agent = new_agent(3);
  Calls calls;
  calls.status = STEMMA_NOT_FOUND;
  calls.error_text = "no such order in the test database";
  REQUIRE(stemma_agent_add_tool(agent, "lookup_order", "Look up an order", kOrderSchema,
                                lookup_order, &calls) == STEMMA_OK);
  CString answer, trace;
  CHECK(stemma_agent_run(agent, c.task.c_str(), answer.out(), trace.out()) == STEMMA_NOT_FOUND);
  CHECK(last_error().find("tool 'lookup_order' failed with NOT_FOUND: "
                          "no such order in the test database") != std::string::npos);
  CHECK(answer.p == nullptr);
  CHECK(trace.json().is_array());
  CHECK(calls.arguments.size() == 1);

  // A run that never answers within max_steps: RESOURCE_EXHAUSTED, the trace says why.
  stemma_agent* short_agent = new_agent(1);
  Calls ok;
  REQUIRE(stemma_agent_add_tool(short_agent, "lookup_order", "Look up an order", kOrderSchema,
                                lookup_order, &ok) == STEMMA_OK);
  CHECK(stemma_agent_run(short_agent, c.task.c_str(), answer.out(), trace.out()) ==
        STEMMA_RESOURCE_EXHAUSTED);
  CHECK(trace.json().size() == 1);
  CHECK(trace.json()[0].at("kind") == "tool_call");
  stemma_agent_free(short_agent);
  stemma_agent_free(agent);
}

TEST_CASE("with an answer schema the answer is JSON under it") {
  const char* schema = R"({"type": "object", "properties": {
      "answer": {"type": "string", "maxLength": 60}, "escalate": {"type": "boolean"}},
      "required": ["answer", "escalate"], "additionalProperties": false})";
  stemma_agent* agent = new_agent(2, schema);
  CString answer, trace;
  REQUIRE(stemma_agent_run(agent, "How do I reset my Lumora Hub?", answer.out(), trace.out()) ==
          STEMMA_OK);
  const auto j = answer.json();
  CHECK(j.size() == 2);
  CHECK(j.at("answer").get<std::string>().size() <= 60);
  CHECK(j.at("escalate").is_boolean());
  stemma_agent_free(agent);
}

TEST_CASE("agent misuse is refused; result handles live only during the call") {
  stemma_agent* agent = nullptr;
  stemma_agent_options o;
  stemma_agent_options_init(&o);
  o.max_steps = 0;
  CHECK(stemma_agent_new(engine(), &o, &agent) == STEMMA_INVALID_ARGUMENT);
  CHECK(last_error() == "stemma_agent_new: options->max_steps is 0; must be >= 1");
  o.max_steps = 2;
  o.struct_size = 7;
  CHECK(stemma_agent_new(engine(), &o, &agent) == STEMMA_INVALID_ARGUMENT);
  CHECK(agent == nullptr);
  REQUIRE(stemma_agent_new(engine(), nullptr, &agent) == STEMMA_OK);  // defaults
  Calls calls;
  CHECK(stemma_agent_add_tool(agent, "bad name!", "", kOrderSchema, lookup_order, &calls) ==
        STEMMA_INVALID_ARGUMENT);
  CHECK(stemma_agent_add_tool(agent, "t", "", "{not json", lookup_order, &calls) ==
        STEMMA_INVALID_ARGUMENT);
  CHECK(stemma_agent_add_tool(agent, "t", "", kOrderSchema, nullptr, &calls) ==
        STEMMA_INVALID_ARGUMENT);
  REQUIRE(stemma_agent_add_tool(agent, "t", nullptr, kOrderSchema, lookup_order, &calls) ==
          STEMMA_OK);
  CHECK(stemma_agent_add_tool(agent, "t", "", kOrderSchema, lookup_order, &calls) ==
        STEMMA_INVALID_ARGUMENT);  // registered twice
  CHECK(stemma_tool_result_set(nullptr, "x") == STEMMA_INVALID_ARGUMENT);
  stemma_tool_result* fake = reinterpret_cast<stemma_tool_result*>(&calls);
  CHECK(stemma_tool_result_set(fake, "x") == STEMMA_INVALID_ARGUMENT);
  CHECK(last_error().find("is not a live stemma_tool_result") != std::string::npos);
  CString answer;
  CHECK(stemma_agent_run(agent, nullptr, answer.out(), nullptr) == STEMMA_INVALID_ARGUMENT);
  CHECK(stemma_agent_run(agent, "task", nullptr, nullptr) == STEMMA_INVALID_ARGUMENT);
  stemma_agent_free(agent);
  CHECK(stemma_agent_run(agent, "task", answer.out(), nullptr) == STEMMA_INVALID_ARGUMENT);
}

TEST_CASE("tool_choice: REQUIRED makes every turn a call, NONE answers, others are refused") {
  const std::string system = faq_system_prompt();
  for (int32_t choice : {STEMMA_TOOL_CHOICE_REQUIRED, STEMMA_TOOL_CHOICE_NONE}) {
    CAPTURE(choice);
    stemma_agent_options o;
    STEMMA_STRUCT_INIT(&o);
    stemma_agent_options_init(&o);
    o.system_prompt = system.c_str();
    o.max_steps = 2;
    o.max_tokens = 120;
    o.tool_choice = choice;
    stemma_agent* agent = nullptr;
    REQUIRE(stemma_agent_new(engine(), &o, &agent) == STEMMA_OK);
    Calls calls;
    REQUIRE(stemma_agent_add_tool(agent, "lookup_order", "Look up an order by its number",
                                  kOrderSchema, lookup_order, &calls) == STEMMA_OK);
    CString answer, trace;
    const stemma_status s =
        stemma_agent_run(agent, "How do I reset my hub?", answer.out(), trace.out());
    const nlohmann::json steps = nlohmann::json::parse(trace.str());
    if (choice == STEMMA_TOOL_CHOICE_REQUIRED) {
      // Whatever the model would rather do, both turns are calls whose arguments parse.
      CHECK(s == STEMMA_RESOURCE_EXHAUSTED);
      REQUIRE(calls.arguments.size() == 2);
      for (const std::string& a : calls.arguments) {
        CHECK(nlohmann::json::parse(a).at("order_id").is_string());
      }
      REQUIRE(steps.size() == 2);
      for (const auto& step : steps) CHECK(step.at("kind") == "tool_call");
    } else {
      CHECK(s == STEMMA_OK);
      CHECK(calls.arguments.empty());
      REQUIRE(steps.size() == 1);
      CHECK(steps[0].at("kind") == "answer");
    }
    stemma_agent_free(agent);
  }
  stemma_agent_options o;
  stemma_agent_options_init(&o);
  o.tool_choice = 7;
  stemma_agent* agent = nullptr;
  CHECK(stemma_agent_new(engine(), &o, &agent) == STEMMA_INVALID_ARGUMENT);
  CHECK(last_error().find("tool_choice is 7") != std::string::npos);
  CHECK(agent == nullptr);
}
