//! Text across the boundary: Rust strings in (NUL-terminated copies), library-owned text out
//! (copied, then released with stemma_string_free).
use std::ffi::{CStr, CString};
use std::os::raw::c_char;
use std::ptr;

use crate::error::{Error, Result, Status};
use crate::sys;

/// A NUL-terminated copy of `s`; a NUL byte inside would cut the text short in C, so it is refused.
pub(crate) fn cstring(what: &str, s: &str) -> Result<CString> {
    CString::new(s).map_err(|e| {
        Error::new(Status::InvalidArgument, format!("{} contains a NUL byte at offset {}", what, e.nul_position()))
    })
}

pub(crate) fn opt_cstring(what: &str, s: Option<&str>) -> Result<Option<CString>> {
    s.map(|s| cstring(what, s)).transpose()
}

pub(crate) fn opt_ptr(s: &Option<CString>) -> *const c_char {
    s.as_ref().map_or(ptr::null(), |s| s.as_ptr())
}

/// Library-owned text out: freed exactly once, when dropped.
pub(crate) struct OwnedText(pub(crate) *mut c_char);

impl OwnedText {
    pub(crate) fn new() -> OwnedText {
        OwnedText(ptr::null_mut())
    }

    pub(crate) fn out(&mut self) -> *mut *mut c_char {
        &mut self.0
    }

    pub(crate) fn text(&self) -> String {
        if self.0.is_null() {
            String::new()
        } else {
            // SAFETY: the library returned a NUL-terminated string it keeps until freed.
            unsafe { CStr::from_ptr(self.0) }.to_string_lossy().into_owned()
        }
    }

    pub(crate) fn is_null(&self) -> bool {
        self.0.is_null()
    }
}

impl Drop for OwnedText {
    fn drop(&mut self) {
        // SAFETY: the pointer came from the library (or is NULL, which it ignores).
        unsafe { sys::stemma_string_free(self.0) }
    }
}

/// An array of C strings borrowed from `strings` for one call.
pub(crate) struct CStrArray {
    _owned: Vec<CString>,
    ptrs: Vec<*const c_char>,
}

impl CStrArray {
    pub(crate) fn new<S: AsRef<str>>(what: &str, strings: &[S]) -> Result<CStrArray> {
        let owned = strings
            .iter()
            .enumerate()
            .map(|(i, s)| cstring(&format!("{}[{}]", what, i), s.as_ref()))
            .collect::<Result<Vec<_>>>()?;
        let ptrs = owned.iter().map(|s| s.as_ptr()).collect();
        Ok(CStrArray { _owned: owned, ptrs })
    }

    pub(crate) fn as_ptr(&self) -> *const *const c_char {
        if self.ptrs.is_empty() {
            ptr::null()
        } else {
            self.ptrs.as_ptr()
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.ptrs.len()
    }
}

/// Runs a library `*_init` function on a scratch buffer (it writes the library's whole struct,
/// larger than ours when the library is newer), keeps the fields this crate knows and sets
/// `struct_size` (every such struct's first field) to our size, so the library reads only those.
///
/// # Safety
/// `T` must be a `#[repr(C)]` struct of capi/stemma.h that starts with `size_t struct_size`.
pub(crate) unsafe fn init_struct<T: Copy>(init: unsafe extern "C" fn(*mut T)) -> T {
    // struct_size (the first field) is set to our own size first, so the library writes only the
    // fields this binding knows.
    let mut value: T = std::mem::zeroed();
    *(&mut value as *mut T as *mut usize) = std::mem::size_of::<T>();
    init(&mut value);
    value
}
