using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using Stemma;

namespace StemmaTests
{
    static class ProgramTests
    {
        [Test]
        static void ForkSharesThePrefix()
        {
            Engine e = Env.Engine;
            using (Stemma.Program p = e.NewProgram())
            {
                p.Message("system", Env.FaqSystemPrompt);
                p.Message("user", "Where can I download the Lumora app?");
                string prefix = p.Text();
                int prefixTokens = e.Tokenize(prefix, true).Length;
                EngineStats before = e.Stats();
                Stemma.Program[] forks = p.Fork(4);
                try
                {
                    var streamed = forks.Select(_ => new StringBuilder()).ToArray();
                    for (int i = 0; i < forks.Length; i++)
                    {
                        StringBuilder sb = streamed[i];
                        forks[i].RoleBegin("assistant");
                        forks[i].Gen("reply", new GenOptions { MaxTokens = 12 }, piece => { lock (sb) sb.Append(piece); return true; });
                        forks[i].RoleEnd();
                    }
                    Stemma.Program.Join(forks);
                    EngineStats after = e.Stats();
                    string first = forks[0].Get("reply");
                    for (int i = 0; i < forks.Length; i++)
                    {
                        string reply = forks[i].Get("reply");
                        string text = forks[i].Text();
                        Check.True(reply.Length > 0, "reply");
                        lock (streamed[i]) Check.Equal(reply, streamed[i].ToString(), "streamed reply of fork " + i);
                        Check.True(text.StartsWith(prefix, StringComparison.Ordinal) && text.Substring(prefix.Length).Contains(reply), "text of fork " + i);
                        Check.Equal(first, reply, "greedy forks of one state");
                    }
                    // At least three of the four forks are served the prefix from the cache (less
                    // one page each at most, for the page the prefix ends in).
                    long cached = after.CachedTokens - before.CachedTokens;
                    long want = 3L * (prefixTokens - 16);
                    Console.WriteLine("  prefix " + prefixTokens + " tokens, cached " + cached + " during the forks (want >= " + want + ")");
                    Check.True(cached >= want, "cached " + cached + " prompt tokens, want >= " + want);
                    var nf = Check.Throws<StemmaException>(() => forks[0].Get("never-set"), "unset variable");
                    Check.Equal(Status.NotFound, nf.Status, "status");
                }
                finally
                {
                    foreach (var f in forks) f.Dispose();
                }
            }
        }

        [Test]
        static void SelectPicksAChoice()
        {
            using (var p = Env.Engine.NewProgram())
            {
                p.Append("Is the sky blue? Answer: ");
                p.Select("answer", "yes", "no");
                p.Wait();
                string got = p.Get("answer");
                Check.True(got == "yes" || got == "no", "selected " + got);
            }
        }

        [Test]
        static void RunBatchRunsEveryIndex()
        {
            var got = new string[3];
            string[] users = { "hi", "What is Lumora?", "Is there an app?" };
            Env.Engine.RunBatch(3, 0, (i, p) =>
            {
                p.Message("user", users[i]);
                p.RoleBegin("assistant");
                p.Gen("out", new GenOptions { MaxTokens = 6 });
                got[i] = p.Get("out");
            });
            Check.True(got.All(s => !string.IsNullOrEmpty(s)), "every index produced text");
            var e = Check.Throws<InvalidOperationException>(
                () => Env.Engine.RunBatch(2, 1, (i, p) => { throw new InvalidOperationException("stop here"); }), "fn's exception");
            Check.Equal("stop here", e.Message, "message");
        }

        [Test]
        static void DisposedProgramIsRefused()
        {
            var p = Env.Engine.NewProgram();
            p.Dispose();
            p.Dispose(); // twice is fine
            Check.Throws<ObjectDisposedException>(() => p.Append("x"), "Append after Dispose");
            Check.Throws<ObjectDisposedException>(() => p.Fork(2), "Fork after Dispose");
        }

        [Test]
        static void QueuedGenErrorSurfaces()
        {
            using (var p = Env.Engine.NewProgram())
            {
                // A gen is queued: a bad schema is refused either when queued or by Wait, never lost.
                var e = Check.Throws<StemmaException>(() => { p.Gen("x", new GenOptions { JsonSchema = "{not json" }); p.Wait(); },
                                                      "bad schema in a queued gen");
                Check.True(e.Detail.Length > 0, "message");
                p.Wait(); // cleared
            }
        }
    }
}
