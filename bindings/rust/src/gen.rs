//! Generation options, results and the streaming trampoline.
use std::any::Any;
use std::ffi::CString;
use std::os::raw::{c_char, c_void};
use std::panic::{self, AssertUnwindSafe};
use std::ptr;

use crate::engine::{to_i32, Engine};
use crate::error::{Error, Result, Status};
use crate::sys;
use crate::text::{cstring, init_struct, opt_cstring, opt_ptr, CStrArray, OwnedText};

/// Sampling and constraints; `Default` (all `None`) means the library's defaults: greedy, at
/// most 128 tokens, no stop strings, no constraint. Fields can be set directly or with the
/// builder methods of the same names.
#[derive(Clone, Debug, Default)]
pub struct GenOptions {
    pub max_tokens: Option<u32>,
    /// <= 0: greedy.
    pub temperature: Option<f32>,
    pub top_k: Option<u32>,
    pub top_p: Option<f32>,
    pub min_p: Option<f32>,
    pub seed: Option<u64>,
    pub repetition_penalty: Option<f32>,
    /// The reply ends before the first of these.
    pub stop: Vec<String>,
    /// The output must match this regex.
    pub regex: Option<String>,
    /// The output must be JSON valid under this schema.
    pub json_schema: Option<String>,
    /// With a constraint: append forced text without model steps (the library's default: true).
    pub jump_forward: Option<bool>,
}

impl GenOptions {
    pub fn new() -> GenOptions {
        GenOptions::default()
    }
    pub fn max_tokens(mut self, n: u32) -> Self {
        self.max_tokens = Some(n);
        self
    }
    pub fn temperature(mut self, t: f32) -> Self {
        self.temperature = Some(t);
        self
    }
    pub fn top_k(mut self, k: u32) -> Self {
        self.top_k = Some(k);
        self
    }
    pub fn top_p(mut self, p: f32) -> Self {
        self.top_p = Some(p);
        self
    }
    pub fn min_p(mut self, p: f32) -> Self {
        self.min_p = Some(p);
        self
    }
    pub fn seed(mut self, s: u64) -> Self {
        self.seed = Some(s);
        self
    }
    pub fn repetition_penalty(mut self, p: f32) -> Self {
        self.repetition_penalty = Some(p);
        self
    }
    pub fn stop(mut self, s: impl Into<String>) -> Self {
        self.stop.push(s.into());
        self
    }
    pub fn regex(mut self, r: impl Into<String>) -> Self {
        self.regex = Some(r.into());
        self
    }
    pub fn json_schema(mut self, s: impl Into<String>) -> Self {
        self.json_schema = Some(s.into());
        self
    }
    pub fn jump_forward(mut self, on: bool) -> Self {
        self.jump_forward = Some(on);
        self
    }

    pub(crate) fn to_c(&self) -> Result<CGenOptions> {
        // SAFETY: a stemma.h struct that starts with struct_size.
        let mut raw = unsafe { init_struct(sys::stemma_gen_options_init) };
        if let Some(n) = self.max_tokens {
            raw.max_tokens = to_i32("max_tokens", n.into())?;
        }
        if let Some(t) = self.temperature {
            raw.temperature = t;
        }
        if let Some(k) = self.top_k {
            raw.top_k = to_i32("top_k", k.into())?;
        }
        if let Some(p) = self.top_p {
            raw.top_p = p;
        }
        if let Some(p) = self.min_p {
            raw.min_p = p;
        }
        if let Some(s) = self.seed {
            raw.seed = s;
        }
        if let Some(p) = self.repetition_penalty {
            raw.repetition_penalty = p;
        }
        if let Some(j) = self.jump_forward {
            raw.jump_forward = j as i32;
        }
        let stop = CStrArray::new("stop", &self.stop)?;
        let regex = opt_cstring("regex", self.regex.as_deref())?;
        let schema = opt_cstring("json_schema", self.json_schema.as_deref())?;
        raw.stop = stop.as_ptr();
        raw.num_stop = stop.len();
        raw.regex = opt_ptr(&regex);
        raw.json_schema = opt_ptr(&schema);
        Ok(CGenOptions { raw, _stop: stop, _regex: regex, _schema: schema })
    }
}

/// A C copy of GenOptions; the pointers in `raw` point into the owned strings (heap memory, so
/// moving this struct keeps them valid).
pub(crate) struct CGenOptions {
    pub(crate) raw: sys::stemma_gen_options,
    _stop: CStrArray,
    _regex: Option<CString>,
    _schema: Option<CString>,
}

/// Why a generation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FinishReason {
    None,
    /// EOS, a stop token or string, or the constraint completed.
    Stop,
    /// max_tokens.
    Length,
    /// The stream callback asked to stop.
    Cancelled,
    Error,
    Other(i32),
}

impl FinishReason {
    pub(crate) fn from_code(code: i32) -> FinishReason {
        match code {
            sys::STEMMA_FINISH_NONE => FinishReason::None,
            sys::STEMMA_FINISH_STOP => FinishReason::Stop,
            sys::STEMMA_FINISH_LENGTH => FinishReason::Length,
            sys::STEMMA_FINISH_CANCELLED => FinishReason::Cancelled,
            sys::STEMMA_FINISH_ERROR => FinishReason::Error,
            other => FinishReason::Other(other),
        }
    }
}

