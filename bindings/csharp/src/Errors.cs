using System;

namespace Stemma
{
    /// <summary>The status codes of capi/stemma.h.</summary>
    public enum Status
    {
        Ok = 0,
        /// <summary>A NULL handle or pointer, a bad struct_size, bad UTF-8, ...</summary>
        InvalidArgument = 1,
        /// <summary>A file, session, variable or token does not exist.</summary>
        NotFound = 2,
        /// <summary>An index or size past a limit (e.g. the context length).</summary>
        OutOfRange = 3,
        /// <summary>A file contradicts its own format.</summary>
        CorruptData = 4,
        /// <summary>Well-formed, but not implemented (named in the message).</summary>
        Unsupported = 5,
        /// <summary>The OS refused a read, write, open or map.</summary>
        IoError = 6,
        /// <summary>Out of KV pages or memory, a database is locked, an agent out of steps.</summary>
        ResourceExhausted = 7,
        /// <summary>The caller (or a callback) cancelled the work.</summary>
        Cancelled = 8,
        /// <summary>A valid call in the wrong state.</summary>
        FailedPrecondition = 9,
        /// <summary>A bug in Stemma.</summary>
        Internal = 10,
    }

    /// <summary>A failed Stemma call: its status and stemma_last_error()'s message.</summary>
    public class StemmaException : Exception
    {
        public Status Status { get; private set; }

        /// <summary>The library's message without the status prefix.</summary>
        public string Detail { get; private set; }

        public StemmaException(Status status, string detail)
            : base("stemma: " + StatusName(status) + ": " + detail)
        {
            Status = status;
            Detail = detail;
        }

        public StemmaException(Status status, string detail, Exception inner)
            : base("stemma: " + StatusName(status) + ": " + detail, inner)
        {
            Status = status;
            Detail = detail;
        }

        /// <summary>The library's name for a status: "NOT_FOUND", ...</summary>
        public static string StatusName(Status status)
        {
            return Utf8.Read(Native.stemma_status_name((int)status));
        }
    }
}
