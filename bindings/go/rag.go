package stemma

/*
#include <stdlib.h>
#include "stemma.h"
#include "trampolines.h"
*/
import "C"

import (
	"encoding/json"
	"runtime"
	"unsafe"
)

// DocFormat says how a document's text is chunked.
type DocFormat int32

// Document formats.
const (
	FormatText     DocFormat = C.STEMMA_DOC_TEXT
	FormatMarkdown DocFormat = C.STEMMA_DOC_MARKDOWN // chunked by headings
)

// Rag is a document store (SQLite FTS5, BM25) that answers questions grounded in it.
type Rag struct {
	h handle
}

// OpenRag opens (creating if missing) a document store; ":memory:" for a private in-memory one.
func OpenRag(path string) (*Rag, error) {
	cpath, err := cstring("path", path)
	if err != nil {
		return nil, err
	}
	defer freeC(cpath)
	var ptr *C.stemma_rag
	if err := call(func() C.stemma_status { return C.stemma_rag_open(cpath, &ptr) }); err != nil {
		return nil, err
	}
	r := &Rag{}
	r.h.init(unsafe.Pointer(ptr), func(p unsafe.Pointer) { C.stemma_rag_free((*C.stemma_rag)(p)) })
	runtime.SetFinalizer(r, (*Rag).Close)
	return r, nil
}

// Close frees the store. Safe to call more than once.
func (r *Rag) Close() error {
	if r != nil && r.h.close() {
		runtime.SetFinalizer(r, nil)
	}
	return nil
}

func (r *Rag) acquire() (*C.stemma_rag, error) {
	if r == nil {
		return nil, ErrClosed
	}
	p, err := r.h.acquire()
	return (*C.stemma_rag)(p), err
}

// AddDocument adds (or replaces) a document and returns how many chunks it was cut into.
func (r *Rag) AddDocument(id, title, text string, format DocFormat) (int64, error) {
	p, err := r.acquire()
	if err != nil {
		return 0, err
	}
	defer r.h.release()
	var cs [3]*C.char
	for i, s := range [3][2]string{{"id", id}, {"title", title}, {"text", text}} {
		if cs[i], err = cstring(s[0], s[1]); err != nil {
			break
		}
		defer freeC(cs[i])
	}
	if err != nil {
		return 0, err
	}
	var chunks C.int64_t
	if err := call(func() C.stemma_status {
		return C.stemma_rag_add_document(p, cs[0], cs[1], cs[2], C.int32_t(format), &chunks)
	}); err != nil {
		return 0, err
	}
	return int64(chunks), nil
}

// FAQEntry is one FAQ question with its answer. Metadata (e.g. "title", "tags") is stored with
// the entry and comes back in search hits.
type FAQEntry struct {
	ID       string
	Question string
	Answer   string
	Category string         // optional
	Metadata map[string]any // optional; keys other than id, question, answer, category
}

// MarshalJSON writes the entry as the C ABI reads it: one flat object.
func (f FAQEntry) MarshalJSON() ([]byte, error) {
	m := make(map[string]any, len(f.Metadata)+4)
	for k, v := range f.Metadata {
		m[k] = v
	}
	m["id"], m["question"], m["answer"] = f.ID, f.Question, f.Answer
	if f.Category != "" {
		m["category"] = f.Category
	}
	return json.Marshal(m)
}

// AddFAQ adds FAQ entries and returns how many were added.
func (r *Rag) AddFAQ(entries []FAQEntry) (int64, error) {
	if entries == nil {
		entries = []FAQEntry{}
	}
	js, err := json.Marshal(entries)
	if err != nil {
		return 0, &Error{Status: InvalidArgument, Message: "faq entries: " + err.Error()}
	}
	return r.AddFAQJSON(string(js))
}

// AddFAQJSON adds FAQ entries given as a JSON array of {"id", "question", "answer", ...}.
func (r *Rag) AddFAQJSON(entriesJSON string) (int64, error) {
	p, err := r.acquire()
	if err != nil {
		return 0, err
	}
	defer r.h.release()
	cjs, err := cstring("entries", entriesJSON)
	if err != nil {
		return 0, err
	}
	defer freeC(cjs)
	var n C.int64_t
	if err := call(func() C.stemma_status { return C.stemma_rag_add_faq(p, cjs, &n) }); err != nil {
		return 0, err
	}
	return int64(n), nil
}

// Hit is one search result.
type Hit struct {
	DocID      string  `json:"doc_id"`
	ChunkIndex int64   `json:"chunk_index"`
	Title      string  `json:"title"`
	Heading    string  `json:"heading"`
	Text       string  `json:"text"`
	Kind       string  `json:"kind"`
	Score      float64 `json:"score"`
	// The entry's metadata (FAQ entries: the fields besides id, question, answer, category).
	Metadata map[string]any `json:"metadata"`
}

// Search returns the topK best chunks for query, best first.
func (r *Rag) Search(query string, topK int) ([]Hit, error) {
	p, err := r.acquire()
	if err != nil {
		return nil, err
	}
	defer r.h.release()
	cq, err := cstring("query", query)
	if err != nil {
		return nil, err
	}
	defer freeC(cq)
	var out *C.char
	if err := call(func() C.stemma_status { return C.stemma_rag_search(p, cq, C.size_t(topK), &out) }); err != nil {
		return nil, err
	}
	hits := []Hit{}
	if err := json.Unmarshal([]byte(takeString(out)), &hits); err != nil {
		return nil, &Error{Status: Internal, Message: "search hits are not a JSON array of hits: " + err.Error()}
	}
	return hits, nil
}

// Answer is a generated answer and the ids of the sources it cites.
type Answer struct {
	Text    string
	Sources []string
}

// Answer retrieves topK chunks for question, builds the prompt and generates the answer on
// engine. opts and onPiece may be nil.
func (r *Rag) Answer(engine *Engine, question string, topK int, opts *GenOptions, onPiece StreamFunc) (Answer, error) {
	p, err := r.acquire()
	if err != nil {
		return Answer{}, err
	}
	defer r.h.release()
	ep, err := engine.acquire()
	if err != nil {
		return Answer{}, err
	}
	defer engine.h.release()
	cq, err := cstring("question", question)
	if err != nil {
		return Answer{}, err
	}
	defer freeC(cq)
	co, err := opts.toC()
	if err != nil {
		return Answer{}, err
	}
	defer co.free()
	stream, sh := newStream(onPiece)
	if sh != 0 {
		defer sh.Delete()
	}
	var text, sources *C.char
	err = call(func() C.stemma_status {
		return C.stemma_go_rag_answer(p, ep, cq, C.size_t(topK), co.c, C.uintptr_t(sh), &text, &sources)
	})
	ans := Answer{Text: takeString(text)}
	src := takeString(sources)
	err = stream.finish(err)
	if src != "" && err == nil {
		if jerr := json.Unmarshal([]byte(src), &ans.Sources); jerr != nil {
			return ans, &Error{Status: Internal, Message: "answer sources are not a JSON array of ids: " + jerr.Error()}
		}
	}
	return ans, err
}
