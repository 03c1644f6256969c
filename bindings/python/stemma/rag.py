"""Rag: a document store (SQLite FTS5, BM25) and answers grounded in it.

    rag = Rag(":memory:")
    rag.add_faq([{"id": "faq-1", "question": "...", "answer": "..."}])
    rag.search("how do I reset", top_k=3)
    answer = rag.answer(engine, "How do I reset my hub?")   # answer.sources
"""
import ctypes
import json

from . import _lib
from ._options import CGenOptions
from ._stream import iterate
from .engine import Completion, Handle, call_generating
from .errors import check

TEXT = 0
MARKDOWN = 1


class Answer(Completion):
    """The answer text (a str) with `sources`: the ids of the entries written into the prompt."""

    sources = ()


class Rag(Handle):
    _free_name = "stemma_rag_free"

    def __init__(self, path):
        super().__init__()
        check(self._lib.stemma_rag_open(_lib.encode(str(path), "path"),
                                        ctypes.byref(self._handle)), self._lib)

    def add_document(self, doc_id, text, *, title=None, markdown=True):
        """Adds (or replaces) a document; returns its number of chunks."""
        chunks = ctypes.c_int64()
        check(self._lib.stemma_rag_add_document(
            self.handle, _lib.encode(doc_id, "doc_id"), _lib.encode(title, "title"),
            _lib.encode(text), MARKDOWN if markdown else TEXT, ctypes.byref(chunks)), self._lib)
        return chunks.value

    def add_faq(self, entries):
        """Adds FAQ entries (a list of {"id", "question", "answer", ...} or its JSON text)."""
        if not isinstance(entries, (str, bytes)):
            entries = json.dumps(entries)
        count = ctypes.c_int64()
        check(self._lib.stemma_rag_add_faq(self.handle, _lib.encode(entries), ctypes.byref(count)),
              self._lib)
        return count.value

    def search(self, query, top_k=5):
        """[{"doc_id", "chunk_index", "title", "heading", "text", "kind", "score", "metadata"}]"""
        out = ctypes.c_void_p()
        check(self._lib.stemma_rag_search(self.handle, _lib.encode(query, "query"), top_k,
                                          ctypes.byref(out)), self._lib)
        return json.loads(_lib.take_text(self._lib, out))

    def answer(self, engine, question, *, top_k=5, on_text=None, **options):
        opts = CGenOptions(self._lib, **options)
        answer, sources = ctypes.c_void_p(), ctypes.c_void_p()
        question_bytes = _lib.encode(question, "question")

        def call(c_fn):
            return self._lib.stemma_rag_answer(self.handle, engine.handle, question_bytes, top_k,
                                               opts.pointer(), c_fn, None, ctypes.byref(answer),
                                               ctypes.byref(sources))

        try:
            finish = call_generating(self._lib, call, on_text)
        finally:
            text = _lib.take_text(self._lib, answer)
            refs = _lib.take_text(self._lib, sources)
        result = Answer(text, finish)  # finish: "cancelled" or None
        result.sources = json.loads(refs) if refs else []
        return result

    def stream_answer(self, engine, question, **options):
        return iterate(lambda on_text: self.answer(engine, question, on_text=on_text, **options))
