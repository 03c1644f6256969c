using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;
using Stemma;

namespace StemmaTests
{
    static class EngineTests
    {
        [Test]
        static void VersionsMatch()
        {
            Check.Equal(1u, Engine.AbiVersion, "ABI version");
            Check.True(Engine.LibraryVersion.Length > 0, "library version");
            Check.Equal("NOT_FOUND", StemmaException.StatusName(Status.NotFound), "status name");
        }

        [Test]
        static void StructLayoutsMatchTheLibrary()
        {
            // The library's *_init writes its own sizeof into struct_size: it must be ours.
            Check.Equal((long)Marshal.SizeOf(typeof(NativeEngineOptions)), Native.LibrarySize(Native.stemma_engine_options_init), "engine options");
            Check.Equal((long)Marshal.SizeOf(typeof(NativeEngineStats)), Native.LibrarySize(Native.stemma_engine_stats_init), "engine stats");
            Check.Equal((long)Marshal.SizeOf(typeof(NativeGenOptions)), Native.LibrarySize(Native.stemma_gen_options_init), "gen options");
            Check.Equal((long)Marshal.SizeOf(typeof(NativeAgentOptions)), Native.LibrarySize(Native.stemma_agent_options_init), "agent options");
            // And the defaults it fills reach us field by field (stemma.h documents them).
            NativeGenOptions g = Native.Init<NativeGenOptions>(Native.stemma_gen_options_init);
            Check.Equal(128, g.MaxTokens, "default max_tokens");
            Check.Equal(1f, g.TopP, "default top_p");
            Check.Equal(1, g.JumpForward, "default jump_forward");
            NativeAgentOptions a = Native.Init<NativeAgentOptions>(Native.stemma_agent_options_init);
            Check.Equal(8, a.MaxSteps, "default max_steps");
            Check.Equal(256, a.MaxTokens, "default agent max_tokens");
        }

        [Test]
        static void ModelInfoDescribesTheModel()
        {
            JsonValue info = Env.Engine.ModelInfo();
            // docs/demo-model.md: a llama model with a 4096-token vocabulary.
            Check.Equal("llama", info["architecture"].AsString(), "architecture");
            Check.Equal(4096L, info["vocab_size"].AsLong(), "vocab_size");
        }

        [Test]
        static void BackendChoice()
        {
            // No GPU here: Cuda is refused naming it (Unsupported without the CUDA backend,
            // FailedPrecondition without a usable GPU); Cpu and Auto run on the CPU and say so.
            var e = Check.Throws<StemmaException>(
                () => Engine.Open(Env.ModelPath, new EngineOptions { Threads = 1, KvMemoryBytes = 16L << 20, Backend = Backend.Cuda }),
                "cuda without a GPU");
            Check.True(e.Status == Status.Unsupported || e.Status == Status.FailedPrecondition, "cuda status: " + e.Status);
            Check.True(e.Detail.Contains("cuda"), "cuda named: " + e.Detail);
            var bad = Check.Throws<StemmaException>(
                () => Engine.Open(Env.ModelPath, new EngineOptions { Backend = (Backend)7 }), "backend 7");
            Check.Equal(Status.InvalidArgument, bad.Status, "backend 7 status");
            using (Engine cpu = Engine.Open(Env.ModelPath, new EngineOptions { Threads = 1, KvMemoryBytes = 16L << 20, Backend = Backend.Cpu, SharedPrefixAttention = false }))
            {
                JsonValue info = cpu.ModelInfo();
                Check.Equal("cpu", info["backend"].AsString(), "cpu backend");
                Check.Equal("", info["backend_note"].AsString(), "cpu backend note");
            }
            JsonValue auto = Env.Engine.ModelInfo();
            Check.Equal("cpu", auto["backend"].AsString(), "auto falls back to the CPU");
            Check.True(auto["backend_note"].AsString().StartsWith("auto: "), "auto note");
        }

