/* Stemma's stable C ABI: what Go, Rust, C#, Python and C programs link against (libstemma.so).
 *
 * Rules (docs/DESIGN.md, "The C ABI"):
 * - Opaque handles, created and freed by paired functions. A free function accepts NULL.
 * - Every option/statistics struct starts with `size_t struct_size`: sizeof the struct you were
 *   compiled with. The library reads (or, for statistics, writes) only the fields that fit in
 *   struct_size, so callers built against an older header keep working. A struct_size smaller
 *   than the first version of the struct, or larger than the library knows, is refused.
 * - The *_init functions fill the library's defaults. Set struct_size first (STEMMA_STRUCT_INIT
 *   below does): they then write only struct_size bytes, so a newer library never writes past an
 *   older caller's struct. A struct_size outside the known range (0, say) is taken as the
 *   library's own sizeof: callers that skip setting it must be built against this header.
 * - Every call that can fail returns stemma_status; STEMMA_OK is 0. On failure
 *   stemma_last_error() returns a message naming what was wrong (the argument, the file, the
 *   key, the byte offset). The message is thread-local and stays valid until the next Stemma call
 *   on the same thread.
 * - Text in is UTF-8 and NUL-terminated; invalid UTF-8 is refused (STEMMA_INVALID_ARGUMENT, with
 *   the argument name and byte offset). Text out (char*) and arrays out are owned by the caller
 *   once returned and must be released with stemma_string_free / stemma_tokens_free, never free().
 * - Callbacks receive the `user_data` given with them. They run on a Stemma thread (documented
 *   per callback) and must not call back into the same handle unless that function says so.
 * - No C++ exception, STL type or allocator crosses this boundary.
 * - STEMMA_ABI_VERSION and stemma_abi_version(): symbols are only ever added, never changed or
 *   removed (capi/abi/symbols.txt is checked in CI).
 */
#ifndef STEMMA_H_
#define STEMMA_H_

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define STEMMA_API __declspec(dllimport)
#elif defined(__GNUC__)
#define STEMMA_API __attribute__((visibility("default")))
#else
#define STEMMA_API
#endif

#define STEMMA_ABI_VERSION 1

/* Zeroes a struct and sets its struct_size, before calling its *_init function:
 *   stemma_gen_options o; STEMMA_STRUCT_INIT(&o); stemma_gen_options_init(&o); */
#define STEMMA_STRUCT_INIT(ptr) \
  (memset((ptr), 0, sizeof(*(ptr))), (ptr)->struct_size = sizeof(*(ptr)))

/* ---------------------------------------------------------------------------------------------
 * Status codes, errors, library-owned memory
 * ------------------------------------------------------------------------------------------- */

typedef int32_t stemma_status;
enum {
  STEMMA_OK = 0,
  STEMMA_INVALID_ARGUMENT = 1,    /* a NULL handle or pointer, a bad struct_size, bad UTF-8, ... */
  STEMMA_NOT_FOUND = 2,           /* a file, session, variable or token does not exist */
  STEMMA_OUT_OF_RANGE = 3,        /* an index or size past a limit (e.g. the context length) */
  STEMMA_CORRUPT_DATA = 4,        /* a file contradicts its own format */
  STEMMA_UNSUPPORTED = 5,         /* well-formed, but not implemented (named in the message) */
  STEMMA_IO_ERROR = 6,            /* the OS refused a read, write, open or map */
  STEMMA_RESOURCE_EXHAUSTED = 7,  /* out of KV pages, memory, or a database is locked */
  STEMMA_CANCELLED = 8,           /* the caller (or a callback) cancelled the work */
  STEMMA_FAILED_PRECONDITION = 9, /* valid call, wrong state (e.g. a program still running) */
  STEMMA_INTERNAL = 10            /* a bug in Stemma */
};

/* STEMMA_ABI_VERSION of the loaded library. */
STEMMA_API uint32_t stemma_abi_version(void);
/* The library's version, e.g. "0.1.0" (static storage). */
STEMMA_API const char* stemma_version(void);
/* "OK", "INVALID_ARGUMENT", ... (static storage; "UNKNOWN" for other values). */
STEMMA_API const char* stemma_status_name(stemma_status status);
/* The message of the last failed call on this thread ("" if none). Owned by the library. */
STEMMA_API const char* stemma_last_error(void);

