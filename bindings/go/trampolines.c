#include "trampolines.h"

#include <string.h>

#include "_cgo_export.h"

// Options structs with the library's defaults. struct_size is set to this header's sizeof first,
// so the library writes only the fields this binding knows.
#define STEMMA_GO_INIT(type, fn)                     \
  void stemma_go_##type##_init(stemma_##type* out) { \
    STEMMA_STRUCT_INIT(out);                         \
    fn(out);                                         \
  }

STEMMA_GO_INIT(engine_options, stemma_engine_options_init)
STEMMA_GO_INIT(engine_stats, stemma_engine_stats_init)
STEMMA_GO_INIT(gen_options, stemma_gen_options_init)
STEMMA_GO_INIT(agent_options, stemma_agent_options_init)

static int32_t stream_trampoline(void* user_data, const char* piece, size_t length) {
  return stemmaGoStream((uintptr_t)user_data, (char*)piece, length);
}

static stemma_status tool_trampoline(void* user_data, const char* arguments_json,
                                     stemma_tool_result* result) {
  return stemmaGoTool((uintptr_t)user_data, (char*)arguments_json, result);
}

static stemma_status program_fn_trampoline(void* user_data, size_t index, stemma_program* program) {
  return stemmaGoProgramFn((uintptr_t)user_data, index, program);
}

stemma_status stemma_go_generate(stemma_engine* engine, const char* prompt,
                                 const stemma_gen_options* options, uintptr_t stream,
                                 char** text_out, stemma_finish_reason* finish_out) {
  return stemma_generate(engine, prompt, options, stream ? stream_trampoline : NULL, (void*)stream,
                         text_out, finish_out);
}

stemma_status stemma_go_program_gen(stemma_program* program, const char* name,
                                    const stemma_gen_options* options, uintptr_t stream) {
  return stemma_program_gen(program, name, options, stream ? stream_trampoline : NULL,
                            (void*)stream);
}

stemma_status stemma_go_program_run_batch(stemma_engine* engine, size_t count, size_t parallelism,
                                          uintptr_t batch) {
  return stemma_program_run_batch(engine, count, parallelism, program_fn_trampoline, (void*)batch);
}

stemma_status stemma_go_chat_send(stemma_chat* chat, const char* user_message,
                                  const stemma_gen_options* options, uintptr_t stream,
                                  char** reply_out) {
  return stemma_chat_send(chat, user_message, options, stream ? stream_trampoline : NULL,
                          (void*)stream, reply_out);
}

stemma_status stemma_go_rag_answer(stemma_rag* rag, stemma_engine* engine, const char* question,
                                   size_t top_k, const stemma_gen_options* options,
                                   uintptr_t stream, char** answer_out, char** sources_json_out) {
  return stemma_rag_answer(rag, engine, question, top_k, options, stream ? stream_trampoline : NULL,
                           (void*)stream, answer_out, sources_json_out);
}

stemma_status stemma_go_agent_add_tool(stemma_agent* agent, const char* name,
                                       const char* description, const char* parameters_schema_json,
                                       uintptr_t tool) {
  return stemma_agent_add_tool(agent, name, description, parameters_schema_json, tool_trampoline,
                               (void*)tool);
}
