//! Raw declarations of capi/stemma.h. Everything here is `unsafe` to call; the rest of the crate
//! wraps it. Kept public for callers that need a function the safe API does not cover.
#![allow(non_camel_case_types)]

use std::os::raw::{c_char, c_float, c_void};

pub type stemma_status = i32;
pub const STEMMA_OK: stemma_status = 0;
pub const STEMMA_INVALID_ARGUMENT: stemma_status = 1;
pub const STEMMA_NOT_FOUND: stemma_status = 2;
pub const STEMMA_OUT_OF_RANGE: stemma_status = 3;
pub const STEMMA_CORRUPT_DATA: stemma_status = 4;
pub const STEMMA_UNSUPPORTED: stemma_status = 5;
pub const STEMMA_IO_ERROR: stemma_status = 6;
pub const STEMMA_RESOURCE_EXHAUSTED: stemma_status = 7;
pub const STEMMA_CANCELLED: stemma_status = 8;
pub const STEMMA_FAILED_PRECONDITION: stemma_status = 9;
pub const STEMMA_INTERNAL: stemma_status = 10;

pub const STEMMA_ABI_VERSION: u32 = 1;

pub type stemma_finish_reason = i32;
pub const STEMMA_FINISH_NONE: stemma_finish_reason = 0;
pub const STEMMA_FINISH_STOP: stemma_finish_reason = 1;
pub const STEMMA_FINISH_LENGTH: stemma_finish_reason = 2;
pub const STEMMA_FINISH_CANCELLED: stemma_finish_reason = 3;
pub const STEMMA_FINISH_ERROR: stemma_finish_reason = 4;

pub const STEMMA_DOC_TEXT: i32 = 0;
pub const STEMMA_DOC_MARKDOWN: i32 = 1;

macro_rules! opaque {
    ($($name:ident),*) => {$(
        #[repr(C)]
        pub struct $name {
            _private: [u8; 0],
        }
    )*};
}
opaque!(stemma_engine, stemma_program, stemma_chat_store, stemma_chat, stemma_rag, stemma_agent, stemma_tool_result);

#[repr(C)]
#[derive(Clone, Copy)]
pub struct stemma_engine_options {
    pub struct_size: usize,
    pub model_path: *const c_char,
    pub threads: i32,
    pub page_size: i32,
    pub kv_memory_bytes: i64,
    pub max_batch_tokens: i32,
    pub radix_cache: i32,
    // Appended in the struct's second version.
    pub backend: i32,
    pub device: i32,
    pub gpu_kv_memory_bytes: i64,
    pub shared_prefix_attention: i32,
}

pub const STEMMA_BACKEND_AUTO: i32 = 0;
pub const STEMMA_BACKEND_CPU: i32 = 1;
pub const STEMMA_BACKEND_CUDA: i32 = 2;

#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct stemma_engine_stats {
    pub struct_size: usize,
    pub cached_tokens: i64,
    pub prefill_tokens: i64,
    pub computed_tokens: i64,
    pub generated_tokens: i64,
    pub jump_forward_tokens: i64,
    pub evicted_pages: i64,
    pub preemptions: i64,
    pub steps: i64,
    pub pages_in_use: i32,
    pub pages_total: i32,
    pub cached_pages: i32,
    pub running: i32,
    pub queued: i32,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct stemma_gen_options {
    pub struct_size: usize,
    pub max_tokens: i32,
    pub temperature: c_float,
    pub top_k: i32,
    pub top_p: c_float,
    pub min_p: c_float,
    pub seed: u64,
    pub repetition_penalty: c_float,
    pub stop: *const *const c_char,
    pub num_stop: usize,
    pub regex: *const c_char,
    pub json_schema: *const c_char,
    pub jump_forward: i32,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct stemma_agent_options {
    pub struct_size: usize,
    pub system_prompt: *const c_char,
    pub max_steps: i32,
    pub max_tokens: i32,
    pub temperature: c_float,
    pub seed: u64,
    pub answer_schema: *const c_char,
    pub tool_choice: i32,
}

pub type stemma_stream_fn =
    Option<unsafe extern "C" fn(user_data: *mut c_void, piece: *const c_char, length: usize) -> i32>;
pub type stemma_program_fn =
    Option<unsafe extern "C" fn(user_data: *mut c_void, index: usize, program: *mut stemma_program) -> stemma_status>;
pub type stemma_tool_fn = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        arguments_json: *const c_char,
        result: *mut stemma_tool_result,
    ) -> stemma_status,
