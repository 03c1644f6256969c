using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using Stemma;

namespace StemmaTests
{
    static class RagTests
    {
        [Test]
        static void RagAddSearchAnswer()
        {
            using (Rag rag = Rag.Open(":memory:"))
            {
                // The demo's FAQ file: {"entries": [{"id", "question", "answer", ...}, ...]}.
                JsonValue file = Json.Parse(File.ReadAllText(Path.Combine(Env.SourceDir, "demos", "faq-bot", "data", "faq.json")));
                IList<JsonValue> entries = file["entries"].Items;
                Check.True(entries.Count >= 10, "FAQ entries");
                Check.Equal((long)entries.Count, rag.AddFaqJson(file["entries"].ToString()), "entries added");
                var ids = new HashSet<string>(entries.Select(x => x["id"].String));

                // Typed entries: metadata is stored and comes back with the hit.
                var extra = new FaqEntry
                {
                    Id = "faq-extra", Question = "Does the quokkalamp glow?", Answer = "Yes, softly.", Category = "lighting",
                    Metadata = new Dictionary<string, string> { { "shelf", "top" } },
                };
                Check.Equal(1L, rag.AddFaq(new[] { extra }), "typed entry added");
                ids.Add("faq-extra");
                IList<SearchHit> hits = rag.Search("quokkalamp", 3);
                Check.Equal(1, hits.Count, "hits for the typed entry");
                Check.Equal("faq-extra", hits[0].DocId, "doc id");
                Check.Equal("top", hits[0].Metadata["shelf"].AsString(), "metadata");

                const string doc = "# Zebrafrost mode\n\nZebrafrost mode keeps the pipes warm.\n\n# Other\n\nNothing to see here.";
                Check.True(rag.AddDocument("doc-zebra", "Winter guide", doc, DocFormat.Markdown) >= 2, "chunks");
                ids.Add("doc-zebra");
                // Only the document's first section has the made-up word, so it is the only hit.
                hits = rag.Search("zebrafrost", 5);
                Check.Equal(1, hits.Count, "hits");
                Check.Equal("doc-zebra", hits[0].DocId, "doc id");
                Check.True(hits[0].Text.ToLowerInvariant().Contains("zebrafrost"), "hit text");

                // An FAQ question finds its own entry among the top hits.
                string qid = entries[0]["id"].String, question = entries[0]["question"].String;
                hits = rag.Search(question, 3);
                Check.True(hits.Count <= 3 && hits.Any(h => h.DocId == qid), "the question finds its entry");

                var streamed = new StringBuilder();
                RagAnswer answer = rag.Answer(Env.Engine, question, 3, new GenOptions { MaxTokens = 48 },
                                              p => { lock (streamed) streamed.Append(p); return true; });
                Check.True(answer.Text.Length > 0, "answer");
                lock (streamed) Check.Equal(answer.Text, streamed.ToString(), "streamed answer");
                foreach (string s in answer.Sources)
                    Check.True(ids.Contains(s), "the answer cites " + s + ", which is not in the store");
                Console.WriteLine("  answer " + answer.Text + ", sources [" + string.Join(", ", answer.Sources) + "]");
            }
        }
    }
}
