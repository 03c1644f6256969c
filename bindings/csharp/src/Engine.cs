using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Text;

namespace Stemma
{
    /// <summary>Options for Engine.Open; defaults are the library's.</summary>
    public sealed class EngineOptions
    {
        /// <summary>Backend threads; 0: one per hardware thread.</summary>
        public int Threads { get; set; }
        /// <summary>KV positions per page; 0: 16.</summary>
        public int PageSize { get; set; }
        /// <summary>KV cache size; 0: 512 MiB.</summary>
        public long KvMemoryBytes { get; set; }
        /// <summary>Tokens per engine step; 0: 2048.</summary>
        public int MaxBatchTokens { get; set; }
        /// <summary>Share the KV cache of common prefixes (default true).</summary>
        public bool RadixCache { get; set; }
        /// <summary>Where the model runs (default Auto); ModelInfo()'s "backend" says which.</summary>
        public Backend Backend { get; set; }
        /// <summary>GPU index for Cuda and Auto; default 0.</summary>
        public int Device { get; set; }
        /// <summary>CUDA: KV cache cap; 0: 90% of the GPU memory left after the weights.</summary>
        public long GpuKvMemoryBytes { get; set; }
        /// <summary>CUDA: read a prefix cached for several requests once per batch (default
        /// true; false is the baseline).</summary>
        public bool SharedPrefixAttention { get; set; }

        public EngineOptions()
        {
            RadixCache = true;
            SharedPrefixAttention = true;
        }
    }

    /// <summary>Where an engine runs its model (STEMMA_BACKEND_*).</summary>
    public enum Backend
    {
        /// <summary>The GPU when the library has CUDA and the GPU answers, else the CPU.</summary>
        Auto = 0,
        Cpu = 1,
        /// <summary>The GPU: UnsupportedException on a library built without CUDA,
        /// FailedPreconditionException where no GPU is usable.</summary>
        Cuda = 2,
    }

    /// <summary>The engine's counters since it was opened.</summary>
    public struct EngineStats
    {
        public long CachedTokens, PrefillTokens, ComputedTokens, GeneratedTokens, JumpForwardTokens;
        public long EvictedPages, Preemptions, Steps;
        public int PagesInUse, PagesTotal, CachedPages, Running, Queued;
    }

    /// <summary>A chat message.</summary>
    public sealed class ChatMessage
    {
        public string Role { get; private set; }
        public string Content { get; private set; }

        public ChatMessage(string role, string content)
        {
            Role = role;
            Content = content;
        }

        internal static string ListToJson(IEnumerable<ChatMessage> messages)
        {
            var sb = new StringBuilder("[");
            foreach (ChatMessage m in messages)
            {
                if (sb.Length > 1) sb.Append(',');
                sb.Append("{\"role\":").Append(Json.Quote(m.Role)).Append(",\"content\":").Append(Json.Quote(m.Content)).Append('}');
            }
            return sb.Append(']').ToString();
        }

        internal static List<ChatMessage> ListFromJson(string json)
        {
            var list = new List<ChatMessage>();
            foreach (JsonValue m in Json.Parse(json).Items)
                list.Add(new ChatMessage(m["role"].AsString(), m["content"].AsString()));
            return list;
        }
    }

    /// <summary>A loaded model with its KV cache and worker thread. Thread-safe: concurrent
    /// generations from many threads are batched together. Programs, chats and agents made from
    /// it keep it alive; Dispose frees the C engine once they are disposed too.</summary>
    public sealed partial class Engine : IDisposable
    {
        readonly EngineHandle handle;

        Engine(EngineHandle handle) { this.handle = handle; }

        /// <summary>The handle for a call; ObjectDisposedException after Dispose.</summary>
        internal EngineHandle Handle
        {
            get
            {
                handle.ThrowIfClosed("Engine");
                return handle;
            }
        }

        /// <summary>STEMMA_ABI_VERSION of the loaded library.</summary>
        public static uint AbiVersion { get { return Native.stemma_abi_version(); } }

        /// <summary>The loaded library's version, e.g. "0.1.0".</summary>
        public static string LibraryVersion { get { return Utf8.Read(Native.stemma_version()); } }

