// stemma_agent_*: tool-using agents (sdk/agent/agent.h) with tools written in the caller's
// language, behind the C ABI.
#include <atomic>
#include <cmath>
#include <thread>

#include "capi/capi_errors.h"
#include "capi/engine_core.h"
#include "capi/handles.h"
#include "capi/struct_versions.h"
#include "sdk/agent/agent.h"

using namespace stemma;
using namespace stemma::capi;

struct stemma_agent {
  std::shared_ptr<EngineCore> core;  // declared first: destroyed after the agent
  std::unique_ptr<agent::Agent> agent;
  std::mutex run_mu;  // a run and add_tool do not overlap (Agent::add_tool: "not while running")
  std::atomic<std::thread::id> running_on{};  // the thread inside run(), to catch re-entry
};

// What a tool reports during one call; a handle only while the call runs.
struct stemma_tool_result {
  std::string text;
  bool set = false;
};

namespace {

stemma_agent_options default_agent_options() {
  // The SDK's defaults (agent::AgentOptions, its per-turn GenerationOptions).
  const agent::AgentOptions d;
  stemma_agent_options o{};
  o.struct_size = sizeof(o);
  o.system_prompt = nullptr;
  o.max_steps = d.max_steps;
  o.max_tokens = d.gen.max_tokens;
  o.temperature = d.gen.temperature;
  o.seed = d.gen.seed;
  o.answer_schema = nullptr;
  o.tool_choice = STEMMA_TOOL_CHOICE_AUTO;
  return o;
}

Result<agent::AgentOptions> to_agent_options(const char* fn, const stemma_agent_options* options) {
  stemma_agent_options o = default_agent_options();
  if (options != nullptr) STEMMA_RETURN_IF_ERROR(read_struct(fn, "options", options, &o));
  const std::string where = std::string(fn) + ": options->";
  STEMMA_RETURN_IF_ERROR(check_text(fn, "options->system_prompt", o.system_prompt, true));
  STEMMA_RETURN_IF_ERROR(check_text(fn, "options->answer_schema", o.answer_schema, true));
  if (o.max_steps < 1) {
    return InvalidArgument(where + "max_steps is " + std::to_string(o.max_steps) +
                           "; must be >= 1");
  }
  if (o.max_tokens < 1) {
    return InvalidArgument(where + "max_tokens is " + std::to_string(o.max_tokens) +
                           "; must be >= 1");
  }
  if (!std::isfinite(o.temperature)) return InvalidArgument(where + "temperature is not finite");
  agent::AgentOptions a;
  switch (o.tool_choice) {
    case STEMMA_TOOL_CHOICE_AUTO:
      a.tool_choice = agent::ToolChoice::kAuto;
      break;
    case STEMMA_TOOL_CHOICE_REQUIRED:
      a.tool_choice = agent::ToolChoice::kRequired;
      break;
    case STEMMA_TOOL_CHOICE_NONE:
      a.tool_choice = agent::ToolChoice::kNone;
      break;
    default:
      return InvalidArgument(where + "tool_choice is " + std::to_string(o.tool_choice) +
                             "; must be STEMMA_TOOL_CHOICE_AUTO, _REQUIRED or _NONE (0, 1, 2)");
  }
  if (o.system_prompt != nullptr) a.system_prompt = o.system_prompt;
  a.max_steps = o.max_steps;
  a.gen.max_tokens = o.max_tokens;
  a.gen.temperature = o.temperature;
  a.gen.seed = o.seed;
  if (o.answer_schema != nullptr) a.answer_schema = o.answer_schema;
  return a;
}

// Calls the caller's tool with a result handle that lives for the call only.
Result<std::string> call_tool(const std::string& name, stemma_tool_fn fn, void* user_data,
                              const std::string& arguments) {
  stemma_tool_result result;
  stemma_tool_result* handle = register_handle(&result, HandleKind::kToolResult);
  clear_last_error();
  stemma_status code = STEMMA_INTERNAL;
  try {
    code = fn(user_data, arguments.c_str(), handle);
  } catch (...) {
    unregister_handle(handle, HandleKind::kToolResult);
    return Internal("tool '" + name + "' threw an exception");
  }
  unregister_handle(handle, HandleKind::kToolResult);
  if (code == STEMMA_OK) return result.text;  // not set: an empty result
  // The tool's own words: what it set as its result, or the last error it ran into.
  std::string detail = result.set ? result.text : std::string(stemma_last_error());
  std::string message = "tool '" + name + "' failed with " + stemma_status_name(code);
  if (!detail.empty()) message += ": " + detail;
  if (code < STEMMA_INVALID_ARGUMENT || code > STEMMA_INTERNAL) return Internal(message);
  return Status(static_cast<StatusCode>(code), message);
}

}  // namespace

