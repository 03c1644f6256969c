//! The engine: a loaded model, its KV cache (radix prefix cache) and worker thread.
use std::convert::TryFrom;
use std::path::Path;
use std::ptr::{self, NonNull};
use std::sync::Arc;

use crate::error::{check, Error, Result, Status};
use crate::json::{self, Value};
use crate::sys;
use crate::text::{cstring, init_struct, opt_cstring, opt_ptr, OwnedText};

/// Owns the C engine; freed once, when the last Engine clone and the last program, chat or
/// agent made from it are dropped (the C ABI wants those freed first).
pub(crate) struct EngineInner {
    raw: NonNull<sys::stemma_engine>,
}

// SAFETY: the C engine may be used from any thread at once (stemma.h: "Many threads may call
// this on one engine at once"); its own worker thread does the work.
unsafe impl Send for EngineInner {}
unsafe impl Sync for EngineInner {}

impl EngineInner {
    pub(crate) fn ptr(&self) -> *mut sys::stemma_engine {
        self.raw.as_ptr()
    }
}

impl Drop for EngineInner {
    fn drop(&mut self) {
        // SAFETY: raw came from stemma_engine_open and is freed only here.
        unsafe { sys::stemma_engine_free(self.raw.as_ptr()) }
    }
}

/// Options for [`Engine::open_with`]; `Default` gives the library's defaults.
#[derive(Clone, Debug)]
pub struct EngineOptions {
    /// Backend threads; 0: one per hardware thread.
    pub threads: u32,
    /// KV positions per page; 0: 16.
    pub page_size: u32,
    /// KV cache size in bytes; 0: 512 MiB.
    pub kv_memory_bytes: u64,
    /// Tokens per engine step; 0: 2048.
    pub max_batch_tokens: u32,
    /// Share the KV cache of common prefixes (default true; false is the baseline).
    pub radix_cache: bool,
    /// Where the model runs (default [`Backend::Auto`]); `model_info()["backend"]` says which.
    pub backend: Backend,
    /// GPU index for [`Backend::Cuda`] and [`Backend::Auto`]; default 0.
    pub device: u32,
    /// CUDA: KV cache cap in bytes; 0: 90% of the GPU memory left after the weights.
    pub gpu_kv_memory_bytes: u64,
    /// CUDA: read a prefix cached for several requests once per batch (default true; false is
    /// the baseline).
    pub shared_prefix_attention: bool,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            threads: 0,
            page_size: 0,
            kv_memory_bytes: 0,
            max_batch_tokens: 0,
            radix_cache: true,
            backend: Backend::Auto,
            device: 0,
            gpu_kv_memory_bytes: 0,
            shared_prefix_attention: true,
        }
    }
}

/// Where an engine runs its model.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Backend {
    /// The GPU when the library was built with CUDA and the GPU answers, else the CPU.
    #[default]
    Auto,
    Cpu,
    /// The GPU: opening fails with [`Status::Unsupported`] on a library built without CUDA and
    /// with [`Status::FailedPrecondition`] where no GPU is usable.
    Cuda,
}

impl Backend {
    fn code(self) -> i32 {
        match self {
            Backend::Auto => sys::STEMMA_BACKEND_AUTO,
            Backend::Cpu => sys::STEMMA_BACKEND_CPU,
            Backend::Cuda => sys::STEMMA_BACKEND_CUDA,
        }
    }
}

/// The engine's counters since it was opened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Prompt tokens served from the prefix cache.
    pub cached_tokens: i64,
    /// Prompt tokens computed.
    pub prefill_tokens: i64,
    /// All tokens run through the model.
    pub computed_tokens: i64,
    /// Tokens sampled by the model.
    pub generated_tokens: i64,
    /// Tokens appended by constrained decoding without a model step.
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

/// A chat message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub role: String,
    pub content: String,
}

impl Message {
    pub fn new(role: impl Into<String>, content: impl Into<String>) -> Message {
        Message { role: role.into(), content: content.into() }
    }

