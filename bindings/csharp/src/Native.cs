// Raw P/Invoke declarations of capi/stemma.h. Strings in are NUL-terminated UTF-8 byte arrays
// (Utf8.Z); strings out are IntPtr, copied and released with stemma_string_free (Utf8.Take).
using System;
using System.Runtime.InteropServices;

[assembly: System.Runtime.CompilerServices.InternalsVisibleTo("StemmaTests")]

namespace Stemma
{
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    internal delegate int NativeStreamFn(IntPtr userData, IntPtr piece, UIntPtr length);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    internal delegate int NativeProgramFn(IntPtr userData, UIntPtr index, IntPtr program);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    internal delegate int NativeToolFn(IntPtr userData, IntPtr argumentsJson, IntPtr result);

    [StructLayout(LayoutKind.Sequential)]
    internal struct NativeEngineOptions
    {
        public UIntPtr StructSize;
        public IntPtr ModelPath;
        public int Threads;
        public int PageSize;
        public long KvMemoryBytes;
        public int MaxBatchTokens;
        public int RadixCache;
        // Appended in the struct's second version.
        public int Backend;
        public int Device;
        public long GpuKvMemoryBytes;
        public int SharedPrefixAttention;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct NativeEngineStats
    {
        public UIntPtr StructSize;
        public long CachedTokens;
        public long PrefillTokens;
        public long ComputedTokens;
        public long GeneratedTokens;
        public long JumpForwardTokens;
        public long EvictedPages;
        public long Preemptions;
        public long Steps;
        public int PagesInUse;
        public int PagesTotal;
        public int CachedPages;
        public int Running;
        public int Queued;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct NativeGenOptions
    {
        public UIntPtr StructSize;
        public int MaxTokens;
        public float Temperature;
        public int TopK;
        public float TopP;
        public float MinP;
        public ulong Seed;
        public float RepetitionPenalty;
        public IntPtr Stop;
        public UIntPtr NumStop;
        public IntPtr Regex;
        public IntPtr JsonSchema;
        public int JumpForward;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct NativeAgentOptions
    {
        public UIntPtr StructSize;
        public IntPtr SystemPrompt;
        public int MaxSteps;
        public int MaxTokens;
        public float Temperature;
        public ulong Seed;
        public IntPtr AnswerSchema;
        public int ToolChoice;
    }

    internal static class Native
    {
        const string Lib = "stemma";

        [DllImport(Lib)] internal static extern uint stemma_abi_version();
        [DllImport(Lib)] internal static extern IntPtr stemma_version();
        [DllImport(Lib)] internal static extern IntPtr stemma_status_name(int status);
        [DllImport(Lib)] internal static extern IntPtr stemma_last_error();
        [DllImport(Lib)] internal static extern void stemma_string_free(IntPtr text);
        [DllImport(Lib)] internal static extern void stemma_tokens_free(IntPtr tokens);

        // The *_init functions take IntPtr: they run on a scratch buffer (see Init<T>).
        [DllImport(Lib)] internal static extern void stemma_engine_options_init(IntPtr options);
        [DllImport(Lib)] internal static extern int stemma_engine_open(ref NativeEngineOptions options, out EngineHandle engine);
        [DllImport(Lib)] internal static extern void stemma_engine_free(IntPtr engine);
        [DllImport(Lib)] internal static extern void stemma_engine_stats_init(IntPtr stats);
        [DllImport(Lib)] internal static extern int stemma_engine_stats_get(EngineHandle engine, ref NativeEngineStats stats);
        [DllImport(Lib)] internal static extern int stemma_engine_model_info(EngineHandle engine, out IntPtr json);
        [DllImport(Lib)] internal static extern int stemma_tokenize(EngineHandle engine, byte[] text, int addSpecial, out IntPtr tokens, out UIntPtr count);
        [DllImport(Lib)] internal static extern int stemma_detokenize(EngineHandle engine, int[] tokens, UIntPtr count, out IntPtr text);
        [DllImport(Lib)] internal static extern int stemma_chat_format(EngineHandle engine, byte[] messagesJson, byte[] toolsJson, int addGenerationPrompt, out IntPtr text);

        [DllImport(Lib)] internal static extern void stemma_gen_options_init(IntPtr options);
        [DllImport(Lib)] internal static extern int stemma_generate(EngineHandle engine, byte[] prompt, ref NativeGenOptions options, NativeStreamFn stream, IntPtr userData, out IntPtr text, out int finish);

        [DllImport(Lib)] internal static extern int stemma_program_new(EngineHandle engine, out ProgramHandle program);
        [DllImport(Lib)] internal static extern void stemma_program_free(IntPtr program);
        [DllImport(Lib)] internal static extern int stemma_program_append(ProgramHandle program, byte[] text);
        [DllImport(Lib)] internal static extern int stemma_program_message(ProgramHandle program, byte[] role, byte[] content);
        [DllImport(Lib)] internal static extern int stemma_program_role_begin(ProgramHandle program, byte[] role);
        [DllImport(Lib)] internal static extern int stemma_program_role_end(ProgramHandle program);
        [DllImport(Lib)] internal static extern int stemma_program_gen(ProgramHandle program, byte[] name, ref NativeGenOptions options, NativeStreamFn stream, IntPtr userData);
        [DllImport(Lib)] internal static extern int stemma_program_select(ProgramHandle program, byte[] name, IntPtr choices, UIntPtr numChoices);
        [DllImport(Lib)] internal static extern int stemma_program_get(ProgramHandle program, byte[] name, out IntPtr value);
        [DllImport(Lib)] internal static extern int stemma_program_text(ProgramHandle program, out IntPtr text);
        [DllImport(Lib)] internal static extern int stemma_program_wait(ProgramHandle program);
        [DllImport(Lib)] internal static extern int stemma_program_fork(ProgramHandle program, UIntPtr count, [Out] IntPtr[] forks);
        [DllImport(Lib)] internal static extern int stemma_program_join(IntPtr[] programs, UIntPtr count);
        [DllImport(Lib)] internal static extern int stemma_program_run_batch(EngineHandle engine, UIntPtr count, UIntPtr parallelism, NativeProgramFn fn, IntPtr userData);

        [DllImport(Lib)] internal static extern int stemma_chat_store_open(byte[] path, out ChatStoreHandle store);
        [DllImport(Lib)] internal static extern void stemma_chat_store_free(IntPtr store);
        [DllImport(Lib)] internal static extern int stemma_chat_new(EngineHandle engine, IntPtr store, byte[] systemPrompt, out ChatHandle chat);
        [DllImport(Lib)] internal static extern int stemma_chat_resume(EngineHandle engine, ChatStoreHandle store, long sessionId, out ChatHandle chat);
        [DllImport(Lib)] internal static extern void stemma_chat_free(IntPtr chat);
        [DllImport(Lib)] internal static extern int stemma_chat_id(ChatHandle chat, out long sessionId);
        [DllImport(Lib)] internal static extern int stemma_chat_send(ChatHandle chat, byte[] userMessage, ref NativeGenOptions options, NativeStreamFn stream, IntPtr userData, out IntPtr reply);
        [DllImport(Lib)] internal static extern int stemma_chat_history(ChatHandle chat, out IntPtr messagesJson);

        [DllImport(Lib)] internal static extern int stemma_rag_open(byte[] path, out RagHandle rag);
        [DllImport(Lib)] internal static extern void stemma_rag_free(IntPtr rag);
        [DllImport(Lib)] internal static extern int stemma_rag_add_document(RagHandle rag, byte[] id, byte[] title, byte[] text, int format, out long chunks);
        [DllImport(Lib)] internal static extern int stemma_rag_add_faq(RagHandle rag, byte[] entriesJson, out long count);
        [DllImport(Lib)] internal static extern int stemma_rag_search(RagHandle rag, byte[] query, UIntPtr topK, out IntPtr hitsJson);
        [DllImport(Lib)] internal static extern int stemma_rag_answer(RagHandle rag, EngineHandle engine, byte[] question, UIntPtr topK, ref NativeGenOptions options, NativeStreamFn stream, IntPtr userData, out IntPtr answer, out IntPtr sourcesJson);

        [DllImport(Lib)] internal static extern void stemma_agent_options_init(IntPtr options);
        [DllImport(Lib)] internal static extern int stemma_agent_new(EngineHandle engine, ref NativeAgentOptions options, out AgentHandle agent);
        [DllImport(Lib)] internal static extern void stemma_agent_free(IntPtr agent);
        [DllImport(Lib)] internal static extern int stemma_tool_result_set(IntPtr result, byte[] text);
        [DllImport(Lib)] internal static extern int stemma_agent_add_tool(AgentHandle agent, byte[] name, byte[] description, byte[] parametersSchemaJson, NativeToolFn fn, IntPtr userData);
        [DllImport(Lib)] internal static extern int stemma_agent_run(AgentHandle agent, byte[] task, out IntPtr answer, out IntPtr traceJson);

        internal delegate void InitFn(IntPtr structure);

        /// <summary>Runs a library *_init function on a scratch buffer (it writes the library's
        /// whole struct, larger than ours when the library is newer), keeps the fields this
        /// binding knows and sets struct_size (every such struct's first field) to our size, so
        /// the library reads only those.</summary>
        internal static T Init<T>(InitFn init) where T : struct
        {
            // struct_size is set to our own size first, so the library writes only the fields
            // this binding knows.
            int size = Marshal.SizeOf(typeof(T));
            IntPtr scratch = Marshal.AllocHGlobal(size);
            try
            {
                for (int i = 0; i < size; ++i)
                    Marshal.WriteByte(scratch, i, 0);
                Marshal.WriteIntPtr(scratch, 0, (IntPtr)size);
                init(scratch);
                return (T)Marshal.PtrToStructure(scratch, typeof(T));
            }
            finally
            {
                Marshal.FreeHGlobal(scratch);
            }
        }

        /// <summary>The struct_size the library's init writes (its own sizeof the struct).</summary>
        internal static long LibrarySize(InitFn init)
        {
            IntPtr scratch = Marshal.AllocHGlobal(1024);
            try
            {
                Marshal.WriteInt64(scratch, 0, 0);
                init(scratch);
                return Marshal.ReadInt64(scratch, 0);
            }
            finally
            {
                Marshal.FreeHGlobal(scratch);
            }
        }

        /// <summary>Throws a StemmaException with stemma_last_error()'s message for a failed status.</summary>
        internal static void Check(int status)
        {
            if (status != 0)
                throw new StemmaException((Status)status, Utf8.Read(stemma_last_error()));
        }
    }
}
