#include "sdk/agent/agent.h"

#include <nlohmann/json.hpp>

#include "sdk/agent/tool_prompt.h"
#include "sdk/program/conversation_prompt.h"
#include "sdk/program/generate.h"

namespace stemma::agent {
namespace {

using ojson = nlohmann::ordered_json;

std::string dump(const ojson& j) {
  return j.dump(-1, ' ', false, ojson::error_handler_t::replace);
}

}  // namespace

std::string trace_json(const std::vector<AgentStep>& trace) {
  ojson out = ojson::array();
  for (const AgentStep& s : trace) {
    ojson args = nullptr;
    if (!s.arguments.empty()) {
      args = ojson::parse(s.arguments, nullptr, /*allow_exceptions=*/false);
      if (args.is_discarded()) args = s.arguments;
    }
    out.push_back({{"step", s.step},
                   {"kind", s.kind},
                   {"name", s.name},
                   {"arguments", args},
                   {"result", s.result},
                   {"text", s.text},
                   {"finish", finish_reason_name(s.finish)},
                   {"prompt_tokens", s.prompt_tokens},
                   {"cached_tokens", s.cached_tokens},
                   {"generated_tokens", s.generated_tokens}});
  }
  return dump(out);
}

Result<std::unique_ptr<Agent>> Agent::create(std::shared_ptr<program::Runtime> runtime,
                                             AgentOptions options) {
  if (!runtime) return InvalidArgument("agent: no runtime");
  if (options.max_steps < 1) {
    return InvalidArgument("agent options: max_steps must be at least 1 (got " +
                           std::to_string(options.max_steps) + ")");
  }
  if (options.gen.max_tokens < 1) {
    return InvalidArgument("agent options: max_tokens must be at least 1");
  }
  if (!options.gen.regex.empty() || !options.gen.json_schema.empty() ||
      !options.gen.choices.empty() || !options.gen.stop_strings.empty()) {
    return InvalidArgument(
        "agent options: gen.regex, gen.json_schema, gen.choices and gen.stop_strings must be "
        "empty (the agent constrains each turn itself; use answer_schema for the answer)");
  }
  if (options.json_whitespace < 0) {
    return InvalidArgument("agent options: json_whitespace must be >= 0");
  }
  if (!runtime->has_chat_template()) {
    return FailedPrecondition(
        "agent: the model ships no chat template; set RuntimeOptions::chat_template");
  }
  return std::unique_ptr<Agent>(new Agent(std::move(runtime), std::move(options)));
}

Status Agent::add_tool(Tool tool) {
  STEMMA_RETURN_IF_ERROR(validate_tool(tool));
  std::lock_guard<std::mutex> lock(mu_);
  for (const Tool& t : tools_) {
    if (t.name == tool.name) {
      return InvalidArgument("tool \"" + tool.name + "\" is already registered");
    }
  }
  // Checked now, so that a schema the constraint cannot enforce is refused by name here.
  std::vector<Tool> one{tool};
  TurnFormat f;
  f.choice = ToolChoice::kRequired;
  f.json_whitespace = options_.json_whitespace;
  STEMMA_RETURN_IF_ERROR(agent::turn_regex(one, f).status());
  tools_.push_back(std::move(tool));
  turn_regex_.clear();
  return OkStatus();
}

Result<std::string> Agent::turn_regex() const {
  TurnFormat f;
  f.choice = options_.tool_choice;
  f.answer_schema = options_.answer_schema;
  f.json_whitespace = options_.json_whitespace;
  return agent::turn_regex(tools_, f);
}

Result<std::string> Agent::cached_turn_regex() {
  std::lock_guard<std::mutex> lock(mu_);
  if (turn_regex_.empty()) {
    STEMMA_ASSIGN_OR_RETURN(turn_regex_, turn_regex());
    // Compiled now (the engine caches it), so that a regex the engine refuses fails the run
    // before its first turn, by name.
    GenerationOptions check = options_.gen;
    check.regex = turn_regex_;
    Status s = runtime_->engine().check(check);
    if (!s.ok()) {
      turn_regex_.clear();
      return s.with_context("agent: compiling the turn constraint");
    }
  }
  return turn_regex_;
}

bool Agent::pass_tools_to_template() const {
  return options_.template_tools && runtime_->template_uses_tools() && !tools_.empty() &&
         options_.tool_choice != ToolChoice::kNone;
}

std::string Agent::system_prompt() const {
  if (!options_.system_prompt.empty()) return options_.system_prompt;
  return default_system_prompt(tools_, options_.tool_choice, !pass_tools_to_template());
}

AgentRun Agent::run(std::string_view task) {
  return run(std::vector<program::Message>{{"user", std::string(task)}});
}

AgentRun Agent::run(std::vector<program::Message> conversation) {
  AgentRun r;
  if (conversation.empty() || conversation.front().role != "system") {
    conversation.insert(conversation.begin(), {"system", system_prompt()});
  }
  r.messages = std::move(conversation);
  auto regex = cached_turn_regex();
  if (!regex.ok()) {
    r.status = regex.status();
    return r;
  }
  GenerationOptions gen = options_.gen;
  gen.regex = std::move(regex).value();
  const ojson tools = pass_tools_to_template() ? tools_json(tools_) : ojson(nullptr);
  program::ConversationPrompt conv(runtime_);
  for (int32_t step = 1; step <= options_.max_steps; ++step) {
    const std::string where = "agent step " + std::to_string(step);
    auto prompt = conv.prompt(r.messages, tools);
    if (!prompt.ok()) {
      r.status = prompt.status().with_context(where);
      return r;
    }
    auto g = program::generate(*runtime_, std::move(prompt).value(), gen);
    if (!g.ok()) {
      r.status = g.status().with_context(where);
      return r;
    }
    AgentStep s;
    s.step = step;
    s.text = g->text;
    s.finish = g->finish;
    s.prompt_tokens = g->prompt_tokens;
    s.cached_tokens = g->cached_tokens;
    s.generated_tokens = g->generated_tokens;
    auto parsed = parse_turn(g->text, tools_);
    if (!parsed.ok()) {
      s.kind = "invalid";
      r.trace.push_back(std::move(s));
      r.status =
          parsed.status().with_context(where + " (finish: " + finish_reason_name(g->finish) + ")");
      return r;
    }
    conv.set_reply(g->text, std::move(g->tokens));
    r.messages.push_back({"assistant", g->text});
    if (parsed->kind == ParsedTurn::Kind::kAnswer) {
      if (!options_.answer_schema.empty() && g->finish == FinishReason::kLength) {
        s.kind = "invalid";
        r.trace.push_back(std::move(s));
        r.status = ResourceExhausted(where + ": the answer was cut off by max_tokens (" +
                                     std::to_string(options_.gen.max_tokens) + ")");
        return r;
      }
      s.kind = "answer";
      r.answer = parsed->answer;
      r.trace.push_back(std::move(s));
      return r;
    }
    s.kind = "tool_call";
    s.name = parsed->name;
    s.arguments = parsed->arguments;
    const Tool* tool = nullptr;
    for (const Tool& t : tools_) {
      if (t.name == parsed->name) tool = &t;
    }
    if (tool == nullptr) {  // parse_turn checked the name; kept for safety
      r.status = Internal(where + ": no tool named " + parsed->name);
      return r;
    }
    auto result = tool->fn(parsed->arguments);
    if (!result.ok()) {
      r.trace.push_back(std::move(s));
      r.status = result.status().with_context(where + ": tool \"" + parsed->name + "\"");
      return r;
    }
    s.result = *result;
    r.messages.push_back({"tool", *result});
    r.trace.push_back(std::move(s));
  }
  r.status = ResourceExhausted(
      "agent: no answer after max_steps = " + std::to_string(options_.max_steps) + " model turns");
  return r;
}

}  // namespace stemma::agent