/* Releases text returned by any stemma_* function. NULL is ignored. */
STEMMA_API void stemma_string_free(char* text);
/* Releases token arrays returned by stemma_tokenize. NULL is ignored. */
STEMMA_API void stemma_tokens_free(int32_t* tokens);

/* ---------------------------------------------------------------------------------------------
 * Engine: a model plus its KV cache (radix prefix cache) and worker thread
 * ------------------------------------------------------------------------------------------- */

typedef struct stemma_engine stemma_engine;

typedef struct stemma_engine_options {
  size_t struct_size;
  const char* model_path;  /* a .gguf file or a folder with config.json + *.safetensors */
  int32_t threads;         /* backend threads; 0: one per hardware thread */
  int32_t page_size;       /* KV positions per page; 0: 16 */
  int64_t kv_memory_bytes; /* KV cache size; 0: 512 MiB */
  int32_t max_batch_tokens; /* tokens per engine step; 0: 2048 */
  int32_t radix_cache;      /* 1: share KV of common prefixes (default), 0: off */
  /* Appended after the first release: a caller whose struct_size ends at radix_cache gets the
   * defaults below (AUTO, device 0, ...). */
  int32_t backend;                 /* STEMMA_BACKEND_* (default AUTO) */
  int32_t device;                  /* GPU index for CUDA and AUTO; default 0 */
  int64_t gpu_kv_memory_bytes;     /* CUDA: KV cache cap; 0: 90% of the GPU memory left after
                                    * the weights (kv_memory_bytes is the CPU's) */
  int32_t shared_prefix_attention; /* CUDA: 1 (default) reads a prefix cached for several
                                    * requests once per batch; 0: per request (the baseline) */
} stemma_engine_options;

/* Where the model runs. AUTO: the GPU when this library was built with CUDA and GPU `device`
 * answers, else the CPU; stemma_engine_model_info's "backend" says which runs and
 * "backend_note" why. CUDA on a library built without it fails with STEMMA_UNSUPPORTED, and
 * with STEMMA_FAILED_PRECONDITION when no GPU is usable; stemma_last_error() names the
 * backend. */
enum { STEMMA_BACKEND_AUTO = 0, STEMMA_BACKEND_CPU = 1, STEMMA_BACKEND_CUDA = 2 };

/* Fills defaults (struct_size included). */
STEMMA_API void stemma_engine_options_init(stemma_engine_options* options);
STEMMA_API stemma_status stemma_engine_open(const stemma_engine_options* options,
                                            stemma_engine** engine_out);
/* Cancels what is running, then frees. Programs, chats and agents using the engine must be
 * freed first. */
STEMMA_API void stemma_engine_free(stemma_engine* engine);

typedef struct stemma_engine_stats {
  size_t struct_size;
  int64_t cached_tokens;       /* prompt tokens served from the prefix cache */
  int64_t prefill_tokens;      /* prompt tokens computed */
  int64_t computed_tokens;     /* all tokens run through the model */
  int64_t generated_tokens;    /* tokens sampled by the model */
  int64_t jump_forward_tokens; /* tokens appended by constrained decoding without a model step */
  int64_t evicted_pages;
  int64_t preemptions;
  int64_t steps;
  int32_t pages_in_use;
  int32_t pages_total;
  int32_t cached_pages;
  int32_t running;
  int32_t queued;
} stemma_engine_stats;

/* Set stats->struct_size first (stemma_engine_stats_init does). */
STEMMA_API void stemma_engine_stats_init(stemma_engine_stats* stats);
STEMMA_API stemma_status stemma_engine_stats_get(const stemma_engine* engine,
                                                 stemma_engine_stats* stats);
/* {"architecture": ..., "vocab_size": ..., "context_length": ..., "backend": "cpu" | "cuda",
 * "backend_note": "" | "auto: ..." (why AUTO chose it), ...} */
STEMMA_API stemma_status stemma_engine_model_info(const stemma_engine* engine, char** json_out);

/* Text -> token ids. add_special: 1 adds BOS/EOS as the model says; special tokens written in
 * the text (e.g. "<|im_start|>") are recognised. */
STEMMA_API stemma_status stemma_tokenize(const stemma_engine* engine, const char* text,
                                         int32_t add_special, int32_t** tokens_out,
                                         size_t* count_out);
STEMMA_API stemma_status stemma_detokenize(const stemma_engine* engine, const int32_t* tokens,
                                           size_t count, char** text_out);
