mod common;

use std::process::Command;

use common::{open_engine, FAQ_SYSTEM_PROMPT};
use stemma::json::{self, Value};
use stemma::{ChatStore, GenOptions, Message, Status};

const MARK: &str = "CHILD-RESULT:";

fn history_json(h: &[Message]) -> String {
    let items: Vec<String> =
        h.iter().map(|m| format!("[{},{}]", json::quote(&m.role), json::quote(&m.content))).collect();
    format!("[{}]", items.join(","))
}

fn history_from(v: &Value) -> Vec<Message> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let m = m.as_array().unwrap();
            Message::new(m[0].as_str().unwrap(), m[1].as_str().unwrap())
        })
        .collect()
}

/// The second process of `chat_persists_across_processes` (does nothing when run on its own).
#[test]
fn chat_child() {
    let (db, id) = match (std::env::var("STEMMA_CHAT_DB"), std::env::var("STEMMA_CHAT_ID")) {
        (Ok(db), Ok(id)) => (db, id.parse::<i64>().unwrap()),
        _ => return,
    };
    let engine = open_engine();
    let store = ChatStore::open(&db).unwrap();
    let mut chat = engine.resume_chat(&store, id).unwrap();
    let before = chat.history().unwrap();
    let reply = chat.send("And how long is the warranty?", &GenOptions::new().max_tokens(24)).unwrap();
    let after = chat.history().unwrap();
    println!(
        "{}{{\"before\":{},\"reply\":{},\"after\":{}}}",
        MARK,
        history_json(&before),
        json::quote(&reply),
        history_json(&after)
    );
}

#[test]
fn chat_persists_across_processes() {
    let engine = open_engine();
    let dir = std::env::temp_dir().join(format!("stemma-rust-chat-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("chats.db");
    let _ = std::fs::remove_file(&db);
    let store = ChatStore::open(&db).unwrap();
    let mut chat = engine.new_chat(Some(&store), Some(FAQ_SYSTEM_PROMPT)).unwrap();
    let mut streamed = String::new();
    let reply = chat
        .send_stream("How do I reset my hub?", &GenOptions::new().max_tokens(24), |p| {
            streamed.push_str(p);
            true
        })
        .unwrap();
    assert!(!reply.is_empty());
    assert_eq!(streamed, reply);
    let id = chat.id().unwrap();
    let history = chat.history().unwrap();
    assert_eq!(history.last().unwrap(), &Message::new("assistant", reply.clone()));
    drop(chat);
    drop(store);

    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "chat_child", "--nocapture", "--test-threads=1"])
        .env("STEMMA_CHAT_DB", &db)
        .env("STEMMA_CHAT_ID", id.to_string())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "child failed: {}\n{}", stdout, String::from_utf8_lossy(&out.stderr));
    let line = stdout.lines().find_map(|l| l.find(MARK).map(|i| &l[i + MARK.len()..])).expect("child result");
    let v = json::parse(line).unwrap();
    let before = history_from(v.get("before").unwrap());
    let child_reply = v.get("reply").unwrap().as_str().unwrap().to_string();
    let after = history_from(v.get("after").unwrap());
    // The new process saw exactly the stored history, then added one turn.
    assert_eq!(before, history);
    let n = history.len();
    assert_eq!(after.len(), n + 2);
    assert_eq!(after[n], Message::new("user", "And how long is the warranty?"));
    assert_eq!(after[n + 1], Message::new("assistant", child_reply.clone()));
    assert!(!child_reply.is_empty());

    // A new store handle in this process sees that turn too.
    let store2 = ChatStore::open(&db).unwrap();
    let again = engine.resume_chat(&store2, id).unwrap();
    assert_eq!(again.history().unwrap(), after);
    drop(again);
    drop(store2);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn chat_without_store_has_no_id() {
    let engine = open_engine();
    let chat = engine.new_chat(None, None).unwrap();
    assert_eq!(chat.id().unwrap_err().status(), Status::FailedPrecondition);
    let mem = ChatStore::in_memory().unwrap();
    let chat = engine.new_chat(Some(&mem), None).unwrap();
    assert!(chat.id().is_ok());
    assert_eq!(engine.resume_chat(&mem, 987_654).err().map(|e| e.status()), Some(Status::NotFound));
}
