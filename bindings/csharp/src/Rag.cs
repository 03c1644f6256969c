using System;
using System.Collections.Generic;
using System.Text;

namespace Stemma
{
    public enum DocFormat
    {
        Text = 0,
        /// <summary>Chunked by headings.</summary>
        Markdown = 1,
    }

    /// <summary>One FAQ entry for Rag.AddFaq. Metadata (e.g. "title", "tags") is stored with
    /// the entry and comes back in search hits; AddFaqJson takes metadata of any JSON type.</summary>
    public sealed class FaqEntry
    {
        public string Id { get; set; }
        public string Question { get; set; }
        public string Answer { get; set; }
        public string Category { get; set; }
        /// <summary>Keys other than id, question, answer and category.</summary>
        public IDictionary<string, string> Metadata { get; set; }

        internal void WriteJson(StringBuilder sb)
        {
            sb.Append('{');
            if (Metadata != null)
                foreach (var kv in Metadata)
                    if (kv.Key != "id" && kv.Key != "question" && kv.Key != "answer" && kv.Key != "category")
                        sb.Append(Json.Quote(kv.Key)).Append(':').Append(Json.Quote(kv.Value ?? "")).Append(',');
            sb.Append("\"id\":").Append(Json.Quote(Id ?? ""))
              .Append(",\"question\":").Append(Json.Quote(Question ?? ""))
              .Append(",\"answer\":").Append(Json.Quote(Answer ?? ""));
            if (Category != null) sb.Append(",\"category\":").Append(Json.Quote(Category));
            sb.Append('}');
        }
    }

    /// <summary>One search result.</summary>
    public sealed class SearchHit
    {
        public string DocId { get; internal set; }
        public long ChunkIndex { get; internal set; }
        public string Title { get; internal set; }
        public string Heading { get; internal set; }
        public string Text { get; internal set; }
        public string Kind { get; internal set; }
        public double Score { get; internal set; }
        /// <summary>The entry's metadata (FAQ entries: the fields besides id, question, answer, category).</summary>
        public JsonValue Metadata { get; internal set; }
    }

    /// <summary>A generated answer and the ids of the sources it cites.</summary>
    public sealed class RagAnswer
    {
        public string Text { get; internal set; }
        public IList<string> Sources { get; internal set; }
    }

    /// <summary>A document store (SQLite FTS5, BM25) that answers questions grounded in it.</summary>
    public sealed class Rag : IDisposable
    {
        readonly RagHandle h;

        Rag(RagHandle h) { this.h = h; }

        RagHandle handle
        {
            get
            {
                h.ThrowIfClosed("Rag");
                return h;
            }
        }

        /// <summary>Opens (creating if missing) a document store; ":memory:" for a private in-memory one.</summary>
        public static Rag Open(string path)
        {
            RagHandle h;
            int st = Native.stemma_rag_open(Utf8.Z("path", path), out h);
            if (st != 0)
            {
                h.Dispose();
                Native.Check(st);
            }
            return new Rag(h);
        }

        public void Dispose() { h.CloseOnce(); }

        /// <summary>Adds (or replaces) a document; returns its number of chunks.</summary>
        public long AddDocument(string id, string title, string text, DocFormat format = DocFormat.Text)
        {
            long chunks;
            Native.Check(Native.stemma_rag_add_document(handle, Utf8.Z("id", id), Utf8.Z("title", title),
                                                        Utf8.Z("text", text), (int)format, out chunks));
            return chunks;
        }

        /// <summary>Adds FAQ entries; returns how many were added.</summary>
        public long AddFaq(IEnumerable<FaqEntry> entries)
        {
            var sb = new StringBuilder("[");
            foreach (FaqEntry e in entries)
            {
                if (sb.Length > 1) sb.Append(',');
                e.WriteJson(sb);
            }
            return AddFaqJson(sb.Append(']').ToString());
        }

        /// <summary>Adds FAQ entries given as a JSON array of {"id", "question", "answer", ...}.</summary>
        public long AddFaqJson(string entriesJson)
        {
            long n;
            Native.Check(Native.stemma_rag_add_faq(handle, Utf8.Z("entriesJson", entriesJson), out n));
            return n;
        }

        /// <summary>The topK best chunks for query, best first.</summary>
        public IList<SearchHit> Search(string query, int topK)
        {
            if (topK < 0) throw new ArgumentOutOfRangeException("topK");
            IntPtr json;
            Native.Check(Native.stemma_rag_search(handle, Utf8.Z("query", query), (UIntPtr)topK, out json));
            var hits = new List<SearchHit>();
            foreach (JsonValue h in Json.Parse(Utf8.Take(json)).Items)
            {
                JsonValue score = h["score"];
                hits.Add(new SearchHit
                {
                    DocId = h["doc_id"].AsString(), ChunkIndex = h["chunk_index"] == null ? 0 : h["chunk_index"].AsLong(),
                    Title = Str(h, "title"), Heading = Str(h, "heading"), Text = Str(h, "text"), Kind = Str(h, "kind"),
                    Score = score == null ? 0 : score.Number, Metadata = h["metadata"],
                });
            }
            return hits;
        }

        static string Str(JsonValue o, string key)
        {
            JsonValue v = o[key];
            return v == null ? "" : v.AsString("");
        }

        /// <summary>Retrieves topK chunks for question, builds the prompt and generates the answer
        /// on engine; onPiece (may be null) streams it.</summary>
        public RagAnswer Answer(Engine engine, string question, int topK, GenOptions options = null, Func<string, bool> onPiece = null)
        {
            if (engine == null) throw new ArgumentNullException("engine");
            if (topK < 0) throw new ArgumentOutOfRangeException("topK");
            byte[] q = Utf8.Z("question", question);
            StreamCallback cb = StreamCallback.Make(onPiece);
            using (var strings = new NativeStrings())
            {
                NativeGenOptions o = GenOptions.ToNative(options, strings);
                IntPtr text, sources;
                int st = Native.stemma_rag_answer(handle, engine.Handle, q, (UIntPtr)topK, ref o, StreamCallback.For(cb),
                                                  IntPtr.Zero, out text, out sources);
                string answer = Utf8.Take(text);
                string src = Utf8.Take(sources);
                StreamCallback.Finish(st, cb);
                var ids = new List<string>();
                if (src != null)
                    foreach (JsonValue id in Json.Parse(src).Items)
                        ids.Add(id.AsString());
                return new RagAnswer { Text = answer ?? "", Sources = ids };
            }
        }
    }
}
