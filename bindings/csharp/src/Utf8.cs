using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Text;

namespace Stemma
{
    /// <summary>Text across the boundary.</summary>
    internal static class Utf8
    {
        static readonly UTF8Encoding Strict = new UTF8Encoding(false, true);

        /// <summary>s as NUL-terminated UTF-8 for an input argument. A NUL inside would cut the
        /// text short in C, so it is refused; so is a lone surrogate (not encodable).</summary>
        internal static byte[] Z(string what, string s)
        {
            if (s == null)
                throw new ArgumentNullException(what);
            int nul = s.IndexOf('\0');
            if (nul >= 0)
                throw new ArgumentException(what + " contains a NUL character at index " + nul, what);
            byte[] bytes;
            try
            {
                bytes = Strict.GetBytes(s);
            }
            catch (EncoderFallbackException e)
            {
                throw new ArgumentException(what + " is not valid Unicode: " + e.Message, what);
            }
            var z = new byte[bytes.Length + 1];
            Buffer.BlockCopy(bytes, 0, z, 0, bytes.Length);
            return z;
        }

        /// <summary>Z for an optional argument: null stays null (a NULL pointer).</summary>
        internal static byte[] OptZ(string what, string s)
        {
            return s == null ? null : Z(what, s);
        }

        /// <summary>Copies a NUL-terminated string the library keeps (static or thread-local).</summary>
        internal static string Read(IntPtr p)
        {
            return p == IntPtr.Zero ? "" : Marshal.PtrToStringUTF8(p);
        }

        /// <summary>Copies library-owned text and releases it with stemma_string_free.</summary>
        internal static string Take(IntPtr p)
        {
            if (p == IntPtr.Zero)
                return null;
            try
            {
                return Marshal.PtrToStringUTF8(p);
            }
            finally
            {
                Native.stemma_string_free(p);
            }
        }

        /// <summary>Decodes `length` bytes (not NUL-terminated) at p.</summary>
        internal static string Read(IntPtr p, int length)
        {
            if (length == 0)
                return "";
            var bytes = new byte[length];
            Marshal.Copy(p, bytes, 0, length);
            return Encoding.UTF8.GetString(bytes);
        }
    }

    /// <summary>Unmanaged copies of strings that live until Dispose (for struct fields and
    /// string arrays, which P/Invoke does not marshal for us).</summary>
    internal sealed class NativeStrings : IDisposable
    {
        readonly List<IntPtr> allocations = new List<IntPtr>();

        internal IntPtr Add(string what, string s)
        {
            if (s == null)
                return IntPtr.Zero;
            byte[] z = Utf8.Z(what, s);
            IntPtr p = Marshal.AllocHGlobal(z.Length);
            allocations.Add(p);
            Marshal.Copy(z, 0, p, z.Length);
            return p;
        }

        /// <summary>A C array of C strings (NULL for an empty list).</summary>
        internal IntPtr AddArray(string what, IList<string> items)
        {
            if (items == null || items.Count == 0)
                return IntPtr.Zero;
            IntPtr arr = Marshal.AllocHGlobal(IntPtr.Size * items.Count);
            allocations.Add(arr);
            for (int i = 0; i < items.Count; i++)
                Marshal.WriteIntPtr(arr, i * IntPtr.Size, Add(what + "[" + i + "]", items[i]));
            return arr;
        }

        public void Dispose()
        {
            foreach (IntPtr p in allocations)
                Marshal.FreeHGlobal(p);
            allocations.Clear();
        }
    }
}