/* Renders the model's chat template. messages_json: [{"role": "...", "content": "..."}, ...];
 * tools_json: NULL or a JSON array of tool definitions (passed to the template as `tools`). */
STEMMA_API stemma_status stemma_chat_format(const stemma_engine* engine, const char* messages_json,
                                            const char* tools_json, int32_t add_generation_prompt,
                                            char** text_out);

/* ---------------------------------------------------------------------------------------------
 * Generation options and streaming
 * ------------------------------------------------------------------------------------------- */

typedef struct stemma_gen_options {
  size_t struct_size;
  int32_t max_tokens; /* default 128 */
  float temperature;  /* <= 0: greedy; default 0 */
  int32_t top_k;      /* 0: off */
  float top_p;        /* 1: off */
  float min_p;        /* 0: off */
  uint64_t seed;
  float repetition_penalty;  /* 1: off */
  const char* const* stop;   /* stop strings (the reply ends before the first one) */
  size_t num_stop;
  const char* regex;       /* NULL, or the output must match this regex */
  const char* json_schema; /* NULL, or the output must be JSON valid under this schema */
  int32_t jump_forward;    /* with regex/json_schema: 1 appends forced text without model steps
                              (default), 0 samples every token */
} stemma_gen_options;

STEMMA_API void stemma_gen_options_init(stemma_gen_options* options);

/* Receives generated text as it is produced: valid UTF-8 pieces, never half a character.
 * Runs on a Stemma thread; must not block and must not call into Stemma. Return 0 to go on,
 * nonzero to cancel the generation (the call then returns STEMMA_CANCELLED with the text so
 * far). */
typedef int32_t (*stemma_stream_fn)(void* user_data, const char* piece, size_t length);

typedef int32_t stemma_finish_reason;
enum {
  STEMMA_FINISH_NONE = 0,
  STEMMA_FINISH_STOP = 1,      /* EOS, a stop token, a stop string, or the constraint completed */
  STEMMA_FINISH_LENGTH = 2,    /* max_tokens */
  STEMMA_FINISH_CANCELLED = 3,
  STEMMA_FINISH_ERROR = 4
};

/* Generates a continuation of `prompt` (plain text, tokenized with BOS as the model says).
 * Blocks until done. options may be NULL (defaults). stream may be NULL. finish_out may be NULL.
 * Many threads may call this on one engine at once: their requests are batched together. */
STEMMA_API stemma_status stemma_generate(stemma_engine* engine, const char* prompt,
                                         const stemma_gen_options* options,
                                         stemma_stream_fn stream, void* user_data,
                                         char** text_out, stemma_finish_reason* finish_out);

/* ---------------------------------------------------------------------------------------------
 * Programs (SGLang-style frontend): a state of text, role blocks, gen/select, fork/join
 *
 * Operations on one state run in the order they were called, asynchronously: gen and select
 * return once queued; stemma_program_get, stemma_program_text and stemma_program_wait block until
 * what they need is done. Different states (e.g. forks) run concurrently on the engine, and a
 * fork's shared prefix is computed once (radix cache).
 * ------------------------------------------------------------------------------------------- */

typedef struct stemma_program stemma_program;

STEMMA_API stemma_status stemma_program_new(stemma_engine* engine, stemma_program** program_out);
/* Waits for the state's queued operations, then frees it. */
STEMMA_API void stemma_program_free(stemma_program* program);

/* Appends plain text. */
STEMMA_API stemma_status stemma_program_append(stemma_program* program, const char* text);
/* A whole message in the model's chat template: role is "system", "user" or "assistant". */
STEMMA_API stemma_status stemma_program_message(stemma_program* program, const char* role,
                                                const char* content);
/* Opens / closes a role block, for a message whose content is generated (begin "assistant",
 * gen, end). */
STEMMA_API stemma_status stemma_program_role_begin(stemma_program* program, const char* role);
STEMMA_API stemma_status stemma_program_role_end(stemma_program* program);
/* Generates into variable `name` (appended to the state's text too). stream may be NULL; it is
 * called on a Stemma thread. */
STEMMA_API stemma_status stemma_program_gen(stemma_program* program, const char* name,
                                            const stemma_gen_options* options,
                                            stemma_stream_fn stream, void* user_data);
/* Chooses the most likely of `choices` (by the model's token log-probabilities) into `name`. */
STEMMA_API stemma_status stemma_program_select(stemma_program* program, const char* name,
                                               const char* const* choices, size_t num_choices);