/// A finished generation (or one the stream callback cancelled: `finish == Cancelled`, with
/// the text so far).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Generation {
    pub text: String,
    pub finish: FinishReason,
}

/// The state behind a stream callback's user_data. A panic cannot unwind through C: it is
/// caught, the generation is cancelled, and the panic resumes on the calling thread.
pub(crate) type StreamFn<'a> = Box<dyn FnMut(&str) -> bool + Send + 'a>;

pub(crate) struct StreamCtx<'a> {
    f: StreamFn<'a>,
    pub(crate) cancelled: bool,
    pub(crate) panic: Option<Box<dyn Any + Send + 'static>>,
}

impl<'a> StreamCtx<'a> {
    pub(crate) fn new(f: StreamFn<'a>) -> StreamCtx<'a> {
        StreamCtx { f, cancelled: false, panic: None }
    }

    /// Resumes a panic the callback raised.
    pub(crate) fn rethrow(&mut self) {
        if let Some(p) = self.panic.take() {
            panic::resume_unwind(p);
        }
    }
}

pub(crate) unsafe extern "C" fn stream_trampoline(user_data: *mut c_void, piece: *const c_char, length: usize) -> i32 {
    // SAFETY: user_data is the StreamCtx passed with this callback, alive until the C side is
    // done with it; the C side calls it from one thread at a time.
    let ctx = &mut *(user_data as *mut StreamCtx);
    if ctx.panic.is_some() || ctx.cancelled {
        return 1;
    }
    let bytes =
        if length == 0 || piece.is_null() { &[][..] } else { std::slice::from_raw_parts(piece as *const u8, length) };
    let text = String::from_utf8_lossy(bytes);
    let f = &mut ctx.f;
    match panic::catch_unwind(AssertUnwindSafe(|| f(&text))) {
        Ok(true) => 0,
        Ok(false) => {
            ctx.cancelled = true;
            1
        }
        Err(p) => {
            ctx.panic = Some(p);
            1
        }
    }
}

/// The callback pointer and user_data for an optional stream.
pub(crate) fn stream_args(ctx: Option<&mut StreamCtx>) -> (sys::stemma_stream_fn, *mut c_void) {
    match ctx {
        Some(c) => (Some(stream_trampoline), c as *mut StreamCtx as *mut c_void),
        None => (None, ptr::null_mut()),
    }
}

/// Maps a call's status when the caller's own stream callback cancelled it: that is the
/// outcome asked for, not an error.
pub(crate) fn status_after_stream(code: sys::stemma_status, ctx: Option<&mut StreamCtx>) -> Result<()> {
    if let Some(c) = ctx {
        c.rethrow();
        if code == sys::STEMMA_CANCELLED && c.cancelled {
            return Ok(());
        }
    }
    crate::error::check(code)
}

impl Engine {
    /// Continues `prompt` (plain text; BOS added as the model says) and blocks until done.
    pub fn generate(&self, prompt: &str, options: &GenOptions) -> Result<Generation> {
        self.generate_impl(prompt, options, None)
    }

    /// `generate`, calling `on_piece` with each piece of text as it is produced (whole UTF-8
    /// characters, on a Stemma thread). Return `true` to go on, `false` to stop: the result is
    /// then `Ok` with `finish == Cancelled` and the text so far.
    pub fn generate_stream<F>(&self, prompt: &str, options: &GenOptions, mut on_piece: F) -> Result<Generation>
    where
        F: FnMut(&str) -> bool + Send,
    {
        let mut ctx = StreamCtx::new(Box::new(&mut on_piece));
        self.generate_impl(prompt, options, Some(&mut ctx))
    }

    fn generate_impl(&self, prompt: &str, options: &GenOptions, mut ctx: Option<&mut StreamCtx>) -> Result<Generation> {
        let prompt = cstring("prompt", prompt)?;
        let opts = options.to_c()?;
        let (stream, user_data) = stream_args(ctx.as_deref_mut());
        let mut out = OwnedText::new();
        let mut finish = sys::STEMMA_FINISH_NONE;
        // SAFETY: every pointer outlives the blocking call; ctx outlives it too.
        let code = unsafe {
            sys::stemma_generate(self.ptr(), prompt.as_ptr(), &opts.raw, stream, user_data, out.out(), &mut finish)
        };
        status_after_stream(code, ctx)?;
        let mut finish = FinishReason::from_code(finish);
        if code == sys::STEMMA_CANCELLED {
            finish = FinishReason::Cancelled;
        }
        Ok(Generation { text: out.text(), finish })
    }
}

/// A tool or callback failure that is not a Stemma status.
pub(crate) fn host_error(what: String, e: Box<dyn std::error::Error + Send + Sync>) -> Error {
    Error::with_source(Status::Cancelled, format!("{}: {}", what, e), e)
}