    pub(crate) fn list_to_json(messages: &[Message]) -> String {
        let items: Vec<String> = messages
            .iter()
            .map(|m| format!("{{\"role\":{},\"content\":{}}}", json::quote(&m.role), json::quote(&m.content)))
            .collect();
        format!("[{}]", items.join(","))
    }

    pub(crate) fn list_from_json(text: &str) -> Result<Vec<Message>> {
        let bad = |why: &str| Error::new(Status::Internal, format!("chat messages from the library: {}", why));
        let v = json::parse(text).map_err(|e| bad(&e.to_string()))?;
        let items = v.as_array().ok_or_else(|| bad("not an array"))?;
        items
            .iter()
            .map(|m| {
                let field = |k: &str| m.get(k).and_then(Value::as_str).map(str::to_string);
                Ok(Message {
                    role: field("role").ok_or_else(|| bad("a message without \"role\""))?,
                    content: field("content").ok_or_else(|| bad("a message without \"content\""))?,
                })
            })
            .collect()
    }
}

pub(crate) fn path_cstring(what: &str, path: &Path) -> Result<std::ffi::CString> {
    let s = path.to_str().ok_or_else(|| {
        Error::new(Status::InvalidArgument, format!("{} is not valid UTF-8: {}", what, path.display()))
    })?;
    cstring(what, s)
}

pub(crate) fn to_i32(what: &str, v: u64) -> Result<i32> {
    i32::try_from(v).map_err(|_| Error::new(Status::OutOfRange, format!("{} {} does not fit in 32 bits", what, v)))
}

/// A loaded model. Cheap to clone (clones share the engine); `Send + Sync`: concurrent
/// generations from many threads are batched together.
#[derive(Clone)]
pub struct Engine {
    pub(crate) inner: Arc<EngineInner>,
}

impl Engine {
    /// Loads a model (a .gguf file or a folder with config.json and *.safetensors) with default
    /// options.
    pub fn open(model_path: impl AsRef<Path>) -> Result<Engine> {
        Engine::open_with(model_path, &EngineOptions::default())
    }

    pub fn open_with(model_path: impl AsRef<Path>, options: &EngineOptions) -> Result<Engine> {
        let path = path_cstring("model path", model_path.as_ref())?;
        // SAFETY: a stemma.h struct that starts with struct_size.
        let mut o = unsafe { init_struct(sys::stemma_engine_options_init) };
        o.model_path = path.as_ptr();
        if options.threads != 0 {
            o.threads = to_i32("threads", options.threads.into())?;
        }
        if options.page_size != 0 {
            o.page_size = to_i32("page size", options.page_size.into())?;
        }
        if options.kv_memory_bytes != 0 {
            o.kv_memory_bytes = i64::try_from(options.kv_memory_bytes)
                .map_err(|_| Error::new(Status::OutOfRange, "kv_memory_bytes does not fit in 63 bits"))?;
        }
        if options.max_batch_tokens != 0 {
            o.max_batch_tokens = to_i32("max batch tokens", options.max_batch_tokens.into())?;
        }
        if !options.radix_cache {
            o.radix_cache = 0;
        }
        o.backend = options.backend.code();
        o.device = to_i32("device", options.device.into())?;
        o.gpu_kv_memory_bytes = i64::try_from(options.gpu_kv_memory_bytes)
            .map_err(|_| Error::new(Status::OutOfRange, "gpu_kv_memory_bytes does not fit in 63 bits"))?;
        o.shared_prefix_attention = i32::from(options.shared_prefix_attention);
        let mut raw = ptr::null_mut();
        // SAFETY: o and path outlive the call; raw receives an owned handle on success.
        check(unsafe { sys::stemma_engine_open(&o, &mut raw) })?;
        let raw = NonNull::new(raw)
            .ok_or_else(|| Error::new(Status::Internal, "stemma_engine_open returned OK but no engine"))?;
        Ok(Engine { inner: Arc::new(EngineInner { raw }) })
    }