/* Waits, then returns the value of variable `name` (STEMMA_NOT_FOUND if never set). */
STEMMA_API stemma_status stemma_program_get(stemma_program* program, const char* name,
                                            char** value_out);
/* Waits, then returns the whole text of the state. */
STEMMA_API stemma_status stemma_program_text(stemma_program* program, char** text_out);
/* Waits for the queued operations; returns the first error among them (and clears it). */
STEMMA_API stemma_status stemma_program_wait(stemma_program* program);
/* Waits, then makes `count` new states that start as copies of this one (sharing its prefix in
 * the KV cache). forks_out must have room for `count` handles; each is freed on its own. */
STEMMA_API stemma_status stemma_program_fork(stemma_program* program, size_t count,
                                             stemma_program** forks_out);
/* Waits for all `count` states (e.g. forks); returns the first error. */
STEMMA_API stemma_status stemma_program_join(stemma_program* const* programs, size_t count);

/* Runs fn(user_data, index, program) for index 0..count-1 on `parallelism` threads (0: count),
 * each with a fresh state on `engine`, and waits for all. The states are freed after fn returns.
 * fn runs on a Stemma thread and may call any stemma_program_* function on its state. Returns
 * the first nonzero status fn returned (or an error of the states). */
typedef stemma_status (*stemma_program_fn)(void* user_data, size_t index,
                                           stemma_program* program);
STEMMA_API stemma_status stemma_program_run_batch(stemma_engine* engine, size_t count,
                                                  size_t parallelism, stemma_program_fn fn,
                                                  void* user_data);

/* ---------------------------------------------------------------------------------------------
 * Chat: multi-turn sessions persisted in SQLite, resumed across restarts
 * ------------------------------------------------------------------------------------------- */

typedef struct stemma_chat_store stemma_chat_store;
typedef struct stemma_chat stemma_chat;

/* Opens (creating if missing) a chat store file; ":memory:" for a private in-memory store. */
STEMMA_API stemma_status stemma_chat_store_open(const char* path, stemma_chat_store** store_out);
STEMMA_API void stemma_chat_store_free(stemma_chat_store* store);

/* A new session on `engine`, persisted in `store` (NULL: not persisted). system_prompt may be
 * NULL. */
STEMMA_API stemma_status stemma_chat_new(stemma_engine* engine, stemma_chat_store* store,
                                         const char* system_prompt, stemma_chat** chat_out);
/* Resumes session `session_id` from `store`. */
STEMMA_API stemma_status stemma_chat_resume(stemma_engine* engine, stemma_chat_store* store,
                                            int64_t session_id, stemma_chat** chat_out);
STEMMA_API void stemma_chat_free(stemma_chat* chat);
/* The session's id in its store (STEMMA_FAILED_PRECONDITION when not persisted). */
STEMMA_API stemma_status stemma_chat_id(const stemma_chat* chat, int64_t* session_id_out);
/* Adds the user's message, generates the assistant's reply (stored once complete), returns it. */
STEMMA_API stemma_status stemma_chat_send(stemma_chat* chat, const char* user_message,
                                          const stemma_gen_options* options,
                                          stemma_stream_fn stream, void* user_data,
                                          char** reply_out);
/* [{"role": "...", "content": "..."}, ...]: every turn as stored (a user turn that got no
 * reply, cancelled or cut by a crash, is listed; later prompts leave it out). */
STEMMA_API stemma_status stemma_chat_history(const stemma_chat* chat, char** messages_json_out);

/* What stemma_chat_send does when the conversation no longer fits the model's context:
 * DROP_OLDEST (the default) leaves the oldest turns after the system prompt out of the prompt
 * (the store keeps them), down to half the context; REFUSE returns STEMMA_OUT_OF_RANGE. */
enum { STEMMA_HISTORY_DROP_OLDEST = 0, STEMMA_HISTORY_REFUSE = 1 };
STEMMA_API stemma_status stemma_chat_set_history_policy(stemma_chat* chat, int32_t policy);

/* ---------------------------------------------------------------------------------------------
 * RAG: a document store (SQLite FTS5, BM25) and answers grounded in it
 * ------------------------------------------------------------------------------------------- */

typedef struct stemma_rag stemma_rag;

enum { STEMMA_DOC_TEXT = 0, STEMMA_DOC_MARKDOWN = 1 };

