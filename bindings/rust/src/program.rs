//! Programs (SGLang-style frontend): a state of text, role blocks, gen/select, fork/join.
use std::any::Any;
use std::cell::RefCell;
use std::os::raw::c_void;
use std::panic::{self, AssertUnwindSafe};
use std::ptr::{self, NonNull};
use std::sync::{Arc, Mutex};

use crate::engine::{Engine, EngineInner};
use crate::error::{check, Error, Result, Status};
use crate::gen::{stream_trampoline, GenOptions, StreamCtx, StreamFn};
use crate::sys;
use crate::text::{cstring, CStrArray, OwnedText};

/// A stream callback whose gen may still be running: leaked to C, reclaimed once the program
/// has waited for it.
struct PendingStream(*mut StreamCtx<'static>);

// SAFETY: the StreamCtx's closure is Send; the pointer is only dereferenced by the C side while
// the gen runs and freed after it is done.
unsafe impl Send for PendingStream {}

impl PendingStream {
    /// Frees the callback; reports a panic it caught as an error.
    fn finish(self) -> Result<()> {
        // SAFETY: made by Box::into_raw, the gen that used it is done, freed only here.
        let mut ctx = unsafe { Box::from_raw(self.0) };
        match ctx.panic.take() {
            Some(p) => Err(Error::new(Status::Cancelled, format!("a stream callback panicked: {}", panic_text(&p)))),
            None => Ok(()),
        }
    }
}

fn panic_text(p: &Box<dyn Any + Send>) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "(not a string)".to_string()
    }
}

type Sink = Arc<Mutex<Vec<PendingStream>>>;

/// An SGLang-style program state. Operations run in the order they are called, asynchronously:
/// `gen` and `select` return once queued; `get`, `text` and `wait` block until what they need
/// is done. Different programs (e.g. forks) run concurrently and share their common prefix in
/// the KV cache. `Send`, not `Sync`: use one state from one thread at a time.
pub struct Program {
    raw: NonNull<sys::stemma_program>,
    engine: Arc<EngineInner>,
    pending: RefCell<Vec<PendingStream>>,
    /// Set on the states of `run_batch`, which the library owns and frees.
    batch_sink: Option<Sink>,
}

// SAFETY: a C program state may be used from any thread, one at a time (Program is !Sync).
unsafe impl Send for Program {}

impl Drop for Program {
    fn drop(&mut self) {
        match &self.batch_sink {
            // The library frees the state after the batch function returns; the callbacks are
            // kept until the whole batch is done.
            Some(sink) => sink.lock().unwrap_or_else(|e| e.into_inner()).extend(self.pending.get_mut().drain(..)),
            None => {
                // SAFETY: raw is owned and freed only here; free waits for the queued operations.
                unsafe { sys::stemma_program_free(self.raw.as_ptr()) };
                for p in self.pending.get_mut().drain(..) {
                    let _ = p.finish();
                }
            }
        }
    }
}

impl Engine {
    /// An empty program state on this engine.
    pub fn program(&self) -> Result<Program> {
        let mut raw = ptr::null_mut();
        // SAFETY: raw receives an owned handle on success.
        check(unsafe { sys::stemma_program_new(self.ptr(), &mut raw) })?;
        Program::owned(raw, self.inner.clone())
    }

    /// Runs `f(index, program)` for index 0..count on `parallelism` threads (0: count), each
    /// with a fresh state, and waits for all. A state lives only during its call. The first
    /// error `f` returns is returned; a panic in `f` resumes here.
    pub fn run_batch<F>(&self, count: usize, parallelism: usize, f: F) -> Result<()>
    where
        F: Fn(usize, &Program) -> Result<()> + Sync,
    {
        let ctx = BatchCtx {
            f: &f,
            engine: self.inner.clone(),
            sink: Arc::new(Mutex::new(Vec::new())),
            error: Mutex::new(None),
            panic: Mutex::new(None),
        };
        // SAFETY: ctx outlives the blocking call.
        let code = unsafe {
            sys::stemma_program_run_batch(
                self.ptr(),
                count,
                parallelism,
                Some(batch_trampoline),
                &ctx as *const BatchCtx as *mut c_void,
            )
        };
        let pending: Vec<PendingStream> = ctx.sink.lock().unwrap_or_else(|e| e.into_inner()).drain(..).collect();
        let mut stream_err = Ok(());
        for p in pending {
            if let Err(e) = p.finish() {
                stream_err = Err(e);
            }
        }
        if let Some(p) = ctx.panic.into_inner().unwrap_or_else(|e| e.into_inner()) {
            panic::resume_unwind(p);
        }
        if let Some(e) = ctx.error.into_inner().unwrap_or_else(|e| e.into_inner()) {
            return Err(e);
        }
        check(code)?;
        stream_err
    }
}

