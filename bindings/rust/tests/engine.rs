mod common;

use std::panic::{self, AssertUnwindSafe};
use std::sync::Mutex;

use common::{chat_prompt, open_engine};
use stemma::json::{self, Value};
use stemma::{Backend, Engine, EngineOptions, FinishReason, GenOptions, Message, Status};

#[test]
fn versions_match() {
    assert_eq!(stemma::abi_version(), stemma::sys::STEMMA_ABI_VERSION);
    assert!(!stemma::version().is_empty());
    assert_eq!(Status::NotFound.name(), "NOT_FOUND");
}

#[test]
fn struct_sizes_match_the_library() {
    use std::mem::size_of;
    use stemma::sys::*;
    // The library's *_init writes its own sizeof into struct_size: it must be ours.
    macro_rules! lib_size {
        ($t:ty, $init:path) => {{
            let mut scratch = [0u64; 128];
            unsafe { $init(scratch.as_mut_ptr() as *mut $t) };
            scratch[0] as usize
        }};
    }
    assert_eq!(lib_size!(stemma_engine_options, stemma_engine_options_init), size_of::<stemma_engine_options>());
    assert_eq!(lib_size!(stemma_engine_stats, stemma_engine_stats_init), size_of::<stemma_engine_stats>());
    assert_eq!(lib_size!(stemma_gen_options, stemma_gen_options_init), size_of::<stemma_gen_options>());
    assert_eq!(lib_size!(stemma_agent_options, stemma_agent_options_init), size_of::<stemma_agent_options>());
}

#[test]
fn model_info_describes_the_model() {
    let info = open_engine().model_info().unwrap();
    // docs/demo-model.md: a llama model with a 4096-token vocabulary.
    assert_eq!(info.get("architecture").and_then(Value::as_str), Some("llama"));
    assert_eq!(info.get("vocab_size").and_then(Value::as_i64), Some(4096));
}

#[test]
fn backend_choice() {
    // No GPU here: cuda is refused naming it (Unsupported without the CUDA backend,
    // FailedPrecondition without a usable GPU); cpu and auto run on the CPU and say so.
    let path = common::model_path();
    let small = EngineOptions { threads: 1, kv_memory_bytes: 16 << 20, ..Default::default() };
    let err = Engine::open_with(&path, &EngineOptions { backend: Backend::Cuda, ..small.clone() })
        .err()
        .expect("cuda without a GPU must fail");
    assert!(matches!(err.status(), Status::Unsupported | Status::FailedPrecondition), "{}", err);
    assert!(err.message().contains("cuda"), "{}", err);
    let cpu = Engine::open_with(
        &path,
        &EngineOptions { backend: Backend::Cpu, shared_prefix_attention: false, ..small.clone() },
    )
    .unwrap();
    let info = cpu.model_info().unwrap();
    assert_eq!(info.get("backend").and_then(Value::as_str), Some("cpu"));
    assert_eq!(info.get("backend_note").and_then(Value::as_str), Some(""));
    let auto = Engine::open_with(&path, &small).unwrap().model_info().unwrap();
    assert_eq!(auto.get("backend").and_then(Value::as_str), Some("cpu"));
    assert!(auto.get("backend_note").and_then(Value::as_str).unwrap_or("").starts_with("auto: "));
}

#[test]
fn streamed_pieces_make_the_text() {
    let engine = open_engine();
    let prompt = chat_prompt(&engine, "How do I reset my Lumora hub?");
    let opts = GenOptions::new().max_tokens(40);
    let mut pieces = Vec::new();
    let gen = engine
        .generate_stream(&prompt, &opts, |p| {
            pieces.push(p.to_string());
            true
        })
        .unwrap();
    assert!(pieces.len() >= 2, "{} pieces", pieces.len());
    assert!(!gen.text.is_empty());
    assert_eq!(pieces.concat(), gen.text);
    assert!(matches!(gen.finish, FinishReason::Stop | FinishReason::Length), "{:?}", gen.finish);
    // Greedy decoding is deterministic.
    assert_eq!(engine.generate(&prompt, &opts).unwrap().text, gen.text);
}

