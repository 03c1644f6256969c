// A small test runner (no NUnit on Debian's mono): every static method marked [Test] in this
// assembly runs in turn; the exit code is the number of failures (0: all passed).
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Reflection;
using Stemma;

namespace StemmaTests
{
    [AttributeUsage(AttributeTargets.Method)]
    sealed class TestAttribute : Attribute { }

    sealed class AssertionException : Exception
    {
        public AssertionException(string m) : base(m) { }
    }

    static class Check
    {
        public static void True(bool cond, string what)
        {
            if (!cond) throw new AssertionException(what);
        }

        public static void Equal<T>(T expected, T actual, string what)
        {
            if (!EqualityComparer<T>.Default.Equals(expected, actual))
                throw new AssertionException(what + ": expected <" + expected + ">, got <" + actual + ">");
        }

        public static TE Throws<TE>(Action a, string what) where TE : Exception
        {
            try
            {
                a();
            }
            catch (TE e)
            {
                return e;
            }
            catch (Exception e)
            {
                throw new AssertionException(what + ": expected " + typeof(TE).Name + ", got " + e.GetType().Name + ": " + e.Message);
            }
            throw new AssertionException(what + ": expected " + typeof(TE).Name + ", nothing was thrown");
        }
    }

    static class Env
    {
        /// <summary>The demo model's system prompt (docs/demo-model.md).</summary>
        public const string FaqSystemPrompt = "You are Lumi, the customer support assistant of Lumora Home, a maker of smart home devices. Answer only from the FAQ context. Reply with one JSON object: {\"answer\": \"...\", \"source_ids\": [\"faq-...\"], \"escalate\": false}. If the context does not answer the question, reply with escalate true and empty source_ids. Tools: lookup_order(order_id) for an order number like LM-123456, and create_ticket(summary) when the customer asks for a human or a ticket. To call a tool, reply with <tool_call>{\"name\": \"...\", \"arguments\": {...}}</tool_call>.";

        static Engine shared;

        public static string SourceDir
        {
            get
            {
                string d = Environment.GetEnvironmentVariable("STEMMA_SOURCE_DIR");
                return string.IsNullOrEmpty(d) ? Path.Combine(AppDomain.CurrentDomain.BaseDirectory, "..", "..", "..") : d;
            }
        }

        public static string ModelPath
        {
            get
            {
                string p = Environment.GetEnvironmentVariable("STEMMA_TEST_MODEL");
                return string.IsNullOrEmpty(p) ? Path.Combine(SourceDir, "models", "stemma-faq.gguf") : p;
            }
        }

        public static Engine OpenEngine()
        {
            return Engine.Open(ModelPath, new EngineOptions { Threads = 2 });
        }

        /// <summary>One engine shared by the tests (opening the model once keeps them fast).</summary>
        public static Engine Engine
        {
            get { return shared ?? (shared = OpenEngine()); }
        }

        public static void Close()
        {
            if (shared != null) shared.Dispose();
            shared = null;
        }

        /// <summary>An eval item's user turn with its retrieval context, as an agent task: the
        /// agent renders system + user, so with the context riding in the user turn its first
        /// prompt is the eval prompt the model was trained on (it never saw a user turn without a
        /// context block).</summary>
        public static string EvalTask(string id)
        {
            // The eval prompts the model's behaviour was measured on (tests/fixtures/faq-model).
            string path = Path.Combine(SourceDir, "tests", "fixtures", "faq-model", "hf_greedy_prompts.jsonl");
            foreach (string line in File.ReadLines(path))
            {
                JsonValue row = Json.Parse(line);
                if (row["id"].String != id) continue;
                string prompt = row["prompt"].String;
                const string user = "<|im_start|>user\n", tail = "<|im_end|>\n<|im_start|>assistant\n";
                string task = prompt.Substring(prompt.IndexOf(user, StringComparison.Ordinal) + user.Length);
                return task.EndsWith(tail, StringComparison.Ordinal) ? task.Substring(0, task.Length - tail.Length) : task;
            }
            throw new InvalidOperationException("no eval prompt " + id);
        }

        public static string ChatPrompt(string user)
        {
            return Engine.FormatChat(new[] { new ChatMessage("system", FaqSystemPrompt), new ChatMessage("user", user) });
        }
    }

    static class TestMain
    {
        static int Main(string[] args)
        {
            if (args.Length > 0 && args[0] == "--chat-child")
                return ChatTests.Child(args);
            string filter = args.Length > 0 ? args[0] : null;
            var tests = typeof(TestMain).Assembly.GetTypes()
                .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic))
                .Where(m => m.GetCustomAttributes(typeof(TestAttribute), false).Length > 0)
                .Where(m => filter == null || (m.DeclaringType.Name + "." + m.Name).Contains(filter))
                .OrderBy(m => m.DeclaringType.Name + "." + m.Name)
                .ToList();
            int failed = 0;
            foreach (MethodInfo m in tests)
            {
                string name = m.DeclaringType.Name + "." + m.Name;
                var sw = Stopwatch.StartNew();
                try
                {
                    m.Invoke(null, null);
                    Console.WriteLine("PASS " + name + " (" + sw.ElapsedMilliseconds + " ms)");
                }
                catch (TargetInvocationException e)
                {
                    failed++;
                    Console.WriteLine("FAIL " + name + ": " + e.InnerException);
                }
            }
            Env.Close();
            // Finalizers of anything not disposed run now, inside the test (ASan sees their frees).
            GC.Collect();
            GC.WaitForPendingFinalizers();
            Console.WriteLine((tests.Count - failed) + " of " + tests.Count + " tests passed");
            return tests.Count == 0 ? 1 : failed;
        }
    }
}