>;

extern "C" {
    pub fn stemma_abi_version() -> u32;
    pub fn stemma_version() -> *const c_char;
    pub fn stemma_status_name(status: stemma_status) -> *const c_char;
    pub fn stemma_last_error() -> *const c_char;
    pub fn stemma_string_free(text: *mut c_char);
    pub fn stemma_tokens_free(tokens: *mut i32);

    pub fn stemma_engine_options_init(options: *mut stemma_engine_options);
    pub fn stemma_engine_open(
        options: *const stemma_engine_options,
        engine_out: *mut *mut stemma_engine,
    ) -> stemma_status;
    pub fn stemma_engine_free(engine: *mut stemma_engine);
    pub fn stemma_engine_stats_init(stats: *mut stemma_engine_stats);
    pub fn stemma_engine_stats_get(engine: *const stemma_engine, stats: *mut stemma_engine_stats) -> stemma_status;
    pub fn stemma_engine_model_info(engine: *const stemma_engine, json_out: *mut *mut c_char) -> stemma_status;
    pub fn stemma_tokenize(
        engine: *const stemma_engine,
        text: *const c_char,
        add_special: i32,
        tokens_out: *mut *mut i32,
        count_out: *mut usize,
    ) -> stemma_status;
    pub fn stemma_detokenize(
        engine: *const stemma_engine,
        tokens: *const i32,
        count: usize,
        text_out: *mut *mut c_char,
    ) -> stemma_status;
    pub fn stemma_chat_format(
        engine: *const stemma_engine,
        messages_json: *const c_char,
        tools_json: *const c_char,
        add_generation_prompt: i32,
        text_out: *mut *mut c_char,
    ) -> stemma_status;

    pub fn stemma_gen_options_init(options: *mut stemma_gen_options);
    pub fn stemma_generate(
        engine: *mut stemma_engine,
        prompt: *const c_char,
        options: *const stemma_gen_options,
        stream: stemma_stream_fn,
        user_data: *mut c_void,
        text_out: *mut *mut c_char,
        finish_out: *mut stemma_finish_reason,
    ) -> stemma_status;

    pub fn stemma_program_new(engine: *mut stemma_engine, program_out: *mut *mut stemma_program) -> stemma_status;
    pub fn stemma_program_free(program: *mut stemma_program);
    pub fn stemma_program_append(program: *mut stemma_program, text: *const c_char) -> stemma_status;
    pub fn stemma_program_message(
        program: *mut stemma_program,
        role: *const c_char,
        content: *const c_char,
    ) -> stemma_status;
    pub fn stemma_program_role_begin(program: *mut stemma_program, role: *const c_char) -> stemma_status;
    pub fn stemma_program_role_end(program: *mut stemma_program) -> stemma_status;
    pub fn stemma_program_gen(
        program: *mut stemma_program,
        name: *const c_char,
        options: *const stemma_gen_options,
        stream: stemma_stream_fn,
        user_data: *mut c_void,
    ) -> stemma_status;
    pub fn stemma_program_select(
        program: *mut stemma_program,
        name: *const c_char,
        choices: *const *const c_char,
        num_choices: usize,
    ) -> stemma_status;
    pub fn stemma_program_get(
        program: *mut stemma_program,
        name: *const c_char,
        value_out: *mut *mut c_char,
    ) -> stemma_status;
    pub fn stemma_program_text(program: *mut stemma_program, text_out: *mut *mut c_char) -> stemma_status;
    pub fn stemma_program_wait(program: *mut stemma_program) -> stemma_status;
    pub fn stemma_program_fork(
        program: *mut stemma_program,
        count: usize,
        forks_out: *mut *mut stemma_program,
    ) -> stemma_status;
    pub fn stemma_program_join(programs: *const *mut stemma_program, count: usize) -> stemma_status;
    pub fn stemma_program_run_batch(
        engine: *mut stemma_engine,
        count: usize,
        parallelism: usize,
        fn_: stemma_program_fn,
        user_data: *mut c_void,
    ) -> stemma_status;

    pub fn stemma_chat_store_open(path: *const c_char, store_out: *mut *mut stemma_chat_store) -> stemma_status;
    pub fn stemma_chat_store_free(store: *mut stemma_chat_store);
    pub fn stemma_chat_new(
        engine: *mut stemma_engine,
        store: *mut stemma_chat_store,
        system_prompt: *const c_char,
        chat_out: *mut *mut stemma_chat,
    ) -> stemma_status;
    pub fn stemma_chat_resume(
        engine: *mut stemma_engine,
        store: *mut stemma_chat_store,
        session_id: i64,
        chat_out: *mut *mut stemma_chat,
    ) -> stemma_status;
    pub fn stemma_chat_free(chat: *mut stemma_chat);
    pub fn stemma_chat_id(chat: *const stemma_chat, session_id_out: *mut i64) -> stemma_status;
    pub fn stemma_chat_send(
        chat: *mut stemma_chat,
        user_message: *const c_char,
        options: *const stemma_gen_options,
        stream: stemma_stream_fn,
        user_data: *mut c_void,
        reply_out: *mut *mut c_char,
    ) -> stemma_status;
    pub fn stemma_chat_history(chat: *const stemma_chat, messages_json_out: *mut *mut c_char) -> stemma_status;

    pub fn stemma_rag_open(path: *const c_char, rag_out: *mut *mut stemma_rag) -> stemma_status;
    pub fn stemma_rag_free(rag: *mut stemma_rag);
    pub fn stemma_rag_add_document(
        rag: *mut stemma_rag,
        id: *const c_char,
        title: *const c_char,
        text: *const c_char,
        format: i32,
        chunks_out: *mut i64,
    ) -> stemma_status;
    pub fn stemma_rag_add_faq(rag: *mut stemma_rag, entries_json: *const c_char, count_out: *mut i64) -> stemma_status;
    pub fn stemma_rag_search(
        rag: *mut stemma_rag,
        query: *const c_char,
        top_k: usize,
        hits_json_out: *mut *mut c_char,
    ) -> stemma_status;
    pub fn stemma_rag_answer(
        rag: *mut stemma_rag,
        engine: *mut stemma_engine,
        question: *const c_char,
        top_k: usize,
        options: *const stemma_gen_options,
        stream: stemma_stream_fn,
        user_data: *mut c_void,
        answer_out: *mut *mut c_char,
        sources_json_out: *mut *mut c_char,
    ) -> stemma_status;

    pub fn stemma_agent_options_init(options: *mut stemma_agent_options);
    pub fn stemma_agent_new(
        engine: *mut stemma_engine,
        options: *const stemma_agent_options,
        agent_out: *mut *mut stemma_agent,
    ) -> stemma_status;
    pub fn stemma_agent_free(agent: *mut stemma_agent);
    pub fn stemma_tool_result_set(result: *mut stemma_tool_result, text: *const c_char) -> stemma_status;
    pub fn stemma_agent_add_tool(
        agent: *mut stemma_agent,
        name: *const c_char,
        description: *const c_char,
        parameters_schema_json: *const c_char,
        fn_: stemma_tool_fn,
        user_data: *mut c_void,
    ) -> stemma_status;
    pub fn stemma_agent_run(
        agent: *mut stemma_agent,
        task: *const c_char,
        answer_out: *mut *mut c_char,
        trace_json_out: *mut *mut c_char,
    ) -> stemma_status;
}
