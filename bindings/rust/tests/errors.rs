mod common;

use std::ffi::CStr;
use std::ptr;

use common::open_engine;
use stemma::{sys, Engine, GenOptions, Status};

#[test]
fn bad_model_path_is_a_typed_error() {
    let path = std::env::temp_dir().join(format!("stemma-no-such-model-{}.gguf", std::process::id()));
    let err = Engine::open(&path).err().expect("opening a missing file fails");
    assert!(matches!(err.status(), Status::NotFound | Status::IoError), "{}", err);
    // The message is stemma_last_error()'s, which names the file.
    assert!(err.message().contains(path.to_str().unwrap()), "{}", err);
    assert!(err.to_string().starts_with("stemma: "));

    let junk = std::env::temp_dir().join(format!("stemma-junk-{}.gguf", std::process::id()));
    std::fs::write(&junk, b"not a gguf file at all").unwrap();
    let err = Engine::open(&junk).err().expect("opening a junk file fails");
    assert!(!err.message().is_empty());
    let _ = std::fs::remove_file(&junk);
}

#[test]
fn null_handles_are_refused_by_the_library() {
    // The safe API cannot make a null or freed handle (see the compile_fail doc test in lib.rs);
    // the C ABI itself refuses one with STEMMA_INVALID_ARGUMENT and a message.
    let mut out = ptr::null_mut();
    let code = unsafe {
        sys::stemma_generate(
            ptr::null_mut(),
            b"x\0".as_ptr() as *const _,
            ptr::null(),
            None,
            ptr::null_mut(),
            &mut out,
            ptr::null_mut(),
        )
    };
    assert_eq!(code, sys::STEMMA_INVALID_ARGUMENT);
    let msg = unsafe { CStr::from_ptr(sys::stemma_last_error()) }.to_string_lossy().into_owned();
    assert!(msg.contains("engine"), "{:?}", msg);
    assert!(out.is_null());
}

#[test]
fn bad_input_is_refused() {
    let engine = open_engine();
    let err = engine.tokenize("a\0b", false).unwrap_err();
    assert_eq!(err.status(), Status::InvalidArgument);
    assert!(err.message().contains("NUL"), "{}", err);
    assert_eq!(engine.detokenize(&[1 << 30]).unwrap_err().status(), Status::OutOfRange);
    let err = engine.generate("x", &GenOptions::new().json_schema("{not json")).unwrap_err();
    assert!(!err.message().is_empty());
}