struct BatchCtx<'a> {
    f: &'a (dyn Fn(usize, &Program) -> Result<()> + Sync + 'a),
    engine: Arc<EngineInner>,
    sink: Sink,
    error: Mutex<Option<Error>>,
    panic: Mutex<Option<Box<dyn Any + Send>>>,
}

unsafe extern "C" fn batch_trampoline(
    user_data: *mut c_void,
    index: usize,
    program: *mut sys::stemma_program,
) -> sys::stemma_status {
    // SAFETY: user_data is the BatchCtx of run_batch, alive during the call; it is only read
    // here (the Mutexes guard what is written).
    let ctx = &*(user_data as *const BatchCtx);
    let raw = match NonNull::new(program) {
        Some(r) => r,
        None => return sys::STEMMA_INTERNAL,
    };
    // Handed out as &Program: a shared reference cannot be swapped out of the call, so the
    // borrowed state cannot outlive it.
    let prog = Program {
        raw,
        engine: ctx.engine.clone(),
        pending: RefCell::new(Vec::new()),
        batch_sink: Some(ctx.sink.clone()),
    };
    let result = panic::catch_unwind(AssertUnwindSafe(|| (ctx.f)(index, &prog)));
    drop(prog);
    match result {
        Ok(Ok(())) => sys::STEMMA_OK,
        Ok(Err(e)) => {
            let code = e.status().code();
            let mut slot = ctx.error.lock().unwrap_or_else(|e| e.into_inner());
            if slot.is_none() {
                *slot = Some(e);
            }
            code
        }
        Err(p) => {
            let mut slot = ctx.panic.lock().unwrap_or_else(|e| e.into_inner());
            if slot.is_none() {
                *slot = Some(p);
            }
            sys::STEMMA_CANCELLED
        }
    }
}

impl Program {
    fn owned(raw: *mut sys::stemma_program, engine: Arc<EngineInner>) -> Result<Program> {
        let raw =
            NonNull::new(raw).ok_or_else(|| Error::new(Status::Internal, "the library returned OK but no program"))?;
        Ok(Program { raw, engine, pending: RefCell::new(Vec::new()), batch_sink: None })
    }

    fn ptr(&self) -> *mut sys::stemma_program {
        self.raw.as_ptr()
    }

    /// Appends plain text.
    pub fn append(&self, text: &str) -> Result<()> {
        let text = cstring("text", text)?;
        // SAFETY: text outlives the call (the library copies what it queues).
        check(unsafe { sys::stemma_program_append(self.ptr(), text.as_ptr()) })
    }

    /// A whole message in the model's chat template; role is "system", "user" or "assistant".
    pub fn message(&self, role: &str, content: &str) -> Result<()> {
        let role = cstring("role", role)?;
        let content = cstring("content", content)?;
        // SAFETY: as in append.
        check(unsafe { sys::stemma_program_message(self.ptr(), role.as_ptr(), content.as_ptr()) })
    }

    /// Opens a role block whose content is generated (role_begin("assistant"), gen, role_end).
    pub fn role_begin(&self, role: &str) -> Result<()> {
        let role = cstring("role", role)?;
        // SAFETY: as in append.
        check(unsafe { sys::stemma_program_role_begin(self.ptr(), role.as_ptr()) })
    }

    pub fn role_end(&self) -> Result<()> {
        // SAFETY: a valid handle.
        check(unsafe { sys::stemma_program_role_end(self.ptr()) })
    }

    /// Queues a generation into variable `name` (appended to the state's text too).
    pub fn gen(&self, name: &str, options: &GenOptions) -> Result<()> {
        self.gen_impl(name, options, None)
    }

    /// `gen` with `on_piece` called on a Stemma thread as text is produced (after `gen_stream`
    /// has returned, hence `'static`). Return false to cancel that gen.
    pub fn gen_stream<F>(&self, name: &str, options: &GenOptions, on_piece: F) -> Result<()>
    where
        F: FnMut(&str) -> bool + Send + 'static,
    {
        self.gen_impl(name, options, Some(Box::new(on_piece)))
    }

