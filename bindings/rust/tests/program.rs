mod common;

use std::sync::{Arc, Mutex};

use common::{open_engine, FAQ_SYSTEM_PROMPT};
use stemma::{Error, GenOptions, Program, Status};

#[test]
fn fork_shares_the_prefix() {
    let engine = open_engine();
    let p = engine.program().unwrap();
    p.message("system", FAQ_SYSTEM_PROMPT).unwrap();
    p.message("user", "Where can I download the Lumora app?").unwrap();
    let prefix = p.text().unwrap();
    let prefix_tokens = engine.tokenize(&prefix, true).unwrap().len() as i64;
    let before = engine.stats().unwrap();
    let forks = p.fork(4).unwrap();
    let streamed: Vec<Arc<Mutex<String>>> = (0..forks.len()).map(|_| Arc::new(Mutex::new(String::new()))).collect();
    for (f, s) in forks.iter().zip(&streamed) {
        let s = s.clone();
        f.role_begin("assistant").unwrap();
        f.gen_stream("reply", &GenOptions::new().max_tokens(12), move |piece| {
            s.lock().unwrap().push_str(piece);
            true
        })
        .unwrap();
        f.role_end().unwrap();
    }
    Program::join(&forks).unwrap();
    let after = engine.stats().unwrap();
    let first = forks[0].get("reply").unwrap();
    for (i, f) in forks.iter().enumerate() {
        let reply = f.get("reply").unwrap();
        let text = f.text().unwrap();
        assert!(!reply.is_empty());
        assert_eq!(*streamed[i].lock().unwrap(), reply, "fork {}", i);
        assert!(text.starts_with(&prefix) && text[prefix.len()..].contains(&reply), "fork {}: {:?}", i, text);
        assert_eq!(reply, first, "greedy forks of one state differ");
    }
    // At least three of the four forks are served the prefix from the cache (less one page each
    // at most, for the page the prefix ends in).
    let cached = after.cached_tokens - before.cached_tokens;
    let want = 3 * (prefix_tokens - 16);
    eprintln!("prefix {} tokens, cached {} during the forks (want >= {})", prefix_tokens, cached, want);
    assert!(cached >= want, "cached {} prompt tokens, want >= {}", cached, want);
    assert_eq!(forks[0].get("never-set").unwrap_err().status(), Status::NotFound);
}

#[test]
fn select_picks_a_choice() {
    let engine = open_engine();
    let p = engine.program().unwrap();
    p.append("Is the sky blue? Answer: ").unwrap();
    p.select("answer", &["yes", "no"]).unwrap();
    p.wait().unwrap();
    let got = p.get("answer").unwrap();
    assert!(got == "yes" || got == "no", "{:?}", got);
}

#[test]
fn run_batch_runs_every_index() {
    let engine = open_engine();
    let got = Mutex::new(vec![String::new(); 3]);
    engine
        .run_batch(3, 0, |i, p| {
            p.message("user", ["hi", "What is Lumora?", "Is there an app?"][i])?;
            p.role_begin("assistant")?;
            p.gen("out", &GenOptions::new().max_tokens(6))?;
            got.lock().unwrap()[i] = p.get("out")?;
            Ok(())
        })
        .unwrap();
    let got = got.into_inner().unwrap();
    assert!(got.iter().all(|s| !s.is_empty()), "{:?}", got);
    // An error from the function comes back as it was returned.
    let err = engine.run_batch(2, 1, |_, _| Err(Error::new(Status::FailedPrecondition, "stop here"))).unwrap_err();
    assert_eq!(err.status(), Status::FailedPrecondition);
    assert_eq!(err.message(), "stop here");
}

#[test]
fn programs_outlive_their_engine_handle() {
    let engine = open_engine();
    let p = engine.program().unwrap();
    drop(engine); // the program keeps the C engine alive
    p.append("Hello").unwrap();
    assert_eq!(p.text().unwrap(), "Hello");
}

#[test]
fn queued_gen_error_surfaces() {
    let engine = open_engine();
    let p = engine.program().unwrap();
    // A gen is queued: a bad schema is refused either when queued or by wait, never lost.
    let err = p.gen("x", &GenOptions::new().json_schema("{not json")).and_then(|_| p.wait()).unwrap_err();
    assert!(!err.message().is_empty());
    p.wait().expect("wait clears the error it returned");
}
