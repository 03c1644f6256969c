using System;
using System.Collections.Generic;
using System.Runtime.ExceptionServices;
using System.Threading;

namespace Stemma
{
    /// <summary>An SGLang-style program state: text, role blocks, Gen/Select into named
    /// variables, Fork/Join. Operations run in the order they are called, asynchronously: Gen
    /// and Select return once queued; Get, Text and Wait block until what they need is done.
    /// Different states (e.g. forks) run concurrently and share their common prefix in the KV
    /// cache. Use one state from one thread at a time.</summary>
    public sealed class Program : IDisposable
    {
        readonly ProgramHandle handle;
        readonly EngineHandle engine;
        // Stream callbacks of queued gens (on the handle, see ProgramHandle.Pending): referenced
        // until the gens are known to be done, so their delegates are not collected while C
        // may still call them.
        readonly List<StreamCallback> pending;
        readonly List<StreamCallback> batchSink; // set on RunBatch's states

        internal Program(ProgramHandle handle, EngineHandle engine, List<StreamCallback> batchSink)
        {
            this.handle = handle;
            pending = handle.Pending;
            this.engine = engine;
            this.batchSink = batchSink;
        }

        /// <summary>Waits for the queued operations, then frees the state (RunBatch's states are
        /// freed by the library; Dispose only ends their use).</summary>
        /// <summary>The handle for a call; ObjectDisposedException after Dispose.</summary>
        internal ProgramHandle Handle
        {
            get
            {
                handle.ThrowIfClosed("Program");
                return handle;
            }
        }

        public void Dispose()
        {
            handle.CloseOnce();
            // An owned handle keeps its callbacks until it is freed; a RunBatch state hands them
            // to the batch, which drops them once the library has freed every state.
            if (batchSink != null)
                lock (pending)
                {
                    lock (batchSink) batchSink.AddRange(pending);
                    pending.Clear();
                }
        }

        public void Append(string text)
        {
            Native.Check(Native.stemma_program_append(Handle, Utf8.Z("text", text)));
        }

        /// <summary>A whole message in the model's chat template; role is "system", "user" or "assistant".</summary>
        public void Message(string role, string content)
        {
            Native.Check(Native.stemma_program_message(Handle, Utf8.Z("role", role), Utf8.Z("content", content)));
        }

        /// <summary>Opens a role block whose content is generated (RoleBegin("assistant"), Gen, RoleEnd()).</summary>
        public void RoleBegin(string role)
        {
            Native.Check(Native.stemma_program_role_begin(Handle, Utf8.Z("role", role)));
        }

        public void RoleEnd()
        {
            Native.Check(Native.stemma_program_role_end(Handle));
        }

        /// <summary>Queues a generation into variable name (appended to the state's text too).
        /// onPiece (may be null) is called on a Stemma thread as text is produced, after Gen has
        /// returned; return false to cancel that gen.</summary>
        public void Gen(string name, GenOptions options = null, Func<string, bool> onPiece = null)
        {
            byte[] n = Utf8.Z("name", name);
            StreamCallback cb = StreamCallback.Make(onPiece);
            if (cb != null)
            {
                cb.Pin();
                lock (pending) pending.Add(cb);
            }
            using (var strings = new NativeStrings())
            {
                NativeGenOptions o = GenOptions.ToNative(options, strings);
                Native.Check(Native.stemma_program_gen(Handle, n, ref o, StreamCallback.For(cb), IntPtr.Zero));
            }
        }

        /// <summary>Queues choosing the most likely of choices (by token log-probabilities) into name.</summary>
        public void Select(string name, params string[] choices)
        {
            if (choices == null) throw new ArgumentNullException("choices");
            using (var strings = new NativeStrings())
            {
                IntPtr arr = strings.AddArray("choices", choices);
                Native.Check(Native.stemma_program_select(Handle, Utf8.Z("name", name), arr, (UIntPtr)choices.Length));
            }
        }

        /// <summary>Waits, then returns variable name (StemmaException NotFound if never set).</summary>
        public string Get(string name)
        {
            IntPtr value;
            Native.Check(Native.stemma_program_get(Handle, Utf8.Z("name", name), out value));
            return Utf8.Take(value);
        }

        /// <summary>Waits, then returns the whole text of the state.</summary>
        public string Text()
        {
            IntPtr text;
            Native.Check(Native.stemma_program_text(Handle, out text));
            return Utf8.Take(text);
        }

        List<StreamCallback> TakePending()
        {
            lock (pending)
            {
                var taken = new List<StreamCallback>(pending);
                pending.Clear();
                return taken;
            }
        }

        /// <summary>After C has waited for them: drops the callbacks (or hands them to RunBatch)
        /// and rethrows an exception one of them caught.</summary>
        void FinishPending(List<StreamCallback> done)
        {
            if (batchSink != null)
                lock (batchSink) batchSink.AddRange(done);
            else
                foreach (StreamCallback cb in done)
                    cb.Unpin();
            foreach (StreamCallback cb in done)
                if (cb.Error != null)
                    cb.Error.Throw();
        }

