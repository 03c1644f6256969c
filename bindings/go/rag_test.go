package stemma

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// faqEntries reads the demo's FAQ (demos/faq-bot/data/faq.json): the entries as JSON text and
// their ids and questions.
func faqEntries(t *testing.T) (string, []FAQEntry) {
	t.Helper()
	data, err := os.ReadFile(repoPath("demos/faq-bot/data/faq.json"))
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Entries []json.RawMessage `json:"entries"`
	}
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(file.Entries)
	entries := make([]FAQEntry, len(file.Entries))
	for i, r := range file.Entries {
		var e struct{ ID, Question, Answer string }
		if err := json.Unmarshal(r, &e); err != nil {
			t.Fatal(err)
		}
		entries[i] = FAQEntry{ID: e.ID, Question: e.Question, Answer: e.Answer}
	}
	if len(entries) < 10 {
		t.Fatalf("only %d FAQ entries", len(entries))
	}
	return string(raw), entries
}

func TestRagAddSearchAnswer(t *testing.T) {
	e := engine(t)
	rag, err := OpenRag(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer rag.Close()
	raw, entries := faqEntries(t)
	n, err := rag.AddFAQJSON(raw)
	if err != nil || n != int64(len(entries)) {
		t.Fatalf("AddFAQJSON added %d of %d: %v", n, len(entries), err)
	}
	// Typed entries: metadata is stored and comes back with the hit.
	extra := FAQEntry{ID: "faq-extra", Question: "Does the quokkalamp glow?", Answer: "Yes, softly.",
		Category: "lighting", Metadata: map[string]any{"title": "Quokkalamp glow", "rank": 3.0}}
	if n, err := rag.AddFAQ([]FAQEntry{extra}); err != nil || n != 1 {
		t.Fatalf("AddFAQ: %d, %v", n, err)
	}
	hits, err := rag.Search("quokkalamp", 3)
	if err != nil || len(hits) != 1 || hits[0].DocID != "faq-extra" || hits[0].Metadata["rank"] != 3.0 {
		t.Fatalf("hits for the typed entry %+v, %v", hits, err)
	}
	doc := "# Zebrafrost mode\n\nZebrafrost mode keeps the pipes warm.\n\n# Other\n\nNothing to see here."
	chunks, err := rag.AddDocument("doc-zebra", "Winter guide", doc, FormatMarkdown)
	if err != nil || chunks < 2 {
		t.Fatalf("AddDocument: %d chunks, %v", chunks, err)
	}
	// Only the document's first section has the made-up word, so it is the only hit.
	hits, err = rag.Search("zebrafrost", 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 1 || hits[0].DocID != "doc-zebra" || !strings.Contains(strings.ToLower(hits[0].Text), "zebrafrost") {
		t.Fatalf("hits %+v", hits)
	}
	// An FAQ question finds its own entry among the top hits.
	q := entries[0]
	hits, err = rag.Search(q.Question, 3)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, h := range hits {
		found = found || h.DocID == q.ID
	}
	if !found || len(hits) > 3 {
		t.Fatalf("search for %q: %+v", q.Question, hits)
	}

	var streamed strings.Builder
	ans, err := rag.Answer(e, q.Question, 3, &GenOptions{MaxTokens: 48}, func(p string) bool {
		streamed.WriteString(p)
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	if ans.Text == "" || streamed.String() != ans.Text {
		t.Fatalf("answer %q, streamed %q", ans.Text, streamed.String())
	}
	ids := map[string]bool{"doc-zebra": true, "faq-extra": true}
	for _, e := range entries {
		ids[e.ID] = true
	}
	for _, s := range ans.Sources {
		if !ids[s] {
			t.Fatalf("answer cites %q, which is not in the store (sources %v)", s, ans.Sources)
		}
	}
	t.Logf("answer %q, sources %v", ans.Text, ans.Sources)
}
