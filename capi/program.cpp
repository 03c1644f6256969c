// stemma_program_*: SGLang-style programs (sdk/program/program_state.h) behind the C ABI.
#include <vector>

#include "capi/capi_errors.h"
#include "capi/engine_core.h"
#include "capi/gen_options.h"
#include "capi/handles.h"
#include "sdk/program/program_state.h"
#include "sdk/program/run_batch.h"

using namespace stemma;
using namespace stemma::capi;

// A program state. States of stemma_program_run_batch are borrowed (run_batch owns them; the
// handle lives only while fn runs and cannot be freed by the caller).
struct stemma_program {
  std::shared_ptr<EngineCore> core;  // keeps the engine alive; declared first, destroyed last
  std::unique_ptr<program::ProgramState> owned;
  program::ProgramState* state = nullptr;
};

namespace {

stemma_program* new_handle(std::shared_ptr<EngineCore> core,
                           std::unique_ptr<program::ProgramState> state) {
  auto* h = new stemma_program{std::move(core), std::move(state), nullptr};
  h->state = h->owned.get();
  return register_handle(h, HandleKind::kProgram);
}

// On success `program` becomes the object's address (handles.h).
Status check_program(const char* fn, stemma_program*& program) {
  return check_handle(fn, "program", program, HandleKind::kProgram);
}

Status check_role(const char* fn, const char* role) {
  STEMMA_RETURN_IF_ERROR(check_text(fn, "role", role));
  if (role[0] == '\0') return InvalidArgument(std::string(fn) + ": role is empty");
  return OkStatus();
}

// A status code a caller's function returned, as a Status: its own message when it left one
// on this thread (the last error of the call that failed), else a generic one.
Status from_callback(const char* fn, stemma_status code, size_t index) {
  std::string message = std::string(fn) + ": fn returned " + stemma_status_name(code) +
                        " for index " + std::to_string(index);
  const char* detail = stemma_last_error();
  if (detail != nullptr && detail[0] != '\0') message += std::string(": ") + detail;
  if (code < STEMMA_INVALID_ARGUMENT || code > STEMMA_INTERNAL) {
    return Internal(message + " (not a stemma_status value: " + std::to_string(code) + ")");
  }
  return Status(static_cast<StatusCode>(code), message);
}

}  // namespace

