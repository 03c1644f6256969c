mod common;

use std::collections::HashSet;
use std::sync::Mutex;

use common::{open_engine, source_dir};
use stemma::json::{self, Value};
use stemma::{DocFormat, FaqEntry, GenOptions, Rag};

#[test]
fn rag_add_search_answer() {
    let engine = open_engine();
    let mut rag = Rag::in_memory().unwrap();
    // The demo's FAQ file: {"entries": [{"id", "question", "answer", ...}, ...]}.
    let file = std::fs::read_to_string(source_dir().join("demos/faq-bot/data/faq.json")).unwrap();
    let parsed = json::parse(&file).unwrap();
    let entries = parsed.get("entries").and_then(Value::as_array).unwrap();
    assert!(entries.len() >= 10);
    let added = rag.add_faq_json(&Value::Array(entries.to_vec()).to_string()).unwrap();
    assert_eq!(added, entries.len() as i64);
    let mut ids: HashSet<String> =
        entries.iter().map(|e| e.get("id").and_then(Value::as_str).unwrap().to_string()).collect();

    // Typed entries: metadata is stored and comes back with the hit.
    let extra = FaqEntry {
        id: "faq-extra".into(),
        question: "Does the quokkalamp glow?".into(),
        answer: "Yes, softly.".into(),
        category: Some("lighting".into()),
        metadata: vec![("rank".into(), Value::Number(3.0))],
    };
    assert_eq!(rag.add_faq(&[extra]).unwrap(), 1);
    ids.insert("faq-extra".into());
    let hits = rag.search("quokkalamp", 3).unwrap();
    assert_eq!(hits.len(), 1, "{:?}", hits);
    assert_eq!(hits[0].doc_id, "faq-extra");
    assert_eq!(hits[0].metadata.get("rank").and_then(Value::as_f64), Some(3.0));

    let doc = "# Zebrafrost mode\n\nZebrafrost mode keeps the pipes warm.\n\n# Other\n\nNothing to see here.";
    let chunks = rag.add_document("doc-zebra", "Winter guide", doc, DocFormat::Markdown).unwrap();
    assert!(chunks >= 2, "{} chunks", chunks);
    ids.insert("doc-zebra".into());
    // Only the document's first section has the made-up word, so it is the only hit.
    let hits = rag.search("zebrafrost", 5).unwrap();
    assert_eq!(hits.len(), 1, "{:?}", hits);
    assert_eq!(hits[0].doc_id, "doc-zebra");
    assert!(hits[0].text.to_lowercase().contains("zebrafrost"));

    // An FAQ question finds its own entry among the top hits.
    let q_id = entries[0].get("id").and_then(Value::as_str).unwrap();
    let question = entries[0].get("question").and_then(Value::as_str).unwrap();
    let hits = rag.search(question, 3).unwrap();
    assert!(hits.len() <= 3 && hits.iter().any(|h| h.doc_id == q_id), "{:?}", hits);

    let streamed = Mutex::new(String::new());
    let answer = rag
        .answer_stream(&engine, question, 3, &GenOptions::new().max_tokens(48), |p| {
            streamed.lock().unwrap().push_str(p);
            true
        })
        .unwrap();
    assert!(!answer.text.is_empty());
    assert_eq!(*streamed.lock().unwrap(), answer.text);
    for s in &answer.sources {
        assert!(ids.contains(s), "the answer cites {:?}, which is not in the store", s);
    }
    eprintln!("answer {:?}, sources {:?}", answer.text, answer.sources);
}