/* Opens (creating if missing) a document store; ":memory:" for a private in-memory store. */
STEMMA_API stemma_status stemma_rag_open(const char* path, stemma_rag** rag_out);
STEMMA_API void stemma_rag_free(stemma_rag* rag);
/* Adds (or replaces) a document, chunked; chunks_out (may be NULL) gets the chunk count. */
STEMMA_API stemma_status stemma_rag_add_document(stemma_rag* rag, const char* id,
                                                 const char* title, const char* text,
                                                 int32_t format, int64_t* chunks_out);
/* Adds FAQ entries: [{"id": ..., "question": ..., "answer": ..., ...}, ...]. */
STEMMA_API stemma_status stemma_rag_add_faq(stemma_rag* rag, const char* entries_json,
                                            int64_t* count_out);
/* [{"doc_id", "chunk_index", "title", "heading", "text", "kind", "score"}, ...], best first. */
STEMMA_API stemma_status stemma_rag_search(stemma_rag* rag, const char* query, size_t top_k,
                                           char** hits_json_out);
/* Retrieves for `question`, builds the prompt (stable parts first, so prefixes are shared) and
 * generates the answer. sources_json_out (may be NULL) gets the cited ids as a JSON array. */
STEMMA_API stemma_status stemma_rag_answer(stemma_rag* rag, stemma_engine* engine,
                                           const char* question, size_t top_k,
                                           const stemma_gen_options* options,
                                           stemma_stream_fn stream, void* user_data,
                                           char** answer_out, char** sources_json_out);

/* ---------------------------------------------------------------------------------------------
 * Agents: tools with JSON-Schema arguments; the model's tool calls are generated under the
 * schema, so they always parse
 * ------------------------------------------------------------------------------------------- */

typedef struct stemma_agent stemma_agent;
typedef struct stemma_tool_result stemma_tool_result;

typedef struct stemma_agent_options {
  size_t struct_size;
  const char* system_prompt; /* NULL: a generic one that lists the tools */
  int32_t max_steps;         /* model turns at most (tool calls + final answer); default 8 */
  int32_t max_tokens;        /* per model turn; default 256 */
  float temperature;         /* default 0 */
  uint64_t seed;
  const char* answer_schema; /* NULL: the final answer is free text; else JSON under it */
  int32_t tool_choice;       /* STEMMA_TOOL_CHOICE_* (default AUTO) */
} stemma_agent_options;

enum {
  STEMMA_TOOL_CHOICE_AUTO = 0,     /* each turn: a tool call or the final answer */
  STEMMA_TOOL_CHOICE_REQUIRED = 1, /* every turn calls a tool (the run ends at max_steps) */
  STEMMA_TOOL_CHOICE_NONE = 2      /* the first turn is the final answer */
};

STEMMA_API void stemma_agent_options_init(stemma_agent_options* options);
STEMMA_API stemma_status stemma_agent_new(stemma_engine* engine, const stemma_agent_options* options,
                                          stemma_agent** agent_out);
STEMMA_API void stemma_agent_free(stemma_agent* agent);

/* A tool: called with the arguments as JSON text (valid under the tool's schema). It reports its
 * result with stemma_tool_result_set (text or JSON, given to the model as the tool message) and
 * returns STEMMA_OK; any other status ends the run with that status. Runs on the thread that
 * called stemma_agent_run. */
typedef stemma_status (*stemma_tool_fn)(void* user_data, const char* arguments_json,
                                        stemma_tool_result* result);
STEMMA_API stemma_status stemma_tool_result_set(stemma_tool_result* result, const char* text);
STEMMA_API stemma_status stemma_agent_add_tool(stemma_agent* agent, const char* name,
                                               const char* description,
                                               const char* parameters_schema_json,
                                               stemma_tool_fn fn, void* user_data);
/* Runs the loop for `task` until the model answers or max_steps is reached
 * (STEMMA_RESOURCE_EXHAUSTED). answer_out gets the final answer; trace_json_out (may be NULL)
 * gets [{"step", "kind": "tool_call"|"answer", "name", "arguments", "result", "text"}, ...]. */
STEMMA_API stemma_status stemma_agent_run(stemma_agent* agent, const char* task, char** answer_out,
                                          char** trace_json_out);

#ifdef __cplusplus
}  /* extern "C" */
#endif

#endif /* STEMMA_H_ */
