// Agent: a model that calls tools in a loop until it answers.
//
//   auto agent = agent::Agent::create(runtime, {.max_steps = 6});
//   (*agent)->add_tool({"lookup_order", "Look up an order by its number",
//                       R"({"type": "object", "properties": {"order_id": {"type": "string"}},
//                           "required": ["order_id"]})",
//                       [](const std::string& args) -> Result<std::string> { ... }});
//   agent::AgentRun run = (*agent)->run("Where is my order LM-123456?");
//   // run.status, run.answer, run.trace (every step: kind, name, arguments, result, text)
//
// Each model turn is generated under a constraint (tool_call_format.h) that allows a call of a
// registered tool with arguments valid under its JSON Schema, or the final answer (free text,
// or JSON under AgentOptions::answer_schema); so every call parses and validates, whatever the
// weights. A call's result goes back as a `tool` message and the model takes another turn, up
// to max_steps turns. The conversation is rendered with the model's chat template, append-only,
// so each turn's prompt extends the previous one and the radix cache serves it.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "engine/api/generation_options.h"
#include "engine/api/status.h"
#include "sdk/agent/tool.h"
#include "sdk/agent/tool_call_format.h"
#include "sdk/program/gen_options.h"
#include "sdk/program/runtime.h"

namespace stemma::agent {

// The agent's defaults per model turn (GenerationOptions' own defaults otherwise): 256 tokens
// (a tool call with its arguments needs more than the 128 of a reply), and no jump-forward.
// Jump-forward appends the call's fixed text ({"name": ..., "arguments": ) as its own tokens and
// stops where the model has a choice, often inside what the model would write as one token (`":
// "`); the model then continues from a token boundary it never saw in training and drifts (measured
// on the FAQ model: malformed arguments and runaway strings). Sampling every token under the mask
// lets the model use its own tokenization, which it was trained on.
inline GenerationOptions agent_gen_defaults() {
  GenerationOptions g;
  g.max_tokens = 256;
  g.jump_forward = false;
  return g;
}

struct AgentOptions {
  // "": a generic prompt that explains the call format and lists the tools (when the template
  // renders tools itself, they are passed to it instead of listed).
  std::string system_prompt;
  int32_t max_steps = 8;  // model turns at most (tool calls + the answer)
  // Per model turn: max_tokens, temperature, seed, top_k/top_p/min_p, penalties. regex,
  // json_schema, choices and stop_strings must stay empty (the agent sets the constraint).
  GenerationOptions gen = agent_gen_defaults();
  std::string answer_schema;  // "": the answer is free text; else JSON under this schema
  ToolChoice tool_choice = ToolChoice::kAuto;
  int json_whitespace = 1;     // see TurnFormat
  bool template_tools = true;  // pass the tools to a chat template that reads `tools`
};

struct AgentStep {
  int32_t step = 0;       // 1-based model turn
  std::string kind;       // "tool_call" or "answer"
  std::string name;       // tool_call: the tool
  std::string arguments;  // tool_call: the arguments' JSON text
  std::string result;     // tool_call: what the tool returned
  std::string text;       // the model's whole turn as generated
  FinishReason finish = FinishReason::kNone;
  int64_t prompt_tokens = 0;
  int64_t cached_tokens = 0;  // of the prompt, served from the radix cache
  int64_t generated_tokens = 0;
};

struct AgentRun {
  // OK when the model answered; ResourceExhausted when max_steps turns passed without an
  // answer; a tool's error, or why generation failed, otherwise. The trace is kept in every
  // case.
  Status status;
  std::string answer;
  std::vector<AgentStep> trace;
  std::vector<program::Message> messages;  // the whole conversation, final answer included
};

// [{"step", "kind", "name", "arguments", "result", "text", "finish", "prompt_tokens",
//   "cached_tokens", "generated_tokens"}, ...]; "arguments" is the JSON value itself.
std::string trace_json(const std::vector<AgentStep>& trace);

class Agent {
 public:
  static Result<std::unique_ptr<Agent>> create(std::shared_ptr<program::Runtime> runtime,
                                               AgentOptions options = {});

  // Registers a tool (validated; a name registered twice is refused). Not while running.
  Status add_tool(Tool tool);

  // Runs the loop for `task` (a user message after the system prompt).
  AgentRun run(std::string_view task);
  // Runs the loop on a conversation that ends where the model is to take its turn (e.g. a user
  // message and a retrieval context). The system prompt is put first unless the conversation
  // already starts with a system message.
  AgentRun run(std::vector<program::Message> conversation);

  // The regex each turn is generated under.
  Result<std::string> turn_regex() const;
  // The system prompt a run starts with.
  std::string system_prompt() const;
  const std::vector<Tool>& tools() const { return tools_; }
  const AgentOptions& options() const { return options_; }

 private:
  Agent(std::shared_ptr<program::Runtime> runtime, AgentOptions options)
      : runtime_(std::move(runtime)), options_(std::move(options)) {}
  // The turn regex, made once per set of tools (the engine compiles and caches it).
  Result<std::string> cached_turn_regex();
  bool pass_tools_to_template() const;

  std::shared_ptr<program::Runtime> runtime_;
  AgentOptions options_;
  std::vector<Tool> tools_;
  std::mutex mu_;  // guards turn_regex_ (runs may share an agent)
  std::string turn_regex_;
};

}  // namespace stemma::agent