        /// <summary>Waits for the queued operations; throws the first error among them.</summary>
        public void Wait()
        {
            List<StreamCallback> done = TakePending();
            int st = Native.stemma_program_wait(Handle);
            FinishPending(done);
            Native.Check(st);
        }

        /// <summary>Waits, then makes count new states that start as copies of this one, sharing
        /// its prefix in the KV cache. Dispose each fork.</summary>
        public Program[] Fork(int count)
        {
            if (count <= 0) throw new ArgumentOutOfRangeException("count", "fork count must be positive");
            var raw = new IntPtr[count];
            List<StreamCallback> done = TakePending();
            int st = Native.stemma_program_fork(Handle, (UIntPtr)count, raw);
            FinishPending(done);
            Native.Check(st);
            var forks = new Program[count];
            for (int i = 0; i < count; i++)
            {
                ProgramHandle h = ProgramHandle.Owned(raw[i]);
                h.DependOn(engine);
                forks[i] = new Program(h, engine, null);
            }
            return forks;
        }

        /// <summary>Waits for all programs (e.g. forks); throws the first error.</summary>
        public static void Join(params Program[] programs)
        {
            if (programs == null) throw new ArgumentNullException("programs");
            var raw = new IntPtr[programs.Length];
            var added = new bool[programs.Length];
            var done = new List<StreamCallback>[programs.Length];
            try
            {
                for (int i = 0; i < programs.Length; i++)
                {
                    programs[i].Handle.DangerousAddRef(ref added[i]);
                    raw[i] = programs[i].Handle.DangerousGetHandle();
                }
                for (int i = 0; i < programs.Length; i++)
                    done[i] = programs[i].TakePending();
                int st = Native.stemma_program_join(raw, (UIntPtr)raw.Length);
                for (int i = 0; i < programs.Length; i++)
                    programs[i].FinishPending(done[i]);
                Native.Check(st);
            }
            finally
            {
                for (int i = 0; i < programs.Length; i++)
                    if (added[i]) programs[i].Handle.DangerousRelease();
            }
        }

        /// <summary>RunBatch's state; fn and what it reports.</summary>
        internal sealed class Batch
        {
            internal Action<int, Program> Fn;
            internal EngineHandle Engine;
            internal readonly List<StreamCallback> Sink = new List<StreamCallback>();
            internal ExceptionDispatchInfo Error;
            internal NativeProgramFn Thunk;

            internal int Run(IntPtr userData, UIntPtr index, IntPtr raw)
            {
                var p = new Program(ProgramHandle.Borrowed(raw), Engine, Sink);
                try
                {
                    Fn(checked((int)index.ToUInt64()), p);
                    return 0;
                }
                catch (Exception e)
                {
                    var info = ExceptionDispatchInfo.Capture(e);
                    Interlocked.CompareExchange(ref Error, info, null);
                    var se = e as StemmaException;
                    return se != null && se.Status != Status.Ok ? (int)se.Status : (int)Status.Cancelled;
                }
                finally
                {
                    p.Dispose(); // the library frees the state after this returns
                }
            }
        }
    }

    public sealed partial class Engine
    {
        /// <summary>An empty program state on this engine.</summary>
        public Program NewProgram()
        {
            ProgramHandle h;
            int st = Native.stemma_program_new(Handle, out h);
            if (st != 0)
            {
                h.Dispose();
                Native.Check(st);
            }
            h.DependOn(Handle);
            return new Program(h, Handle, null);
        }

        /// <summary>Runs fn(index, program) for index 0..count-1 on parallelism threads (0:
        /// count), each with a fresh state, and waits for all. A state is valid only during its
        /// call. The first exception fn throws is rethrown here.</summary>
        public void RunBatch(int count, int parallelism, Action<int, Program> fn)
        {
            if (fn == null) throw new ArgumentNullException("fn");
            if (count < 0) throw new ArgumentOutOfRangeException("count");
            if (parallelism < 0) throw new ArgumentOutOfRangeException("parallelism");
            var batch = new Program.Batch { Fn = fn, Engine = Handle };
            batch.Thunk = batch.Run;
            int st = Native.stemma_program_run_batch(Handle, (UIntPtr)count, (UIntPtr)parallelism, batch.Thunk, IntPtr.Zero);
            GC.KeepAlive(batch);
            foreach (StreamCallback cb in batch.Sink)
            {
                cb.Unpin(); // the library has freed the batch's states
                if (cb.Error != null && batch.Error == null)
                    batch.Error = cb.Error;
            }
            if (batch.Error != null)
                batch.Error.Throw();
            Native.Check(st);
        }
    }
}
