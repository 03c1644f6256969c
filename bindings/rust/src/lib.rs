//! Rust binding of Stemma, an embeddable LLM engine and agent SDK, over its C ABI
//! (`capi/stemma.h`, `libstemma.so`).
//!
//! - [`Engine`]: a loaded model; [`Engine::generate`] / [`Engine::generate_stream`], tokenizer,
//!   chat template, statistics.
//! - [`Program`]: SGLang-style states with gen/select/fork/join; [`Engine::run_batch`].
//! - [`Chat`] on a [`ChatStore`]: multi-turn sessions persisted in SQLite.
//! - [`Rag`]: a document store that answers grounded questions.
//! - [`Agent`]: a tool-calling loop with tools written as Rust closures.
//!
//! ```no_run
//! use stemma::{Engine, GenOptions};
//!
//! let engine = Engine::open("models/stemma-faq.gguf")?;
//! let gen = engine.generate_stream("Hello", &GenOptions::new().max_tokens(32), |piece| {
//!     print!("{}", piece);
//!     true // go on
//! })?;
//! println!("\n({:?})", gen.finish);
//! # Ok::<(), stemma::Error>(())
//! ```
//!
//! Every C handle is freed exactly once, by `Drop`. Programs, chats and agents keep their
//! engine alive (the C engine is freed after them, as the C ABI requires), so a handle can never
//! be used after it was freed:
//!
//! ```compile_fail,E0382
//! let engine = stemma::Engine::open("model.gguf").unwrap();
//! engine.close();
//! engine.stats(); // error[E0382]: use of moved value
//! ```
//!
//! Callbacks (streams, tools, batch functions) are `extern "C"` trampolines over boxed
//! closures; a panic in one is caught at the boundary and resumed on the calling thread.
//!
//! Linking: set `STEMMA_LIB_DIR` to the folder holding `libstemma.so` (docs/bindings.md).

mod agent;
mod chat;
mod engine;
mod error;
mod gen;
pub mod json;
mod program;
mod rag;
pub mod sys;
mod text;

pub use agent::{Agent, AgentOptions, AgentRun, ToolChoice, ToolError, TraceStep};
pub use chat::{Chat, ChatStore};
pub use engine::{abi_version, version, Backend, Engine, EngineOptions, Message, Stats};
pub use error::{Error, Result, Status};
pub use gen::{FinishReason, GenOptions, Generation};
pub use program::Program;
pub use rag::{Answer, DocFormat, FaqEntry, Hit, Rag};