        /// <summary>Loads a model: a .gguf file or a folder with config.json and *.safetensors.</summary>
        public static Engine Open(string modelPath, EngineOptions options = null)
        {
            if (modelPath == null) throw new ArgumentNullException("modelPath");
            var o = Native.Init<NativeEngineOptions>(Native.stemma_engine_options_init);
            using (var strings = new NativeStrings())
            {
                o.ModelPath = strings.Add("modelPath", modelPath);
                if (options != null)
                {
                    if (options.Threads != 0) o.Threads = options.Threads;
                    if (options.PageSize != 0) o.PageSize = options.PageSize;
                    if (options.KvMemoryBytes != 0) o.KvMemoryBytes = options.KvMemoryBytes;
                    if (options.MaxBatchTokens != 0) o.MaxBatchTokens = options.MaxBatchTokens;
                    if (!options.RadixCache) o.RadixCache = 0;
                    o.Backend = (int)options.Backend;
                    o.Device = options.Device;
                    o.GpuKvMemoryBytes = options.GpuKvMemoryBytes;
                    o.SharedPrefixAttention = options.SharedPrefixAttention ? 1 : 0;
                }
                EngineHandle h;
                int st = Native.stemma_engine_open(ref o, out h);
                if (st != 0)
                {
                    h.Dispose();
                    Native.Check(st);
                }
                return new Engine(h);
            }
        }

        public void Dispose() { handle.CloseOnce(); }

        public EngineStats Stats()
        {
            var s = Native.Init<NativeEngineStats>(Native.stemma_engine_stats_init);
            Native.Check(Native.stemma_engine_stats_get(Handle, ref s));
            return new EngineStats
            {
                CachedTokens = s.CachedTokens, PrefillTokens = s.PrefillTokens, ComputedTokens = s.ComputedTokens,
                GeneratedTokens = s.GeneratedTokens, JumpForwardTokens = s.JumpForwardTokens,
                EvictedPages = s.EvictedPages, Preemptions = s.Preemptions, Steps = s.Steps,
                PagesInUse = s.PagesInUse, PagesTotal = s.PagesTotal, CachedPages = s.CachedPages,
                Running = s.Running, Queued = s.Queued,
            };
        }

        /// <summary>The model's description: {"architecture", "vocab_size", "context_length", ...}.</summary>
        public JsonValue ModelInfo()
        {
            IntPtr json;
            Native.Check(Native.stemma_engine_model_info(Handle, out json));
            return Json.Parse(Utf8.Take(json));
        }

        /// <summary>Text to token ids; addSpecial adds BOS/EOS as the model says.</summary>
        public int[] Tokenize(string text, bool addSpecial)
        {
            IntPtr toks;
            UIntPtr n;
            Native.Check(Native.stemma_tokenize(Handle, Utf8.Z("text", text), addSpecial ? 1 : 0, out toks, out n));
            try
            {
                var result = new int[checked((int)n.ToUInt64())];
                if (result.Length > 0)
                    Marshal.Copy(toks, result, 0, result.Length);
                return result;
            }
            finally
            {
                Native.stemma_tokens_free(toks);
            }
        }

        public string Detokenize(int[] tokens)
        {
            if (tokens == null) throw new ArgumentNullException("tokens");
            IntPtr text;
            Native.Check(Native.stemma_detokenize(Handle, tokens.Length == 0 ? null : tokens, (UIntPtr)tokens.Length, out text));
            return Utf8.Take(text);
        }

        /// <summary>Renders messages with the model's chat template; toolsJson is null or a JSON
        /// array of tool definitions.</summary>
        public string FormatChat(IEnumerable<ChatMessage> messages, string toolsJson = null, bool addGenerationPrompt = true)
        {
            IntPtr text;
            Native.Check(Native.stemma_chat_format(Handle, Utf8.Z("messages", ChatMessage.ListToJson(messages)),
                                                   Utf8.OptZ("toolsJson", toolsJson), addGenerationPrompt ? 1 : 0, out text));
            return Utf8.Take(text);
        }

        /// <summary>Continues prompt (plain text; BOS added as the model says); blocks until done.</summary>
        public Generation Generate(string prompt, GenOptions options = null)
        {
            return GenerateStream(prompt, options, null);
        }

        /// <summary>Generate, calling onPiece with each piece of text as it is produced (on a
        /// Stemma thread). Return false to stop: the result then has Finish == Cancelled and the
        /// text so far.</summary>
        public Generation GenerateStream(string prompt, GenOptions options, Func<string, bool> onPiece)
        {
            byte[] p = Utf8.Z("prompt", prompt);
            StreamCallback cb = StreamCallback.Make(onPiece);
            using (var strings = new NativeStrings())
            {
                NativeGenOptions o = GenOptions.ToNative(options, strings);
                IntPtr text;
                int finish;
                int st = Native.stemma_generate(Handle, p, ref o, StreamCallback.For(cb), IntPtr.Zero, out text, out finish);
                string result = Utf8.Take(text);
                StreamCallback.Finish(st, cb);
                return new Generation(result ?? "", st == (int)Status.Cancelled ? FinishReason.Cancelled : (FinishReason)finish);
            }
        }
    }
}