extern "C" {

STEMMA_API stemma_status stemma_program_new(stemma_engine* engine, stemma_program** program_out) {
  return guarded(__func__, [&, api = __func__]() -> Status {
    STEMMA_RETURN_IF_ERROR(check_not_null(api, "program_out", program_out));
    *program_out = nullptr;
    STEMMA_RETURN_IF_ERROR(check_handle(api, "engine", engine, HandleKind::kEngine));
    std::shared_ptr<EngineCore> core = engine->core;
    STEMMA_ASSIGN_OR_RETURN(auto runtime, core->runtime(api));
    *program_out = new_handle(core, program::ProgramState::create(runtime));
    return OkStatus();
  });
}

STEMMA_API void stemma_program_free(stemma_program* program) {
  guarded_void(__func__, [&, api = __func__] {
    stemma_program* object = program;
    if (program == nullptr || !is_live_handle(object, HandleKind::kProgram)) return;
    if (!object->owned) {
      (void)fail(FailedPrecondition(
          "stemma_program_free: the state belongs to stemma_program_run_batch (freed after fn)"));
      return;
    }
    if (unregister_handle(program, HandleKind::kProgram)) delete program;  // waits for its ops
  });
}

STEMMA_API stemma_status stemma_program_append(stemma_program* program, const char* text) {
  return guarded(__func__, [&, api = __func__]() -> Status {
    STEMMA_RETURN_IF_ERROR(check_program(api, program));
    STEMMA_RETURN_IF_ERROR(check_text(api, "text", text));
    return program->state->append(text).with_context(api);
  });
}

STEMMA_API stemma_status stemma_program_message(stemma_program* program, const char* role,
                                                const char* content) {
  return guarded(__func__, [&, api = __func__]() -> Status {
    STEMMA_RETURN_IF_ERROR(check_program(api, program));
    STEMMA_RETURN_IF_ERROR(check_role(api, role));
    STEMMA_RETURN_IF_ERROR(check_text(api, "content", content));
    return program->state->message(role, content).with_context(api);
  });
}

STEMMA_API stemma_status stemma_program_role_begin(stemma_program* program, const char* role) {
  return guarded(__func__, [&, api = __func__]() -> Status {
    STEMMA_RETURN_IF_ERROR(check_program(api, program));
    STEMMA_RETURN_IF_ERROR(check_role(api, role));
    return program->state->role_begin(role).with_context(api);
  });
}

STEMMA_API stemma_status stemma_program_role_end(stemma_program* program) {
  return guarded(__func__, [&, api = __func__]() -> Status {
    STEMMA_RETURN_IF_ERROR(check_program(api, program));
    return program->state->role_end().with_context(api);
  });
}

STEMMA_API stemma_status stemma_program_gen(stemma_program* program, const char* name,
                                            const stemma_gen_options* options,
                                            stemma_stream_fn stream, void* user_data) {
  return guarded(__func__, [&, api = __func__]() -> Status {
    STEMMA_RETURN_IF_ERROR(check_program(api, program));
    STEMMA_RETURN_IF_ERROR(check_text(api, "name", name));
    STEMMA_ASSIGN_OR_RETURN(GenerationOptions g, to_generation_options(api, options));
    program::TextCallback cb;
    if (stream != nullptr) cb = text_callback(std::make_shared<StreamBridge>(stream, user_data));
    return program->state->gen(name, std::move(g), std::move(cb)).with_context(api);
  });
}

STEMMA_API stemma_status stemma_program_select(stemma_program* program, const char* name,
                                               const char* const* choices, size_t num_choices) {
  return guarded(__func__, [&, api = __func__]() -> Status {
    STEMMA_RETURN_IF_ERROR(check_program(api, program));
    STEMMA_RETURN_IF_ERROR(check_text(api, "name", name));
    if (num_choices == 0) return InvalidArgument(std::string(api) + ": num_choices is 0");
    STEMMA_RETURN_IF_ERROR(check_not_null(api, "choices", choices));
    std::vector<std::string> list;
    for (size_t i = 0; i < num_choices; ++i) {
      const std::string arg = "choices[" + std::to_string(i) + "]";
      STEMMA_RETURN_IF_ERROR(check_text(api, arg.c_str(), choices[i]));
      list.emplace_back(choices[i]);
    }
    return program->state->select(name, std::move(list)).with_context(api);
  });
}

STEMMA_API stemma_status stemma_program_get(stemma_program* program, const char* name,
                                            char** value_out) {
  return guarded(__func__, [&, api = __func__]() -> Status {
    STEMMA_RETURN_IF_ERROR(check_not_null(api, "value_out", value_out));
    *value_out = nullptr;
    STEMMA_RETURN_IF_ERROR(check_program(api, program));
    STEMMA_RETURN_IF_ERROR(check_text(api, "name", name));
    auto value = program->state->get(name);
    if (!value.ok()) return value.status().with_context(api);
    return copy_out(api, "value_out", c_safe_text(value.value()), value_out);
  });
}

STEMMA_API stemma_status stemma_program_text(stemma_program* program, char** text_out) {
  return guarded(__func__, [&, api = __func__]() -> Status {
    STEMMA_RETURN_IF_ERROR(check_not_null(api, "text_out", text_out));
    *text_out = nullptr;
    STEMMA_RETURN_IF_ERROR(check_program(api, program));
    return copy_out(api, "text_out", c_safe_text(program->state->text()), text_out);
  });
}

STEMMA_API stemma_status stemma_program_wait(stemma_program* program) {
  return guarded(__func__, [&, api = __func__]() -> Status {
    STEMMA_RETURN_IF_ERROR(check_program(api, program));
    return program->state->wait().with_context(api);
  });
}

STEMMA_API stemma_status stemma_program_fork(stemma_program* program, size_t count,
                                             stemma_program** forks_out) {
  return guarded(__func__, [&, api = __func__]() -> Status {
    STEMMA_RETURN_IF_ERROR(check_program(api, program));
    if (count == 0) return InvalidArgument(std::string(api) + ": count is 0");
    STEMMA_RETURN_IF_ERROR(check_not_null(api, "forks_out", forks_out));
    for (size_t i = 0; i < count; ++i) forks_out[i] = nullptr;
    auto forks = program->state->fork(count);
    if (!forks.ok()) return forks.status().with_context(api);
    for (size_t i = 0; i < count; ++i) {
      forks_out[i] = new_handle(program->core, std::move(forks.value()[i]));
    }
    return OkStatus();
  });
}

STEMMA_API stemma_status stemma_program_join(stemma_program* const* programs, size_t count) {
  return guarded(__func__, [&, api = __func__]() -> Status {
    if (count == 0) return OkStatus();
    STEMMA_RETURN_IF_ERROR(check_not_null(api, "programs", programs));
    std::vector<program::ProgramState*> states;
    for (size_t i = 0; i < count; ++i) {
      const std::string arg = "programs[" + std::to_string(i) + "]";
      stemma_program* program = programs[i];
      STEMMA_RETURN_IF_ERROR(check_handle(api, arg.c_str(), program, HandleKind::kProgram));
      states.push_back(program->state);
    }
    return program::join(states).with_context(api);
  });
}

STEMMA_API stemma_status stemma_program_run_batch(stemma_engine* engine, size_t count,
                                                  size_t parallelism, stemma_program_fn fn,
                                                  void* user_data) {
  return guarded(__func__, [&, api = __func__]() -> Status {
    STEMMA_RETURN_IF_ERROR(check_handle(api, "engine", engine, HandleKind::kEngine));
    STEMMA_RETURN_IF_ERROR(check_not_null(api, "fn", reinterpret_cast<const void*>(fn)));
    if (count == 0) return OkStatus();
    std::shared_ptr<EngineCore> core = engine->core;
    STEMMA_ASSIGN_OR_RETURN(auto runtime, core->runtime(api));
    const char* name = api;
    program::BatchOptions bo;
    bo.parallelism = parallelism;
    bo.keep_states = false;
    program::BatchResult result = program::run_batch(
        runtime, count,
        [&](size_t index, program::ProgramState& state) -> Status {
          // A borrowed handle, live only while fn runs.
          stemma_program borrowed{core, nullptr, &state};
          stemma_program* handle = register_handle(&borrowed, HandleKind::kProgram);
          clear_last_error();  // a worker thread of ours: fn's failures start from a clean slate
          stemma_status code = STEMMA_INTERNAL;
          try {
            code = fn(user_data, index, handle);
          } catch (...) {
            unregister_handle(handle, HandleKind::kProgram);
            return Internal(std::string(name) + ": fn threw for index " + std::to_string(index));
          }
          unregister_handle(handle, HandleKind::kProgram);
          if (code != STEMMA_OK) return from_callback(name, code, index);
          return OkStatus();
        },
        bo);
    return result.status;
  });
}

}  // extern "C"