#[test]
fn stream_can_cancel() {
    let engine = open_engine();
    let mut got = Vec::new();
    let gen = engine
        .generate_stream(&chat_prompt(&engine, "What is the warranty?"), &GenOptions::new().max_tokens(64), |p| {
            got.push(p.to_string());
            got.len() < 3
        })
        .expect("a cancel the stream asked for is no error");
    assert_eq!(gen.finish, FinishReason::Cancelled);
    assert_eq!(got.len(), 3);
    assert_eq!(gen.text, got.concat());
}

#[test]
fn stream_panic_resumes_on_the_caller() {
    let engine = open_engine();
    let r = panic::catch_unwind(AssertUnwindSafe(|| {
        let _ = engine.generate_stream("Hello", &GenOptions::new().max_tokens(8), |_| panic!("boom"));
    }));
    let payload = r.expect_err("the callback's panic must reach the caller");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"boom"));
    // The engine still works afterwards.
    assert!(engine.generate("Hello", &GenOptions::new().max_tokens(2)).is_ok());
}

#[test]
fn json_schema_output_parses() {
    let engine = open_engine();
    let schema = r#"{"type": "object", "properties": {"answer": {"type": "string", "maxLength": 60},
        "escalate": {"type": "boolean"}}, "required": ["answer", "escalate"], "additionalProperties": false}"#;
    let gen = engine
        .generate(
            &chat_prompt(&engine, "Can I use the hub without WiFi?"),
            &GenOptions::new().max_tokens(120).json_schema(schema),
        )
        .unwrap();
    let v = json::parse(&gen.text).unwrap_or_else(|e| panic!("{:?} is not JSON: {}", gen.text, e));
    match &v {
        Value::Object(members) => {
            let keys: Vec<&str> = members.iter().map(|(k, _)| k.as_str()).collect();
            assert_eq!(keys, ["answer", "escalate"], "{}", gen.text);
        }
        _ => panic!("not an object: {}", gen.text),
    }
    let answer = v.get("answer").and_then(Value::as_str).expect("answer is a string");
    assert!(answer.chars().count() <= 60);
    assert!(v.get("escalate").and_then(Value::as_bool).is_some());
}

#[test]
fn tokenize_round_trips() {
    let engine = open_engine();
    let text = "Hello, Lumora! Ünïcödé ✓ 42 <|im_start|>user\n";
    let toks = engine.tokenize(text, false).unwrap();
    assert_eq!(engine.detokenize(&toks).unwrap(), text);
    // <|im_start|> is one token, id 1; BOS is <|endoftext|>, id 0 (docs/demo-model.md).
    assert!(toks.contains(&1));
    let with_bos = engine.tokenize(text, true).unwrap();
    assert_eq!(with_bos[0], 0);
    assert_eq!(&with_bos[1..], &toks[..]);
    assert_eq!(engine.detokenize(&[]).unwrap(), "");
}

#[test]
fn chat_format_follows_the_template() {
    let got = open_engine().chat_format(&[Message::new("user", "hi")], None, true).unwrap();
    assert_eq!(got, "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n");
}

#[test]
fn concurrent_generations_from_threads() {
    let engine = open_engine();
    let prompt = chat_prompt(&engine, "Does the sensor need batteries?");
    let opts = GenOptions::new().max_tokens(16);
    let alone = engine.generate(&prompt, &opts).unwrap().text;
    let results = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                let t = engine.generate(&prompt, &opts).unwrap().text;
                results.lock().unwrap().push(t);
            });
        }
    });
    let results = results.into_inner().unwrap();
    assert_eq!(results.len(), 4);
    assert!(results.iter().all(|t| *t == alone), "{:?} vs {:?}", results, alone);
}

#[test]
fn thread_safety_markers() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<stemma::Engine>();
    send_sync::<stemma::ChatStore>();
    send::<stemma::Program>();
    send::<stemma::Chat>();
    send::<stemma::Rag>();
    send::<stemma::Agent>();
}
