using System;
using System.Collections.Generic;

namespace Stemma
{
    /// <summary>A SQLite file of chat sessions. Chats using it keep it alive.</summary>
    public sealed class ChatStore : IDisposable
    {
        readonly ChatStoreHandle handle;

        ChatStore(ChatStoreHandle h) { handle = h; }

        /// <summary>The handle for a call; ObjectDisposedException after Dispose.</summary>
        internal ChatStoreHandle Handle
        {
            get
            {
                handle.ThrowIfClosed("ChatStore");
                return handle;
            }
        }

        /// <summary>Opens (creating if missing) a chat store file; ":memory:" for a private in-memory store.</summary>
        public static ChatStore Open(string path)
        {
            ChatStoreHandle h;
            int st = Native.stemma_chat_store_open(Utf8.Z("path", path), out h);
            if (st != 0)
            {
                h.Dispose();
                Native.Check(st);
            }
            return new ChatStore(h);
        }

        public void Dispose() { handle.CloseOnce(); }
    }

    /// <summary>A multi-turn session on an engine, persisted in a ChatStore (or not).</summary>
    public sealed class Chat : IDisposable
    {
        readonly ChatHandle h;

        internal Chat(ChatHandle h) { this.h = h; }

        ChatHandle handle
        {
            get
            {
                h.ThrowIfClosed("Chat");
                return h;
            }
        }

        public void Dispose() { h.CloseOnce(); }

        /// <summary>The session's id in its store (StemmaException FailedPrecondition when not persisted).</summary>
        public long Id
        {
            get
            {
                long id;
                Native.Check(Native.stemma_chat_id(handle, out id));
                return id;
            }
        }

        /// <summary>Adds the user's message, generates the reply (stored once complete) and
        /// returns it; onPiece (may be null) streams it.</summary>
        public string Send(string userMessage, GenOptions options = null, Func<string, bool> onPiece = null)
        {
            byte[] msg = Utf8.Z("userMessage", userMessage);
            StreamCallback cb = StreamCallback.Make(onPiece);
            using (var strings = new NativeStrings())
            {
                NativeGenOptions o = GenOptions.ToNative(options, strings);
                IntPtr reply;
                int st = Native.stemma_chat_send(handle, msg, ref o, StreamCallback.For(cb), IntPtr.Zero, out reply);
                string text = Utf8.Take(reply);
                StreamCallback.Finish(st, cb);
                return text ?? "";
            }
        }

        /// <summary>The session's messages, oldest first.</summary>
        public IList<ChatMessage> History()
        {
            IntPtr json;
            Native.Check(Native.stemma_chat_history(handle, out json));
            return ChatMessage.ListFromJson(Utf8.Take(json));
        }
    }

    public sealed partial class Engine
    {
        /// <summary>Starts a session persisted in store (null: not persisted).</summary>
        public Chat NewChat(ChatStore store, string systemPrompt = null)
        {
            byte[] sys = Utf8.OptZ("systemPrompt", systemPrompt);
            bool storeRef = false;
            try
            {
                IntPtr storePtr = IntPtr.Zero;
                if (store != null)
                {
                    store.Handle.DangerousAddRef(ref storeRef);
                    storePtr = store.Handle.DangerousGetHandle();
                }
                ChatHandle h;
                int st = Native.stemma_chat_new(Handle, storePtr, sys, out h);
                return Adopt(st, h, store);
            }
            finally
            {
                if (storeRef) store.Handle.DangerousRelease();
            }
        }

        /// <summary>Resumes session id from store.</summary>
        public Chat ResumeChat(ChatStore store, long sessionId)
        {
            if (store == null) throw new ArgumentNullException("store");
            ChatHandle h;
            int st = Native.stemma_chat_resume(Handle, store.Handle, sessionId, out h);
            return Adopt(st, h, store);
        }

        Chat Adopt(int st, ChatHandle h, ChatStore store)
        {
            if (st != 0)
            {
                h.Dispose();
                Native.Check(st);
            }
            h.DependOn(Handle);
            if (store != null)
                h.DependOn(store.Handle);
            return new Chat(h);
        }
    }
}
