// Shared by the integration tests (each tests/*.rs file is its own test binary).
#![allow(dead_code)]

use std::path::PathBuf;

use stemma::{Engine, EngineOptions, Message};

/// The demo model's system prompt (docs/demo-model.md): the shared prefix it was trained with.
pub const FAQ_SYSTEM_PROMPT: &str = "You are Lumi, the customer support assistant of Lumora Home, a maker of smart home devices. Answer only from the FAQ context. Reply with one JSON object: {\"answer\": \"...\", \"source_ids\": [\"faq-...\"], \"escalate\": false}. If the context does not answer the question, reply with escalate true and empty source_ids. Tools: lookup_order(order_id) for an order number like LM-123456, and create_ticket(summary) when the customer asks for a human or a ticket. To call a tool, reply with <tool_call>{\"name\": \"...\", \"arguments\": {...}}</tool_call>.";

pub fn source_dir() -> PathBuf {
    match std::env::var_os("STEMMA_SOURCE_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.."),
    }
}

pub fn model_path() -> PathBuf {
    match std::env::var_os("STEMMA_TEST_MODEL") {
        Some(p) => PathBuf::from(p),
        None => source_dir().join("models/stemma-faq.gguf"),
    }
}

pub fn open_engine() -> Engine {
    let path = model_path();
    Engine::open_with(&path, &EngineOptions { threads: 2, ..Default::default() })
        .unwrap_or_else(|e| panic!("open {}: {}", path.display(), e))
}

/// One user turn after the demo's system prompt, ready for the reply.
pub fn chat_prompt(engine: &Engine, user: &str) -> String {
    engine
        .chat_format(&[Message::new("system", FAQ_SYSTEM_PROMPT), Message::new("user", user)], None, true)
        .expect("chat_format")
}

/// An eval item's user turn with its retrieval context, as an agent task: the agent renders
/// system + user, so with the context riding in the user turn its first prompt is the eval
/// prompt the model was trained on (it never saw a user turn without a context block).
pub fn eval_task(id: &str) -> String {
    // The eval prompts the model's behaviour was measured on (tests/fixtures/faq-model).
    let path = source_dir().join("tests/fixtures/faq-model/hf_greedy_prompts.jsonl");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {}", path.display(), e));
    for line in text.lines() {
        let row = stemma::json::parse(line).unwrap();
        if row.get("id").and_then(stemma::json::Value::as_str) != Some(id) {
            continue;
        }
        let prompt = row.get("prompt").and_then(stemma::json::Value::as_str).unwrap();
        let task = prompt.splitn(2, "<|im_start|>user\n").nth(1).unwrap();
        return task.strip_suffix("<|im_end|>\n<|im_start|>assistant\n").unwrap_or(task).to_string();
    }
    panic!("no eval prompt {}", id);
}
