//! RAG: a document store (SQLite FTS5, BM25) and answers grounded in it.
use std::path::Path;
use std::ptr::{self, NonNull};

use crate::engine::{path_cstring, Engine};
use crate::error::{check, Error, Result, Status};
use crate::gen::{status_after_stream, stream_args, GenOptions, StreamCtx};
use crate::json::{self, Value};
use crate::sys;
use crate::text::{cstring, OwnedText};

/// How a document's text is chunked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DocFormat {
    Text,
    /// Chunked by headings.
    Markdown,
}

/// One FAQ entry for [`Rag::add_faq`]. `metadata` (e.g. "title", "tags") is stored with the
/// entry and comes back in search hits.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FaqEntry {
    pub id: String,
    pub question: String,
    pub answer: String,
    pub category: Option<String>,
    /// Keys other than id, question, answer and category.
    pub metadata: Vec<(String, Value)>,
}

impl FaqEntry {
    fn to_json(&self) -> String {
        let mut members: Vec<(String, Value)> = self
            .metadata
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "id" | "question" | "answer" | "category"))
            .cloned()
            .collect();
        members.push(("id".into(), Value::String(self.id.clone())));
        members.push(("question".into(), Value::String(self.question.clone())));
        members.push(("answer".into(), Value::String(self.answer.clone())));
        if let Some(c) = &self.category {
            members.push(("category".into(), Value::String(c.clone())));
        }
        Value::Object(members).to_string()
    }
}

/// One search result.
#[derive(Clone, Debug, PartialEq)]
pub struct Hit {
    pub doc_id: String,
    pub chunk_index: i64,
    pub title: String,
    pub heading: String,
    pub text: String,
    pub kind: String,
    pub score: f64,
    /// The entry's metadata (FAQ entries: the fields besides id, question, answer, category).
    pub metadata: Value,
}

/// An answer and the ids of the sources it cites.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub text: String,
    pub sources: Vec<String>,
}

fn from_library(what: &str, why: impl std::fmt::Display) -> Error {
    Error::new(Status::Internal, format!("{} from the library: {}", what, why))
}

/// A document store.
pub struct Rag {
    raw: NonNull<sys::stemma_rag>,
}

// SAFETY: used from one thread at a time (Rag is !Sync).
unsafe impl Send for Rag {}

impl Drop for Rag {
    fn drop(&mut self) {
        // SAFETY: owned, freed only here.
        unsafe { sys::stemma_rag_free(self.raw.as_ptr()) }
    }
}

impl Rag {
    /// Opens (creating if missing) a document store file.
    pub fn open(path: impl AsRef<Path>) -> Result<Rag> {
        Rag::open_raw(path_cstring("document store path", path.as_ref())?)
    }

    /// A private in-memory store.
    pub fn in_memory() -> Result<Rag> {
        Rag::open_raw(cstring("path", ":memory:")?)
    }

    fn open_raw(path: std::ffi::CString) -> Result<Rag> {
        let mut raw = ptr::null_mut();
        // SAFETY: raw receives an owned handle on success.
        check(unsafe { sys::stemma_rag_open(path.as_ptr(), &mut raw) })?;
        let raw =
            NonNull::new(raw).ok_or_else(|| Error::new(Status::Internal, "the library returned OK but no store"))?;
        Ok(Rag { raw })
    }

    /// Adds (or replaces) a document; returns its number of chunks.
    pub fn add_document(&mut self, id: &str, title: &str, text: &str, format: DocFormat) -> Result<i64> {
        let (id, title, text) = (cstring("id", id)?, cstring("title", title)?, cstring("text", text)?);
        let fmt = match format {
            DocFormat::Text => sys::STEMMA_DOC_TEXT,
            DocFormat::Markdown => sys::STEMMA_DOC_MARKDOWN,
        };
        let mut chunks = 0i64;
        // SAFETY: the strings outlive the call.
        check(unsafe {
            sys::stemma_rag_add_document(
                self.raw.as_ptr(),
                id.as_ptr(),
                title.as_ptr(),
                text.as_ptr(),
                fmt,
                &mut chunks,
            )
        })?;
        Ok(chunks)
    }