extern "C" {

STEMMA_API void stemma_agent_options_init(stemma_agent_options* options) {
  init_struct(options, default_agent_options());
}

STEMMA_API stemma_status stemma_agent_new(stemma_engine* engine,
                                          const stemma_agent_options* options,
                                          stemma_agent** agent_out) {
  return guarded(__func__, [&, api = __func__]() -> Status {
    STEMMA_RETURN_IF_ERROR(check_not_null(api, "agent_out", agent_out));
    *agent_out = nullptr;
    STEMMA_RETURN_IF_ERROR(check_handle(api, "engine", engine, HandleKind::kEngine));
    STEMMA_ASSIGN_OR_RETURN(agent::AgentOptions ao, to_agent_options(api, options));
    std::shared_ptr<EngineCore> core = engine->core;
    STEMMA_ASSIGN_OR_RETURN(auto runtime, core->runtime(api));
    auto a = agent::Agent::create(runtime, std::move(ao));
    if (!a.ok()) return a.status().with_context(api);
    auto* h = new stemma_agent{core, std::move(a).value(), {}};
    *agent_out = register_handle(h, HandleKind::kAgent);
    return OkStatus();
  });
}

STEMMA_API void stemma_agent_free(stemma_agent* agent) {
  guarded_void(__func__, [&, api = __func__] {
    if (agent != nullptr && unregister_handle(agent, HandleKind::kAgent)) delete agent;
  });
}

STEMMA_API stemma_status stemma_tool_result_set(stemma_tool_result* result, const char* text) {
  return guarded(__func__, [&, api = __func__]() -> Status {
    STEMMA_RETURN_IF_ERROR(check_handle(api, "result", result, HandleKind::kToolResult));
    STEMMA_RETURN_IF_ERROR(check_text(api, "text", text));
    result->text = text;
    result->set = true;
    return OkStatus();
  });
}

STEMMA_API stemma_status stemma_agent_add_tool(stemma_agent* agent, const char* name,
                                               const char* description,
                                               const char* parameters_schema_json,
                                               stemma_tool_fn fn, void* user_data) {
  return guarded(__func__, [&, api = __func__]() -> Status {
    STEMMA_RETURN_IF_ERROR(check_handle(api, "agent", agent, HandleKind::kAgent));
    STEMMA_RETURN_IF_ERROR(check_text(api, "name", name));
    STEMMA_RETURN_IF_ERROR(check_text(api, "description", description, true));
    STEMMA_RETURN_IF_ERROR(check_text(api, "parameters_schema_json", parameters_schema_json));
    STEMMA_RETURN_IF_ERROR(check_not_null(api, "fn", reinterpret_cast<const void*>(fn)));
    agent::Tool tool;
    tool.name = name;
    tool.description = description ? description : "";
    tool.parameters_schema = parameters_schema_json;
    const std::string tool_name = name;
    tool.fn = [tool_name, fn, user_data](const std::string& arguments) {
      return call_tool(tool_name, fn, user_data, arguments);
    };
    std::unique_lock<std::mutex> lock(agent->run_mu, std::try_to_lock);
    if (!lock.owns_lock()) {
      return FailedPrecondition(std::string(api) + ": the agent is running");
    }
    return agent->agent->add_tool(std::move(tool)).with_context(api);
  });
}

STEMMA_API stemma_status stemma_agent_run(stemma_agent* agent, const char* task, char** answer_out,
                                          char** trace_json_out) {
  return guarded(__func__, [&, api = __func__]() -> Status {
    STEMMA_RETURN_IF_ERROR(check_not_null(api, "answer_out", answer_out));
    *answer_out = nullptr;
    if (trace_json_out) *trace_json_out = nullptr;
    STEMMA_RETURN_IF_ERROR(check_handle(api, "agent", agent, HandleKind::kAgent));
    STEMMA_RETURN_IF_ERROR(check_text(api, "task", task));
    if (agent->running_on.load() == std::this_thread::get_id()) {
      return FailedPrecondition(std::string(api) +
                                ": called from a tool of the same agent while it runs");
    }
    std::lock_guard<std::mutex> lock(agent->run_mu);  // other threads take their turn
    struct RunningOn {
      std::atomic<std::thread::id>& id;
      ~RunningOn() { id.store(std::thread::id{}); }
    } running{agent->running_on};
    agent->running_on.store(std::this_thread::get_id());
    agent::AgentRun run = agent->agent->run(task);
    // The trace is given in every case (it says how far the run got).
    if (trace_json_out) {
      STEMMA_RETURN_IF_ERROR(
          copy_out(api, "trace_json_out", agent::trace_json(run.trace), trace_json_out));
    }
    if (!run.status.ok()) return run.status.with_context(api);
    return copy_out(api, "answer_out", run.answer, answer_out);
  });
}

}  // extern "C"