    /// Drops this handle now (the same as letting it go out of scope); the C engine is freed
    /// once no clone, program, chat or agent uses it.
    pub fn close(self) {}

    pub(crate) fn ptr(&self) -> *mut sys::stemma_engine {
        self.inner.ptr()
    }

    pub fn stats(&self) -> Result<Stats> {
        // SAFETY: a stemma.h struct that starts with struct_size; get fills what fits in it.
        let mut s = unsafe { init_struct(sys::stemma_engine_stats_init) };
        check(unsafe { sys::stemma_engine_stats_get(self.ptr(), &mut s) })?;
        Ok(Stats {
            cached_tokens: s.cached_tokens,
            prefill_tokens: s.prefill_tokens,
            computed_tokens: s.computed_tokens,
            generated_tokens: s.generated_tokens,
            jump_forward_tokens: s.jump_forward_tokens,
            evicted_pages: s.evicted_pages,
            preemptions: s.preemptions,
            steps: s.steps,
            pages_in_use: s.pages_in_use,
            pages_total: s.pages_total,
            cached_pages: s.cached_pages,
            running: s.running,
            queued: s.queued,
        })
    }

    /// The model's description: {"architecture", "vocab_size", "context_length", ...}.
    pub fn model_info(&self) -> Result<Value> {
        let mut out = OwnedText::new();
        // SAFETY: out receives library-owned text that OwnedText frees.
        check(unsafe { sys::stemma_engine_model_info(self.ptr(), out.out()) })?;
        json::parse(&out.text())
            .map_err(|e| Error::new(Status::Internal, format!("model info from the library: {}", e)))
    }

    /// Text to token ids; `add_special` adds BOS/EOS as the model says. Special tokens written
    /// in the text (e.g. "<|im_start|>") are recognised.
    pub fn tokenize(&self, text: &str, add_special: bool) -> Result<Vec<i32>> {
        let text = cstring("text", text)?;
        let mut toks: *mut i32 = ptr::null_mut();
        let mut n = 0usize;
        // SAFETY: the library returns an array of n ids that we copy and free exactly once.
        unsafe {
            check(sys::stemma_tokenize(self.ptr(), text.as_ptr(), add_special as i32, &mut toks, &mut n))?;
            let out = if n == 0 || toks.is_null() { Vec::new() } else { std::slice::from_raw_parts(toks, n).to_vec() };
            sys::stemma_tokens_free(toks);
            Ok(out)
        }
    }

    pub fn detokenize(&self, tokens: &[i32]) -> Result<String> {
        let mut out = OwnedText::new();
        let p = if tokens.is_empty() { ptr::null() } else { tokens.as_ptr() };
        // SAFETY: tokens is valid for tokens.len() ids during the call.
        check(unsafe { sys::stemma_detokenize(self.ptr(), p, tokens.len(), out.out()) })?;
        Ok(out.text())
    }

    /// Renders messages with the model's chat template; `tools_json` is None or a JSON array of
    /// tool definitions.
    pub fn chat_format(
        &self,
        messages: &[Message],
        tools_json: Option<&str>,
        add_generation_prompt: bool,
    ) -> Result<String> {
        let msgs = cstring("messages", &Message::list_to_json(messages))?;
        let tools = opt_cstring("tools", tools_json)?;
        let mut out = OwnedText::new();
        // SAFETY: the strings outlive the call.
        check(unsafe {
            sys::stemma_chat_format(self.ptr(), msgs.as_ptr(), opt_ptr(&tools), add_generation_prompt as i32, out.out())
        })?;
        Ok(out.text())
    }
}

/// STEMMA_ABI_VERSION of the loaded library.
pub fn abi_version() -> u32 {
    // SAFETY: no arguments, no state.
    unsafe { sys::stemma_abi_version() }
}

/// The loaded library's version, e.g. "0.1.0".
pub fn version() -> String {
    // SAFETY: static storage.
    unsafe { std::ffi::CStr::from_ptr(sys::stemma_version()) }.to_string_lossy().into_owned()
}
