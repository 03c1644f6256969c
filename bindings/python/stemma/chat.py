"""ChatStore and Chat: multi-turn sessions persisted in SQLite, resumed across restarts.

    with ChatStore("chats.db") as store:
        chat = Chat(engine, store, system_prompt="You are terse.")
        reply = chat.send("Hello!")
        session_id = chat.id
    ... later ...
    chat = Chat.resume(engine, ChatStore("chats.db"), session_id)
"""
import ctypes
import json

from . import _lib
from ._options import CGenOptions
from ._stream import iterate
from .engine import Completion, Handle, call_generating
from .errors import check


class ChatStore(Handle):
    """A chat store file (":memory:" for a private in-memory one)."""

    _free_name = "stemma_chat_store_free"

    def __init__(self, path):
        super().__init__()
        check(self._lib.stemma_chat_store_open(_lib.encode(str(path), "path"),
                                               ctypes.byref(self._handle)), self._lib)


class Chat(Handle):
    """A conversation on `engine`, persisted in `store` when one is given."""

    _free_name = "stemma_chat_free"

    def __init__(self, engine, store=None, *, system_prompt=None, _resume_id=None):
        super().__init__()
        self.engine, self.store = engine, store
        if _resume_id is not None:
            check(self._lib.stemma_chat_resume(engine.handle, store.handle, _resume_id,
                                               ctypes.byref(self._handle)), self._lib)
        else:
            check(self._lib.stemma_chat_new(engine.handle, store.handle if store else None,
                                            _lib.encode(system_prompt, "system_prompt"),
                                            ctypes.byref(self._handle)), self._lib)

    @classmethod
    def resume(cls, engine, store, session_id):
        return cls(engine, store, _resume_id=int(session_id))

    @property
    def id(self):
        """The session's id in its store (FailedPrecondition when not persisted)."""
        out = ctypes.c_int64()
        check(self._lib.stemma_chat_id(self.handle, ctypes.byref(out)), self._lib)
        return out.value

    def send(self, message, *, on_text=None, **options):
        """Sends the user's message; returns the assistant's reply (a Completion). on_text
        streams it; returning False cancels (the reply is then not kept in the history)."""
        opts = CGenOptions(self._lib, **options)
        out = ctypes.c_void_p()
        message_bytes = _lib.encode(message, "message")

        def call(c_fn):
            return self._lib.stemma_chat_send(self.handle, message_bytes, opts.pointer(), c_fn,
                                              None, ctypes.byref(out))

        try:
            finish = call_generating(self._lib, call, on_text)
        finally:
            text = _lib.take_text(self._lib, out)
        return Completion(text, finish)  # the C call reports no finish reason but cancelled

    def stream(self, message, **options):
        """Iterates over the reply's pieces; leaving the loop early cancels it."""
        return iterate(lambda on_text: self.send(message, on_text=on_text, **options))

    @property
    def history(self):
        """[{"role": ..., "content": ...}, ...]"""
        out = ctypes.c_void_p()
        check(self._lib.stemma_chat_history(self.handle, ctypes.byref(out)), self._lib)
        return json.loads(_lib.take_text(self._lib, out))