    fn gen_impl(&self, name: &str, options: &GenOptions, on_piece: Option<StreamFn<'static>>) -> Result<()> {
        let name = cstring("name", name)?;
        let opts = options.to_c()?;
        let ctx = on_piece.map(|f| Box::into_raw(Box::new(StreamCtx::new(f))));
        let (stream, user_data): (sys::stemma_stream_fn, *mut c_void) = match ctx {
            Some(c) => (Some(stream_trampoline), c as *mut c_void),
            None => (None, ptr::null_mut()),
        };
        // SAFETY: name and opts outlive the call; the stream context lives until the gen is done.
        let code = unsafe { sys::stemma_program_gen(self.ptr(), name.as_ptr(), &opts.raw, stream, user_data) };
        if let Some(c) = ctx {
            // Kept even when queueing failed: the C side may not say whether it kept the callback.
            self.pending.borrow_mut().push(PendingStream(c));
        }
        check(code)
    }

    /// Queues choosing the most likely of `choices` (by token log-probabilities) into `name`.
    pub fn select<S: AsRef<str>>(&self, name: &str, choices: &[S]) -> Result<()> {
        let name = cstring("name", name)?;
        let choices = CStrArray::new("choices", choices)?;
        // SAFETY: the strings outlive the call.
        check(unsafe { sys::stemma_program_select(self.ptr(), name.as_ptr(), choices.as_ptr(), choices.len()) })
    }

    /// Waits, then returns variable `name` (Status::NotFound if it was never set).
    pub fn get(&self, name: &str) -> Result<String> {
        let name = cstring("name", name)?;
        let mut out = OwnedText::new();
        // SAFETY: out receives library-owned text.
        check(unsafe { sys::stemma_program_get(self.ptr(), name.as_ptr(), out.out()) })?;
        Ok(out.text())
    }

    /// Waits, then returns the whole text of the state.
    pub fn text(&self) -> Result<String> {
        let mut out = OwnedText::new();
        // SAFETY: as in get.
        check(unsafe { sys::stemma_program_text(self.ptr(), out.out()) })?;
        Ok(out.text())
    }

    /// The callbacks queued so far; the caller frees them after the C side has waited.
    fn take_pending(&self) -> Vec<PendingStream> {
        std::mem::take(&mut *self.pending.borrow_mut())
    }

    fn finish_pending(&self, pending: Vec<PendingStream>) -> Result<()> {
        match &self.batch_sink {
            Some(sink) => {
                sink.lock().unwrap_or_else(|e| e.into_inner()).extend(pending);
                Ok(())
            }
            None => {
                let mut result = Ok(());
                for p in pending {
                    if let Err(e) = p.finish() {
                        result = Err(e);
                    }
                }
                result
            }
        }
    }

    /// Waits for the queued operations and returns the first error among them.
    pub fn wait(&self) -> Result<()> {
        let pending = self.take_pending();
        // SAFETY: a valid handle.
        let code = unsafe { sys::stemma_program_wait(self.ptr()) };
        let streams = self.finish_pending(pending);
        check(code)?;
        streams
    }

    /// Waits, then makes `count` states that start as copies of this one, sharing its prefix in
    /// the KV cache.
    pub fn fork(&self, count: usize) -> Result<Vec<Program>> {
        if count == 0 {
            return Err(Error::new(Status::InvalidArgument, "fork count must be positive"));
        }
        let pending = self.take_pending();
        let mut raws: Vec<*mut sys::stemma_program> = vec![ptr::null_mut(); count];
        // SAFETY: raws has room for count handles.
        let code = unsafe { sys::stemma_program_fork(self.ptr(), count, raws.as_mut_ptr()) };
        let streams = self.finish_pending(pending);
        check(code)?;
        let forks = raws.into_iter().map(|r| Program::owned(r, self.engine.clone())).collect::<Result<Vec<_>>>()?;
        streams.map(|_| forks)
    }

    /// Waits for all `programs` (e.g. forks); returns the first error.
    pub fn join(programs: &[Program]) -> Result<()> {
        let raws: Vec<*mut sys::stemma_program> = programs.iter().map(|p| p.ptr()).collect();
        let pending: Vec<Vec<PendingStream>> = programs.iter().map(|p| p.take_pending()).collect();
        // SAFETY: raws holds valid handles borrowed for the call.
        let code = unsafe { sys::stemma_program_join(raws.as_ptr(), raws.len()) };
        let mut streams = Ok(());
        for (p, pend) in programs.iter().zip(pending) {
            if let Err(e) = p.finish_pending(pend) {
                streams = Err(e);
            }
        }
        check(code)?;
        streams
    }
}
