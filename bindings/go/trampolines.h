// C shims between cgo and the C ABI. A Go callback is reached through an exported Go function;
// its state travels as a cgo.Handle (an integer) in user_data. The casts between uintptr_t and
// void* happen here, in C, so Go never turns an integer into a pointer. Handle 0 means "no
// callback".
#ifndef STEMMA_GO_TRAMPOLINES_H_
#define STEMMA_GO_TRAMPOLINES_H_

#include <stdint.h>

#include "stemma.h"

stemma_status stemma_go_generate(stemma_engine* engine, const char* prompt,
                                 const stemma_gen_options* options, uintptr_t stream,
                                 char** text_out, stemma_finish_reason* finish_out);
stemma_status stemma_go_program_gen(stemma_program* program, const char* name,
                                    const stemma_gen_options* options, uintptr_t stream);
stemma_status stemma_go_program_run_batch(stemma_engine* engine, size_t count, size_t parallelism,
                                          uintptr_t batch);
stemma_status stemma_go_chat_send(stemma_chat* chat, const char* user_message,
                                  const stemma_gen_options* options, uintptr_t stream,
                                  char** reply_out);
stemma_status stemma_go_rag_answer(stemma_rag* rag, stemma_engine* engine, const char* question,
                                   size_t top_k, const stemma_gen_options* options,
                                   uintptr_t stream, char** answer_out, char** sources_json_out);
stemma_status stemma_go_agent_add_tool(stemma_agent* agent, const char* name,
                                       const char* description, const char* parameters_schema_json,
                                       uintptr_t tool);

// The *_init functions write the library's whole struct, which is larger than ours when the
// library is newer: these run them on a scratch buffer, copy the fields this header knows and
// set struct_size to our size (so the library reads only those).
void stemma_go_engine_options_init(stemma_engine_options* options);
void stemma_go_engine_stats_init(stemma_engine_stats* stats);
void stemma_go_gen_options_init(stemma_gen_options* options);
void stemma_go_agent_options_init(stemma_agent_options* options);

#endif  // STEMMA_GO_TRAMPOLINES_H_