    /// Adds FAQ entries; returns how many were added.
    pub fn add_faq(&mut self, entries: &[FaqEntry]) -> Result<i64> {
        let items: Vec<String> = entries.iter().map(FaqEntry::to_json).collect();
        self.add_faq_json(&format!("[{}]", items.join(",")))
    }

    /// Adds FAQ entries given as a JSON array of {"id", "question", "answer", ...}.
    pub fn add_faq_json(&mut self, entries_json: &str) -> Result<i64> {
        let js = cstring("entries", entries_json)?;
        let mut n = 0i64;
        // SAFETY: js outlives the call.
        check(unsafe { sys::stemma_rag_add_faq(self.raw.as_ptr(), js.as_ptr(), &mut n) })?;
        Ok(n)
    }

    /// The `top_k` best chunks for `query`, best first.
    pub fn search(&self, query: &str, top_k: usize) -> Result<Vec<Hit>> {
        let q = cstring("query", query)?;
        let mut out = OwnedText::new();
        // SAFETY: out receives library-owned text.
        check(unsafe { sys::stemma_rag_search(self.raw.as_ptr(), q.as_ptr(), top_k, out.out()) })?;
        let v = json::parse(&out.text()).map_err(|e| from_library("search hits", e))?;
        let items = v.as_array().ok_or_else(|| from_library("search hits", "not an array"))?;
        items
            .iter()
            .map(|h| {
                let s = |k: &str| h.get(k).and_then(Value::as_str).unwrap_or("").to_string();
                Ok(Hit {
                    doc_id: h
                        .get("doc_id")
                        .and_then(Value::as_str)
                        .ok_or_else(|| from_library("search hit", "no doc_id"))?
                        .to_string(),
                    chunk_index: h.get("chunk_index").and_then(Value::as_i64).unwrap_or(0),
                    title: s("title"),
                    heading: s("heading"),
                    text: s("text"),
                    kind: s("kind"),
                    score: h.get("score").and_then(Value::as_f64).unwrap_or(0.0),
                    metadata: h.get("metadata").cloned().unwrap_or(Value::Null),
                })
            })
            .collect()
    }

    /// Retrieves `top_k` chunks for `question`, builds the prompt and generates the answer.
    pub fn answer(&self, engine: &Engine, question: &str, top_k: usize, options: &GenOptions) -> Result<Answer> {
        self.answer_impl(engine, question, top_k, options, None)
    }

    /// `answer` with the text streamed to `on_piece` (return false to stop).
    pub fn answer_stream<F>(
        &self,
        engine: &Engine,
        question: &str,
        top_k: usize,
        options: &GenOptions,
        mut on_piece: F,
    ) -> Result<Answer>
    where
        F: FnMut(&str) -> bool + Send,
    {
        let mut ctx = StreamCtx::new(Box::new(&mut on_piece));
        self.answer_impl(engine, question, top_k, options, Some(&mut ctx))
    }

    fn answer_impl(
        &self,
        engine: &Engine,
        question: &str,
        top_k: usize,
        options: &GenOptions,
        mut ctx: Option<&mut StreamCtx>,
    ) -> Result<Answer> {
        let q = cstring("question", question)?;
        let opts = options.to_c()?;
        let (stream, user_data) = stream_args(ctx.as_deref_mut());
        let mut text = OwnedText::new();
        let mut sources = OwnedText::new();
        // SAFETY: every pointer outlives the blocking call.
        let code = unsafe {
            sys::stemma_rag_answer(
                self.raw.as_ptr(),
                engine.ptr(),
                q.as_ptr(),
                top_k,
                &opts.raw,
                stream,
                user_data,
                text.out(),
                sources.out(),
            )
        };
        status_after_stream(code, ctx)?;
        let mut ids = Vec::new();
        if !sources.is_null() {
            let v = json::parse(&sources.text()).map_err(|e| from_library("answer sources", e))?;
            for s in v.as_array().ok_or_else(|| from_library("answer sources", "not an array"))? {
                ids.push(
                    s.as_str().ok_or_else(|| from_library("answer sources", "an id that is not a string"))?.to_string(),
                );
            }
        }
        Ok(Answer { text: text.text(), sources: ids })
    }
}
