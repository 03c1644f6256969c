using System;
using System.IO;
using Stemma;

namespace StemmaTests
{
    static class ErrorTests
    {
        [Test]
        static void BadModelPathIsATypedError()
        {
            string path = Path.Combine(Path.GetTempPath(), "stemma-no-such-model-" + Guid.NewGuid() + ".gguf");
            var e = Check.Throws<StemmaException>(() => Engine.Open(path), "open a missing file");
            Check.True(e.Status == Status.NotFound || e.Status == Status.IoError, "status " + e.Status);
            // The message is stemma_last_error()'s, which names the file.
            Check.True(e.Detail.Contains(path), "message " + e.Message);
            string junk = Path.GetTempFileName();
            File.WriteAllText(junk, "not a gguf file at all");
            var j = Check.Throws<StemmaException>(() => Engine.Open(junk), "open a junk file");
            Check.True(j.Detail.Length > 0, "message");
            File.Delete(junk);
        }

        [Test]
        static void DisposedHandlesAreRefused()
        {
            Engine e = Env.OpenEngine();
            Stemma.Program p = e.NewProgram();
            e.Dispose();
            e.Dispose();
            Check.Throws<ObjectDisposedException>(() => e.Tokenize("x", false), "Tokenize after Dispose");
            Check.Throws<ObjectDisposedException>(() => e.NewProgram(), "NewProgram after Dispose");
            // The program keeps the C engine alive until it is disposed itself.
            p.Append("Hello");
            Check.Equal("Hello", p.Text(), "program of a disposed engine");
            p.Dispose();
            // Likewise a chat keeps its store.
            ChatStore store = ChatStore.Open(":memory:");
            Chat chat = Env.Engine.NewChat(store);
            store.Dispose();
            Check.Throws<ObjectDisposedException>(() => Env.Engine.NewChat(store), "NewChat on a disposed store");
            Check.True(chat.Id > 0, "chat of a disposed store");
            chat.Dispose();
            Check.Throws<ObjectDisposedException>(() => chat.Send("x"), "Send after Dispose");
            Agent agent = Env.Engine.NewAgent();
            agent.Dispose();
            Check.Throws<ObjectDisposedException>(() => agent.Run("x"), "Run after Dispose");
            Rag rag = Rag.Open(":memory:");
            rag.Dispose();
            Check.Throws<ObjectDisposedException>(() => rag.Search("x", 1), "Search after Dispose");
        }

        [Test]
        static void BadInputIsRefused()
        {
            var a = Check.Throws<ArgumentException>(() => Env.Engine.Tokenize("a\0b", false), "NUL character");
            Check.True(a.Message.Contains("NUL"), a.Message);
            Check.Throws<ArgumentException>(() => Env.Engine.Tokenize("bad \ud800 surrogate", false), "lone surrogate");
            var r = Check.Throws<StemmaException>(() => Env.Engine.Detokenize(new[] { 1 << 30 }), "token outside the vocabulary");
            Check.Equal(Status.OutOfRange, r.Status, "status");
            var s = Check.Throws<StemmaException>(() => Env.Engine.Generate("x", new GenOptions { JsonSchema = "{not json" }), "bad schema");
            Check.True(s.Detail.Length > 0, "message");
        }

        // Not inlined, so nothing it made is still referenced from the caller's frame.
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        static void MakeAndDrop()
        {
            Engine e = Env.OpenEngine();
            Stemma.Program p = e.NewProgram();
            p.Append("Hello");
            p.Gen("x", new GenOptions { MaxTokens = 4 }, piece => true); // maybe still queued
            Agent a = e.NewAgent();
            a.AddTool("noop", "Does nothing", "{\"type\": \"object\"}", args => "");
            ChatStore s = ChatStore.Open(":memory:");
            Chat c = e.NewChat(s);
            Rag r = Rag.Open(":memory:");
            r.Search("x", 1);
            Check.True(c.Id > 0, "chat id");
        }

        [Test]
        static void FinalizersFreeDroppedHandles()
        {
            int before = StemmaHandle.Freed;
            MakeAndDrop();
            // Engine, program, agent, chat store, chat, rag: six C objects, none disposed by hand.
            // Dependents hold references on their engine/store handles, so whatever order the
            // finalizers run in, the engine is freed last.
            for (int i = 0; i < 50 && StemmaHandle.Freed - before < 6; i++)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
            Check.Equal(6, StemmaHandle.Freed - before, "handles freed by finalizers");
        }
    }
}
