using System;
using System.Collections.Generic;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;

namespace Stemma
{
    /// <summary>Sampling and constraints; unset (null) values mean the library's defaults:
    /// greedy, at most 128 tokens, no stop strings, no constraint.</summary>
    public sealed class GenOptions
    {
        public int? MaxTokens { get; set; }
        /// <summary>&lt;= 0: greedy.</summary>
        public float? Temperature { get; set; }
        public int? TopK { get; set; }
        public float? TopP { get; set; }
        public float? MinP { get; set; }
        public ulong? Seed { get; set; }
        public float? RepetitionPenalty { get; set; }
        /// <summary>The reply ends before the first of these.</summary>
        public IList<string> Stop { get; set; }
        /// <summary>The output must match this regex.</summary>
        public string Regex { get; set; }
        /// <summary>The output must be JSON valid under this schema.</summary>
        public string JsonSchema { get; set; }
        /// <summary>With a constraint: append forced text without model steps (library default: true).</summary>
        public bool? JumpForward { get; set; }

        /// <summary>A native copy; its strings live in `strings` (dispose it after the call).</summary>
        internal static NativeGenOptions ToNative(GenOptions o, NativeStrings strings)
        {
            var n = Native.Init<NativeGenOptions>(Native.stemma_gen_options_init);
            if (o == null)
                return n;
            if (o.MaxTokens.HasValue) n.MaxTokens = o.MaxTokens.Value;
            if (o.Temperature.HasValue) n.Temperature = o.Temperature.Value;
            if (o.TopK.HasValue) n.TopK = o.TopK.Value;
            if (o.TopP.HasValue) n.TopP = o.TopP.Value;
            if (o.MinP.HasValue) n.MinP = o.MinP.Value;
            if (o.Seed.HasValue) n.Seed = o.Seed.Value;
            if (o.RepetitionPenalty.HasValue) n.RepetitionPenalty = o.RepetitionPenalty.Value;
            if (o.JumpForward.HasValue) n.JumpForward = o.JumpForward.Value ? 1 : 0;
            if (o.Stop != null && o.Stop.Count > 0)
            {
                n.Stop = strings.AddArray("Stop", o.Stop);
                n.NumStop = (UIntPtr)o.Stop.Count;
            }
            n.Regex = strings.Add("Regex", o.Regex);
            n.JsonSchema = strings.Add("JsonSchema", o.JsonSchema);
            return n;
        }
    }

    public enum FinishReason
    {
        None = 0,
        /// <summary>EOS, a stop token or string, or the constraint completed.</summary>
        Stop = 1,
        /// <summary>MaxTokens.</summary>
        Length = 2,
        /// <summary>The stream callback asked to stop.</summary>
        Cancelled = 3,
        Error = 4,
    }

    /// <summary>A finished generation (or one the stream callback cancelled, with the text so far).</summary>
    public sealed class Generation
    {
        public string Text { get; private set; }
        public FinishReason Finish { get; private set; }

        internal Generation(string text, FinishReason finish)
        {
            Text = text;
            Finish = finish;
        }
    }

    /// <summary>A stream callback for one call. The delegate handed to C is a field, so it stays
    /// referenced (not collected) as long as this object is; an exception thrown by the user's
    /// function cannot cross C, so it is caught, the generation is cancelled, and it is rethrown
    /// on the calling thread.</summary>
    internal sealed class StreamCallback
    {
        readonly Func<string, bool> fn;
        internal readonly NativeStreamFn Thunk;
        internal bool Cancelled;
        internal ExceptionDispatchInfo Error;
        // A root for callbacks that outlive their call (a program's queued gens). Being
        // referenced by a finalizable object is not enough on mono: a delegate reachable only
        // that way loses its native thunk's target before the finalizer (which waits for the
        // gens) runs.
        GCHandle root;

        internal void Pin()
        {
            if (!root.IsAllocated)
                root = GCHandle.Alloc(this);
        }

        internal void Unpin()
        {
            if (root.IsAllocated)
                root.Free();
        }

        internal StreamCallback(Func<string, bool> fn)
        {
            this.fn = fn;
            Thunk = OnPiece;
        }

        /// <summary>The delegate to pass (null when there is no callback).</summary>
        internal static NativeStreamFn For(StreamCallback cb)
        {
            return cb == null ? null : cb.Thunk;
        }

        internal static StreamCallback Make(Func<string, bool> fn)
        {
            return fn == null ? null : new StreamCallback(fn);
        }

        int OnPiece(IntPtr userData, IntPtr piece, UIntPtr length)
        {
            if (Error != null || Cancelled)
                return 1;
            try
            {
                if (fn(Utf8.Read(piece, checked((int)length.ToUInt64()))))
                    return 0;
                Cancelled = true;
                return 1;
            }
            catch (Exception e)
            {
                Error = ExceptionDispatchInfo.Capture(e);
                return 1;
            }
        }

        /// <summary>After the call: rethrows the callback's exception, then maps the status
        /// (STEMMA_CANCELLED because the callback asked for it is no error).</summary>
        internal static void Finish(int status, StreamCallback cb)
        {
            if (cb != null)
            {
                GC.KeepAlive(cb);
                if (cb.Error != null)
                    cb.Error.Throw();
                if (status == (int)Status.Cancelled && cb.Cancelled)
                    return;
            }
            Native.Check(status);
        }
    }
}
