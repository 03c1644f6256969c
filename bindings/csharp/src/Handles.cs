using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;

namespace Stemma
{
    /// <summary>A C handle, freed exactly once by its SafeHandle (Dispose or finalizer). A
    /// handle made from another (a program from its engine) holds a reference on it, so the
    /// engine is freed only after the program, as the C ABI requires. Passing a disposed handle
    /// to a call throws ObjectDisposedException.</summary>
    internal abstract class StemmaHandle : SafeHandle
    {
        List<SafeHandle> parents;

        protected StemmaHandle() : base(IntPtr.Zero, true) { }

        protected StemmaHandle(IntPtr borrowed) : base(IntPtr.Zero, false)
        {
            SetHandle(borrowed);
        }

        public override bool IsInvalid
        {
            get { return handle == IntPtr.Zero; }
        }

        /// <summary>Keeps parent alive (not freed) until this handle is released.</summary>
        internal void DependOn(SafeHandle parent)
        {
            bool added = false;
            parent.DangerousAddRef(ref added);
            if (!added)
                throw new ObjectDisposedException(parent.GetType().Name);
            if (parents == null)
                parents = new List<SafeHandle>();
            parents.Add(parent);
        }

        // Set by CloseOnce. A SafeHandle disposed while dependent handles hold references is
        // released later, and mono's SafeHandle then neither reports IsClosed nor refuses new
        // references: this flag is what refuses use after Dispose.
        volatile bool closing;

        /// <summary>Dispose on behalf of the wrapper: no further use, freed once unreferenced.</summary>
        internal void CloseOnce()
        {
            closing = true;
            Dispose();
        }

        /// <summary>Throws ObjectDisposedException once the wrapper was disposed.</summary>
        internal void ThrowIfClosed(string owner)
        {
            if (closing || IsClosed)
                throw new ObjectDisposedException(owner);
        }

        protected abstract void Free(IntPtr h);

        /// <summary>C objects freed so far (tests check that finalizers free dropped handles).</summary>
        internal static int Freed;

        protected override bool ReleaseHandle()
        {
            Free(handle);
            System.Threading.Interlocked.Increment(ref Freed);
            if (parents != null)
            {
                foreach (SafeHandle p in parents)
                    p.DangerousRelease();
                parents = null;
            }
            return true;
        }
    }

    internal sealed class EngineHandle : StemmaHandle
    {
        EngineHandle() { }
        protected override void Free(IntPtr h) { Native.stemma_engine_free(h); }
    }

    internal sealed class ProgramHandle : StemmaHandle
    {
        // Stream callbacks of queued gens. Held by the handle, not the Program, because the
        // handle's finalizer (stemma_program_free) waits for those gens: what a finalizable
        // object references is not collected before it is finalized.
        internal readonly List<StreamCallback> Pending = new List<StreamCallback>();

        ProgramHandle() { }
        ProgramHandle(IntPtr borrowed) : base(borrowed) { }

        /// <summary>A state the library owns (run_batch): never freed here.</summary>
        internal static ProgramHandle Borrowed(IntPtr p)
        {
            return new ProgramHandle(p);
        }

        internal static ProgramHandle Owned(IntPtr p)
        {
            var h = new ProgramHandle();
            h.SetHandle(p);
            return h;
        }

        protected override void Free(IntPtr h)
        {
            Native.stemma_program_free(h); // waits for the queued gens
            lock (Pending)
            {
                foreach (StreamCallback cb in Pending)
                    cb.Unpin();
                Pending.Clear();
            }
        }
    }

    internal sealed class ChatStoreHandle : StemmaHandle
    {
        ChatStoreHandle() { }
        protected override void Free(IntPtr h) { Native.stemma_chat_store_free(h); }
    }

    internal sealed class ChatHandle : StemmaHandle
    {
        ChatHandle() { }
        protected override void Free(IntPtr h) { Native.stemma_chat_free(h); }
    }

    internal sealed class RagHandle : StemmaHandle
    {
        RagHandle() { }
        protected override void Free(IntPtr h) { Native.stemma_rag_free(h); }
    }

    internal sealed class AgentHandle : StemmaHandle
    {
        // The tools' delegates: C keeps their pointers until the agent is freed.
        internal readonly List<object> Tools = new List<object>();

        AgentHandle() { }
        protected override void Free(IntPtr h) { Native.stemma_agent_free(h); }
    }
}
