using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using Stemma;

namespace StemmaTests
{
    static class ChatTests
    {
        static string Encode(IList<ChatMessage> h)
        {
            return "[" + string.Join(",", h.Select(m => "[" + Json.Quote(m.Role) + "," + Json.Quote(m.Content) + "]")) + "]";
        }

        static List<ChatMessage> Decode(JsonValue v)
        {
            return v.Items.Select(m => new ChatMessage(m.Items[0].String, m.Items[1].String)).ToList();
        }

        static bool Same(IList<ChatMessage> a, IList<ChatMessage> b)
        {
            return a.Count == b.Count && a.Zip(b, (x, y) => x.Role == y.Role && x.Content == y.Content).All(s => s);
        }

        /// <summary>The second process of ChatPersistsAcrossProcesses: resumes the session from the
        /// store file, sends one more message and prints what it saw as JSON.</summary>
        internal static int Child(string[] args)
        {
            using (Engine e = Env.OpenEngine())
            using (ChatStore store = ChatStore.Open(args[1]))
            using (Chat chat = e.ResumeChat(store, long.Parse(args[2])))
            {
                IList<ChatMessage> before = chat.History();
                string reply = chat.Send("And how long is the warranty?", new GenOptions { MaxTokens = 24 });
                IList<ChatMessage> after = chat.History();
                Console.WriteLine("{\"before\":" + Encode(before) + ",\"reply\":" + Json.Quote(reply) + ",\"after\":" + Encode(after) + "}");
            }
            return 0;
        }

        [Test]
        static void ChatPersistsAcrossProcesses()
        {
            string dir = Path.Combine(Path.GetTempPath(), "stemma-cs-chat-" + Process.GetCurrentProcess().Id);
            Directory.CreateDirectory(dir);
            string db = Path.Combine(dir, "chats.db");
            if (File.Exists(db)) File.Delete(db);
            long id;
            string reply;
            IList<ChatMessage> history;
            using (ChatStore store = ChatStore.Open(db))
            using (Chat chat = Env.Engine.NewChat(store, Env.FaqSystemPrompt))
            {
                var streamed = new StringBuilder();
                reply = chat.Send("How do I reset my hub?", new GenOptions { MaxTokens = 24 }, p => { streamed.Append(p); return true; });
                Check.True(reply.Length > 0, "reply");
                Check.Equal(reply, streamed.ToString(), "streamed reply");
                id = chat.Id;
                history = chat.History();
                Check.Equal("assistant", history.Last().Role, "last role");
                Check.Equal(reply, history.Last().Content, "last content");
            }

            // mono runs this same assembly again as the second process.
            string self = typeof(ChatTests).Assembly.Location;
            var psi = new ProcessStartInfo("mono", "--debug \"" + self + "\" --chat-child \"" + db + "\" " + id)
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
            };
            string output;
            using (Process child = Process.Start(psi))
            {
                output = child.StandardOutput.ReadToEnd();
                child.WaitForExit();
                Check.Equal(0, child.ExitCode, "child exit code (output: " + output + ")");
            }
            string line = output.Split('\n').First(l => l.StartsWith("{\"before\"", StringComparison.Ordinal));
            JsonValue v = Json.Parse(line);
            List<ChatMessage> before = Decode(v["before"]), after = Decode(v["after"]);
            string childReply = v["reply"].String;
            // The new process saw exactly the stored history, then added one turn.
            Check.True(Same(history, before), "resumed history");
            int n = history.Count;
            Check.Equal(n + 2, after.Count, "messages after the resumed turn");
            Check.Equal("And how long is the warranty?", after[n].Content, "resumed user message");
            Check.Equal(childReply, after[n + 1].Content, "resumed reply");
            Check.True(childReply.Length > 0, "child reply");

            // A new store handle in this process sees that turn too.
            using (ChatStore store2 = ChatStore.Open(db))
            using (Chat again = Env.Engine.ResumeChat(store2, id))
                Check.True(Same(after, again.History()), "history from a new handle");
            Directory.Delete(dir, true);
        }

        [Test]
        static void ChatWithoutStoreHasNoId()
        {
            using (Chat chat = Env.Engine.NewChat(null))
            {
                var e = Check.Throws<StemmaException>(() => { long unused = chat.Id; }, "Id of an unpersisted chat");
                Check.Equal(Status.FailedPrecondition, e.Status, "status");
            }
            using (ChatStore mem = ChatStore.Open(":memory:"))
            {
                var e = Check.Throws<StemmaException>(() => Env.Engine.ResumeChat(mem, 987654), "resume a missing session");
                Check.Equal(Status.NotFound, e.Status, "status");
            }
        }
    }
}