        [Test]
        static void StreamedPiecesMakeTheText()
        {
            string prompt = Env.ChatPrompt("How do I reset my Lumora hub?");
            var opts = new GenOptions { MaxTokens = 40 };
            var pieces = new List<string>();
            Generation gen = Env.Engine.GenerateStream(prompt, opts, p => { lock (pieces) pieces.Add(p); return true; });
            Check.True(pieces.Count >= 2, "pieces: " + pieces.Count);
            Check.True(gen.Text.Length > 0, "text");
            Check.Equal(gen.Text, string.Concat(pieces), "pieces make the text");
            Check.True(gen.Finish == FinishReason.Stop || gen.Finish == FinishReason.Length, "finish " + gen.Finish);
            // Greedy decoding is deterministic.
            Check.Equal(gen.Text, Env.Engine.Generate(prompt, opts).Text, "second greedy run");
        }

        [Test]
        static void StreamCanCancel()
        {
            var got = new List<string>();
            Generation gen = Env.Engine.GenerateStream(Env.ChatPrompt("What is the warranty?"), new GenOptions { MaxTokens = 64 },
                                                      p => { got.Add(p); return got.Count < 3; });
            Check.Equal(FinishReason.Cancelled, gen.Finish, "finish");
            Check.Equal(3, got.Count, "pieces");
            Check.Equal(string.Concat(got), gen.Text, "text so far");
        }

        [Test]
        static void StreamExceptionReachesTheCaller()
        {
            var e = Check.Throws<InvalidOperationException>(
                () => Env.Engine.GenerateStream("Hello", new GenOptions { MaxTokens = 8 }, p => { throw new InvalidOperationException("boom"); }),
                "exception in the stream callback");
            Check.Equal("boom", e.Message, "message");
            Check.True(Env.Engine.Generate("Hello", new GenOptions { MaxTokens = 2 }) != null, "engine works afterwards");
        }

        [Test]
        static void JsonSchemaOutputParses()
        {
            const string schema = "{\"type\": \"object\", \"properties\": {\"answer\": {\"type\": \"string\", \"maxLength\": 60}, " +
                                  "\"escalate\": {\"type\": \"boolean\"}}, \"required\": [\"answer\", \"escalate\"], \"additionalProperties\": false}";
            Generation gen = Env.Engine.Generate(Env.ChatPrompt("Can I use the hub without WiFi?"),
                                                 new GenOptions { MaxTokens = 120, JsonSchema = schema });
            JsonValue v = Json.Parse(gen.Text);
            Check.Equal(JsonKind.Object, v.Kind, "kind of " + gen.Text);
            Check.Equal("answer,escalate", string.Join(",", v.Members.Select(m => m.Key)), "keys of " + gen.Text);
            Check.Equal(JsonKind.String, v["answer"].Kind, "answer");
            Check.True(v["answer"].String.Length <= 60, "maxLength");
            Check.Equal(JsonKind.Bool, v["escalate"].Kind, "escalate");
        }

        [Test]
        static void TokenizeRoundTrips()
        {
            const string text = "Hello, Lumora! Ünïcödé ✓ 42 <|im_start|>user\n";
            int[] toks = Env.Engine.Tokenize(text, false);
            Check.Equal(text, Env.Engine.Detokenize(toks), "round trip");
            // <|im_start|> is one token, id 1; BOS is <|endoftext|>, id 0 (docs/demo-model.md).
            Check.True(toks.Contains(1), "special token");
            int[] withBos = Env.Engine.Tokenize(text, true);
            Check.Equal(0, withBos[0], "BOS");
            Check.True(withBos.Skip(1).SequenceEqual(toks), "the rest is unchanged");
            Check.Equal("", Env.Engine.Detokenize(new int[0]), "no tokens");
        }

        [Test]
        static void FormatChatFollowsTheTemplate()
        {
            Check.Equal("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n",
                        Env.Engine.FormatChat(new[] { new ChatMessage("user", "hi") }), "rendered");
        }

        [Test]
        static void ConcurrentGenerationsFromThreads()
        {
            string prompt = Env.ChatPrompt("Does the sensor need batteries?");
            var opts = new GenOptions { MaxTokens = 16 };
            string alone = Env.Engine.Generate(prompt, opts).Text;
            var results = new string[4];
            var threads = Enumerable.Range(0, 4).Select(i => new Thread(() => results[i] = Env.Engine.Generate(prompt, opts).Text)).ToList();
            threads.ForEach(t => t.Start());
            threads.ForEach(t => t.Join());
            foreach (string r in results)
                Check.Equal(alone, r, "a thread's text");
        }
    }
}
