//! Errors: a status code of the C ABI plus the message stemma_last_error() gave for it.
use std::ffi::CStr;
use std::fmt;

use crate::sys;

/// The status codes of capi/stemma.h (except `OK`, which is never an error).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    /// A NULL handle or pointer, a bad struct_size, bad UTF-8, a NUL byte inside a Rust string.
    InvalidArgument,
    /// A file, session, variable or token does not exist.
    NotFound,
    /// An index or size past a limit (e.g. the context length).
    OutOfRange,
    /// A file contradicts its own format.
    CorruptData,
    /// Well-formed, but not implemented (named in the message).
    Unsupported,
    /// The OS refused a read, write, open or map.
    IoError,
    /// Out of KV pages or memory, a database is locked, or an agent ran out of steps.
    ResourceExhausted,
    /// The caller (or a callback) cancelled the work.
    Cancelled,
    /// A valid call in the wrong state.
    FailedPrecondition,
    /// A bug in Stemma.
    Internal,
    /// A code this crate does not know (a newer library).
    Other(i32),
}

impl Status {
    pub fn from_code(code: i32) -> Status {
        match code {
            sys::STEMMA_INVALID_ARGUMENT => Status::InvalidArgument,
            sys::STEMMA_NOT_FOUND => Status::NotFound,
            sys::STEMMA_OUT_OF_RANGE => Status::OutOfRange,
            sys::STEMMA_CORRUPT_DATA => Status::CorruptData,
            sys::STEMMA_UNSUPPORTED => Status::Unsupported,
            sys::STEMMA_IO_ERROR => Status::IoError,
            sys::STEMMA_RESOURCE_EXHAUSTED => Status::ResourceExhausted,
            sys::STEMMA_CANCELLED => Status::Cancelled,
            sys::STEMMA_FAILED_PRECONDITION => Status::FailedPrecondition,
            sys::STEMMA_INTERNAL => Status::Internal,
            other => Status::Other(other),
        }
    }

    pub fn code(self) -> i32 {
        match self {
            Status::InvalidArgument => sys::STEMMA_INVALID_ARGUMENT,
            Status::NotFound => sys::STEMMA_NOT_FOUND,
            Status::OutOfRange => sys::STEMMA_OUT_OF_RANGE,
            Status::CorruptData => sys::STEMMA_CORRUPT_DATA,
            Status::Unsupported => sys::STEMMA_UNSUPPORTED,
            Status::IoError => sys::STEMMA_IO_ERROR,
            Status::ResourceExhausted => sys::STEMMA_RESOURCE_EXHAUSTED,
            Status::Cancelled => sys::STEMMA_CANCELLED,
            Status::FailedPrecondition => sys::STEMMA_FAILED_PRECONDITION,
            Status::Internal => sys::STEMMA_INTERNAL,
            Status::Other(code) => code,
        }
    }

    /// The library's name for the code: "NOT_FOUND", ...
    pub fn name(self) -> String {
        // SAFETY: stemma_status_name returns static storage for every value.
        unsafe { CStr::from_ptr(sys::stemma_status_name(self.code())) }.to_string_lossy().into_owned()
    }
}

/// A failed Stemma call.
#[derive(Debug)]
pub struct Error {
    status: Status,
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

/// `Result<T, stemma::Error>`.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn new(status: Status, message: impl Into<String>) -> Error {
        Error { status, message: message.into(), source: None }
    }

    pub(crate) fn with_source(
        status: Status,
        message: impl Into<String>,
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    ) -> Error {
        Error { status, message: message.into(), source: Some(source) }
    }

    /// The error of the last failed call on this thread (call it right after that call).
    pub(crate) fn last(code: sys::stemma_status) -> Error {
        // SAFETY: stemma_last_error returns a thread-local NUL-terminated string.
        let message = unsafe { CStr::from_ptr(sys::stemma_last_error()) }.to_string_lossy().into_owned();
        Error::new(Status::from_code(code), message)
    }

    pub fn status(&self) -> Status {
        self.status
    }

    /// stemma_last_error()'s message (or the binding's own, for errors found before calling C).
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "stemma: {}: {}", self.status.name(), self.message)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.source {
            Some(e) => Some(e.as_ref()),
            None => None,
        }
    }
}

/// Turns a status code into a Result, reading stemma_last_error() on failure.
pub(crate) fn check(code: sys::stemma_status) -> Result<()> {
    if code == sys::STEMMA_OK {
        Ok(())
    } else {
        Err(Error::last(code))
    }
}
