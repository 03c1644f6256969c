"""Program: SGLang-style generation programs (text, role blocks, gen, select, fork, join).

    p = engine.program()
    p.message("system", "You are terse.")
    p.message("user", "Name a colour.")
    with p.role("assistant"):
        p.gen("colour", max_tokens=8)
    print(p["colour"])

Operations on one program run in order, asynchronously: gen and select return once queued;
reading a variable, the text, wait() and fork() block until what they need is done.
"""
import contextlib
import ctypes
import threading

from . import _lib
from ._options import CGenOptions
from ._stream import TextCallback
from .engine import Handle
from .errors import InternalError, check


class Program(Handle):
    _free_name = "stemma_program_free"

    def __init__(self, engine, *, _handle=None, _borrowed=False):
        super().__init__()
        self.engine = engine  # keeps the engine object alive as long as the program
        self._borrowed = _borrowed
        self._keep = []  # callbacks and option buffers of queued operations
        if _handle is not None:
            self._handle = ctypes.c_void_p(_handle)
        else:
            check(self._lib.stemma_program_new(engine.handle, ctypes.byref(self._handle)),
                  self._lib)

    def close(self):
        if self._borrowed:
            self._handle = ctypes.c_void_p()  # run_batch owns the state
            return
        super().close()
        for cb in self._keep:
            if isinstance(cb, TextCallback):
                cb.raise_pending()
        self._keep = []

    # ---- queued operations ----
    def append(self, text):
        check(self._lib.stemma_program_append(self.handle, _lib.encode(text)), self._lib)
        return self

    def message(self, role, content):
        check(self._lib.stemma_program_message(self.handle, _lib.encode(role, "role"),
                                               _lib.encode(content, "content")), self._lib)
        return self

    def system(self, content):
        return self.message("system", content)

    def user(self, content):
        return self.message("user", content)

    def assistant(self, content):
        return self.message("assistant", content)

    def role_begin(self, role):
        check(self._lib.stemma_program_role_begin(self.handle, _lib.encode(role, "role")),
              self._lib)

    def role_end(self):
        check(self._lib.stemma_program_role_end(self.handle), self._lib)

    @contextlib.contextmanager
    def role(self, role):
        """with p.role("assistant"): p.gen(...)  (role_begin ... role_end)"""
        self.role_begin(role)
        yield self
        self.role_end()

    def gen(self, name, *, on_text=None, **options):
        """Queues a generation into variable `name` (also appended to the text). on_text runs
        on a Stemma thread while the generation streams; returning False cancels it."""
        opts = CGenOptions(self._lib, **options)
        callback = TextCallback(on_text)
        self._keep += [opts, callback]
        check(self._lib.stemma_program_gen(self.handle, _lib.encode(name, "name"), opts.pointer(),
                                           callback.c_fn, None), self._lib)
        return self

    def select(self, name, choices):
        """Queues choosing the most likely of `choices` into variable `name`."""
        encoded = [_lib.encode(c, "choice") for c in choices]
        array = (ctypes.c_char_p * max(1, len(encoded)))(*encoded)
        check(self._lib.stemma_program_select(self.handle, _lib.encode(name, "name"),
                                              ctypes.cast(array, _lib.c_char_pp), len(encoded)),
              self._lib)
        return self

    # ---- blocking ----
    def get(self, name):
        out = ctypes.c_void_p()
        check(self._lib.stemma_program_get(self.handle, _lib.encode(name, "name"),
                                           ctypes.byref(out)), self._lib)
        return _lib.take_text(self._lib, out)

    __getitem__ = get

    @property
    def text(self):
        out = ctypes.c_void_p()
        check(self._lib.stemma_program_text(self.handle, ctypes.byref(out)), self._lib)
        return _lib.take_text(self._lib, out)

    def wait(self):
        """Waits for the queued operations; raises the first error among them."""
        check(self._lib.stemma_program_wait(self.handle), self._lib)

    def fork(self, count):
        """`count` new programs starting as copies of this one (sharing its KV prefix)."""
        forks = (ctypes.c_void_p * count)()
        check(self._lib.stemma_program_fork(self.handle, count, forks), self._lib)
        return [Program(self.engine, _handle=forks[i]) for i in range(count)]

    @staticmethod
    def join(programs):
        """Waits for every program; raises the first error."""
        programs = list(programs)
        if not programs:
            return
        lib = programs[0]._lib
        handles = (ctypes.c_void_p * len(programs))(*[p.handle.value for p in programs])
        check(lib.stemma_program_join(handles, len(programs)), lib)


def run_batch(engine, fn, count, *, parallelism=0):
    lib = engine._lib
    errors = {}
    keep = []  # callbacks of operations still queued when fn returns (run_batch waits for them)
    lock = threading.Lock()

    def call(_user_data, index, handle):
        program = Program(engine, _handle=handle, _borrowed=True)
        try:
            fn(index, program)
            return 0
        except BaseException as e:  # noqa: BLE001 - re-raised below
            with lock:
                errors[index] = e
            return InternalError.status
        finally:
            with lock:
                keep.extend(program._keep)
            program.close()

    c_fn = _lib.PROGRAM_FN(call)
    status = lib.stemma_program_run_batch(engine.handle, count, parallelism, c_fn, None)
    for cb in keep:
        if isinstance(cb, TextCallback) and cb.error is not None and not errors:
            cb.raise_pending()
    if errors:
        raise errors[min(errors)]
    check(status, lib)
