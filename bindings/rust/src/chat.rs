//! Chat: multi-turn sessions persisted in SQLite, resumed across restarts.
use std::path::Path;
use std::ptr::{self, NonNull};
use std::sync::Arc;

use crate::engine::{path_cstring, Engine, EngineInner, Message};
use crate::error::{check, Error, Result, Status};
use crate::gen::{status_after_stream, stream_args, GenOptions, StreamCtx};
use crate::sys;
use crate::text::{cstring, opt_cstring, opt_ptr, OwnedText};

pub(crate) struct StoreInner {
    raw: NonNull<sys::stemma_chat_store>,
}

// SAFETY: the store is a SQLite connection the library guards; chats on several threads may
// share it.
unsafe impl Send for StoreInner {}
unsafe impl Sync for StoreInner {}

impl Drop for StoreInner {
    fn drop(&mut self) {
        // SAFETY: owned, freed only here, after every chat using it (they hold this Arc).
        unsafe { sys::stemma_chat_store_free(self.raw.as_ptr()) }
    }
}

/// A SQLite file of chat sessions. Cheap to clone; freed when the last clone and the last chat
/// using it are dropped.
#[derive(Clone)]
pub struct ChatStore {
    inner: Arc<StoreInner>,
}

impl ChatStore {
    /// Opens (creating if missing) a chat store file.
    pub fn open(path: impl AsRef<Path>) -> Result<ChatStore> {
        ChatStore::open_raw(path_cstring("chat store path", path.as_ref())?)
    }

    /// A private in-memory store.
    pub fn in_memory() -> Result<ChatStore> {
        ChatStore::open_raw(cstring("path", ":memory:")?)
    }

    fn open_raw(path: std::ffi::CString) -> Result<ChatStore> {
        let mut raw = ptr::null_mut();
        // SAFETY: raw receives an owned handle on success.
        check(unsafe { sys::stemma_chat_store_open(path.as_ptr(), &mut raw) })?;
        let raw = NonNull::new(raw)
            .ok_or_else(|| Error::new(Status::Internal, "the library returned OK but no chat store"))?;
        Ok(ChatStore { inner: Arc::new(StoreInner { raw }) })
    }
}

/// A multi-turn session on an engine.
pub struct Chat {
    raw: NonNull<sys::stemma_chat>,
    // Dropped after the chat (fields drop after Drop::drop): the C chat must go first.
    _engine: Arc<EngineInner>,
    _store: Option<Arc<StoreInner>>,
}

// SAFETY: one chat is used from one thread at a time (&mut self to send).
unsafe impl Send for Chat {}

impl Drop for Chat {
    fn drop(&mut self) {
        // SAFETY: owned, freed only here.
        unsafe { sys::stemma_chat_free(self.raw.as_ptr()) }
    }
}

impl Engine {
    /// Starts a session, persisted in `store` (None: not persisted).
    pub fn new_chat(&self, store: Option<&ChatStore>, system_prompt: Option<&str>) -> Result<Chat> {
        let sys_prompt = opt_cstring("system prompt", system_prompt)?;
        let store_ptr = store.map_or(ptr::null_mut(), |s| s.inner.raw.as_ptr());
        let mut raw = ptr::null_mut();
        // SAFETY: the handles and strings outlive the call.
        check(unsafe { sys::stemma_chat_new(self.ptr(), store_ptr, opt_ptr(&sys_prompt), &mut raw) })?;
        self.wrap_chat(raw, store)
    }

    /// Resumes session `session_id` from `store`.
    pub fn resume_chat(&self, store: &ChatStore, session_id: i64) -> Result<Chat> {
        let mut raw = ptr::null_mut();
        // SAFETY: as in new_chat.
        check(unsafe { sys::stemma_chat_resume(self.ptr(), store.inner.raw.as_ptr(), session_id, &mut raw) })?;
        self.wrap_chat(raw, Some(store))
    }

    fn wrap_chat(&self, raw: *mut sys::stemma_chat, store: Option<&ChatStore>) -> Result<Chat> {
        let raw =
            NonNull::new(raw).ok_or_else(|| Error::new(Status::Internal, "the library returned OK but no chat"))?;
        Ok(Chat { raw, _engine: self.inner.clone(), _store: store.map(|s| s.inner.clone()) })
    }
}

impl Chat {
    /// The session's id in its store (Status::FailedPrecondition when not persisted).
    pub fn id(&self) -> Result<i64> {
        let mut id = 0i64;
        // SAFETY: a valid handle.
        check(unsafe { sys::stemma_chat_id(self.raw.as_ptr(), &mut id) })?;
        Ok(id)
    }

    /// Adds the user's message, generates the reply (stored once complete) and returns it.
    pub fn send(&mut self, user_message: &str, options: &GenOptions) -> Result<String> {
        self.send_impl(user_message, options, None)
    }

    /// `send` with the reply streamed to `on_piece` (return false to stop).
    pub fn send_stream<F>(&mut self, user_message: &str, options: &GenOptions, mut on_piece: F) -> Result<String>
    where
        F: FnMut(&str) -> bool + Send,
    {
        let mut ctx = StreamCtx::new(Box::new(&mut on_piece));
        self.send_impl(user_message, options, Some(&mut ctx))
    }

    fn send_impl(
        &mut self,
        user_message: &str,
        options: &GenOptions,
        mut ctx: Option<&mut StreamCtx>,
    ) -> Result<String> {
        let msg = cstring("user message", user_message)?;
        let opts = options.to_c()?;
        let (stream, user_data) = stream_args(ctx.as_deref_mut());
        let mut out = OwnedText::new();
        // SAFETY: every pointer outlives the blocking call.
        let code =
            unsafe { sys::stemma_chat_send(self.raw.as_ptr(), msg.as_ptr(), &opts.raw, stream, user_data, out.out()) };
        status_after_stream(code, ctx)?;
        Ok(out.text())
    }

    /// The session's messages, oldest first.
    pub fn history(&self) -> Result<Vec<Message>> {
        let mut out = OwnedText::new();
        // SAFETY: out receives library-owned text.
        check(unsafe { sys::stemma_chat_history(self.raw.as_ptr(), out.out()) })?;
        Message::list_from_json(&out.text())
    }
}
