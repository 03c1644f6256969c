"""Engine: a model opened in-process, with tokenization, chat templates and generation."""
import ctypes
import json

from . import _lib
from ._options import CGenOptions
from ._stream import TextCallback, iterate
from .errors import Cancelled, check

FINISH_NAMES = {0: "none", 1: "stop", 2: "length", 3: "cancelled", 4: "error"}


class Completion(str):
    """Generated text (a str) with why it ended: finish is "stop", "length" or "cancelled"
    (None where the C call does not report it: chat replies and RAG answers that were not
    cancelled)."""

    finish = None

    def __new__(cls, text, finish=None):
        obj = super().__new__(cls, text or "")
        obj.finish = finish
        return obj


class Handle:
    """Owns one opaque handle; freed by close(), a with-block or garbage collection."""

    _free_name = None

    def __init__(self):
        self._lib = _lib.load()
        self._handle = ctypes.c_void_p()

    @property
    def handle(self):
        if not self._handle:
            raise ValueError(f"{type(self).__name__} is closed")
        return self._handle

    def close(self):
        if getattr(self, "_handle", None):
            getattr(self._lib, self._free_name)(self._handle)
            self._handle = ctypes.c_void_p()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass


def call_generating(lib, call, on_text):
    """Runs `call(c_callback)` (a stemma_* call that streams) and maps its status: a
    cancellation the callback asked for is not an error (the text so far is returned)."""
    callback = TextCallback(on_text)
    status = call(callback.c_fn)
    callback.raise_pending()
    if status == Cancelled.status and callback.cancelled:
        return "cancelled"
    check(status, lib)
    return None


class Engine(Handle):
    """A model with its KV cache and worker thread (stemma_engine).

    Engine("models/stemma-faq.gguf", threads=2).generate("Hello", max_tokens=16)

    backend is "auto" (the GPU when the library has CUDA and GPU `device` answers, else the
    CPU), "cpu" or "cuda" (an error where there is no GPU); model_info()["backend"] says which
    runs. gpu_kv_memory_bytes and shared_prefix_attention tune the CUDA backend only.
    """

    _free_name = "stemma_engine_free"

    def __init__(self, model_path, *, threads=0, page_size=0, kv_memory_bytes=0,
                 max_batch_tokens=0, radix_cache=True, backend="auto", device=0,
                 gpu_kv_memory_bytes=0, shared_prefix_attention=True):
        super().__init__()
        options = _lib.EngineOptions()
        options.struct_size = ctypes.sizeof(options)  # init writes only our struct
        self._lib.stemma_engine_options_init(ctypes.byref(options))
        self._path = _lib.encode(str(model_path), "model_path")
        options.model_path = self._path
        options.threads = threads
        options.page_size = page_size
        options.kv_memory_bytes = kv_memory_bytes
        options.max_batch_tokens = max_batch_tokens
        options.radix_cache = 1 if radix_cache else 0
        if backend not in _lib.BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(_lib.BACKENDS)}, got {backend!r}")
        options.backend = _lib.BACKENDS[backend]
        options.device = device
        options.gpu_kv_memory_bytes = gpu_kv_memory_bytes
        options.shared_prefix_attention = 1 if shared_prefix_attention else 0
        check(self._lib.stemma_engine_open(ctypes.byref(options), ctypes.byref(self._handle)),
              self._lib)

    # ---- model ----
    def model_info(self):
        out = ctypes.c_void_p()
        check(self._lib.stemma_engine_model_info(self.handle, ctypes.byref(out)), self._lib)
        return json.loads(_lib.take_text(self._lib, out))

    def stats(self):
        s = _lib.EngineStats()
        s.struct_size = ctypes.sizeof(s)  # init writes only our struct
        self._lib.stemma_engine_stats_init(ctypes.byref(s))
        check(self._lib.stemma_engine_stats_get(self.handle, ctypes.byref(s)), self._lib)
        return {name: getattr(s, name) for name, _ in _lib.EngineStats._fields_
                if name != "struct_size"}

    def tokenize(self, text, *, add_special=True):
        tokens = ctypes.POINTER(ctypes.c_int32)()
        count = ctypes.c_size_t()
        check(self._lib.stemma_tokenize(self.handle, _lib.encode(text), 1 if add_special else 0,
                                        ctypes.byref(tokens), ctypes.byref(count)), self._lib)
        try:
            return tokens[:count.value]
        finally:
            self._lib.stemma_tokens_free(tokens)

    def detokenize(self, tokens):
        tokens = list(tokens)
        array = (ctypes.c_int32 * max(1, len(tokens)))(*tokens)
        out = ctypes.c_void_p()
        check(self._lib.stemma_detokenize(self.handle, array, len(tokens), ctypes.byref(out)),
              self._lib)
        return _lib.take_text(self._lib, out)

    def chat_format(self, messages, *, tools=None, add_generation_prompt=True):
        """Renders [{"role", "content"}, ...] with the model's chat template."""
        out = ctypes.c_void_p()
        tools_json = None if tools is None else _lib.encode(json.dumps(tools))
        check(self._lib.stemma_chat_format(self.handle, _lib.encode(json.dumps(messages)),
                                           tools_json, 1 if add_generation_prompt else 0,
                                           ctypes.byref(out)), self._lib)
        return _lib.take_text(self._lib, out)

    # ---- generation ----
    def generate(self, prompt, *, on_text=None, **options):
        """Generates a continuation of `prompt` and returns it as a Completion (str).

        on_text(piece) is called with each piece as it is produced (on a Stemma thread);
        returning False stops the generation (finish "cancelled"). Options: max_tokens,
        temperature, top_k, top_p, min_p, seed, repetition_penalty, stop (str or list),
        regex, json_schema (str or dict), jump_forward."""
        opts = CGenOptions(self._lib, **options)
        out = ctypes.c_void_p()
        finish = ctypes.c_int32()
        prompt_bytes = _lib.encode(prompt, "prompt")

        def call(c_fn):
            return self._lib.stemma_generate(self.handle, prompt_bytes, opts.pointer(), c_fn,
                                             None, ctypes.byref(out), ctypes.byref(finish))

        try:
            call_generating(self._lib, call, on_text)
        finally:
            text = _lib.take_text(self._lib, out)
        return Completion(text, FINISH_NAMES.get(finish.value, "none"))

    def stream(self, prompt, **options):
        """Iterates over the pieces of a generation; leaving the loop early cancels it."""
        return iterate(lambda on_text: self.generate(prompt, on_text=on_text, **options))

    # ---- SDK objects on this engine ----
    def program(self):
        from .program import Program
        return Program(self)

    def run_batch(self, fn, count, *, parallelism=0):
        """Runs fn(index, program) for index in range(count), each on a fresh Program,
        `parallelism` at a time (0: all), and waits for all of them."""
        from .program import run_batch
        return run_batch(self, fn, count, parallelism=parallelism)

