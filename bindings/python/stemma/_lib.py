"""Loading libstemma.so and declaring its C functions for ctypes (capi/stemma.h).

The library is looked for, in order: the STEMMA_LIBRARY environment variable (a path to the
file), next to this package (stemma/libstemma.so), the repository's build folders
(build/capi, build-*/capi) when the package is used from a checkout, and the system's library
path (ldconfig, LD_LIBRARY_PATH).
"""
import ctypes
import ctypes.util
import glob
import os
import threading

ABI_VERSION = 1

c_status = ctypes.c_int32
c_size = ctypes.c_size_t
c_char_pp = ctypes.POINTER(ctypes.c_char_p)
c_out_text = ctypes.POINTER(ctypes.c_void_p)  # char** out: read as a pointer, freed by the library

STREAM_FN = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_void_p, ctypes.c_void_p, c_size)
PROGRAM_FN = ctypes.CFUNCTYPE(c_status, ctypes.c_void_p, c_size, ctypes.c_void_p)
TOOL_FN = ctypes.CFUNCTYPE(c_status, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p)


class EngineOptions(ctypes.Structure):
    _fields_ = [("struct_size", c_size), ("model_path", ctypes.c_char_p),
                ("threads", ctypes.c_int32), ("page_size", ctypes.c_int32),
                ("kv_memory_bytes", ctypes.c_int64), ("max_batch_tokens", ctypes.c_int32),
                ("radix_cache", ctypes.c_int32),
                # appended in the second version of the struct (capi/stemma.h)
                ("backend", ctypes.c_int32), ("device", ctypes.c_int32),
                ("gpu_kv_memory_bytes", ctypes.c_int64),
                ("shared_prefix_attention", ctypes.c_int32)]


# EngineOptions.backend (STEMMA_BACKEND_*), by the names the CLI's --backend takes.
BACKENDS = {"auto": 0, "cpu": 1, "cuda": 2}


class EngineStats(ctypes.Structure):
    _fields_ = [("struct_size", c_size), ("cached_tokens", ctypes.c_int64),
                ("prefill_tokens", ctypes.c_int64), ("computed_tokens", ctypes.c_int64),
                ("generated_tokens", ctypes.c_int64), ("jump_forward_tokens", ctypes.c_int64),
                ("evicted_pages", ctypes.c_int64), ("preemptions", ctypes.c_int64),
                ("steps", ctypes.c_int64), ("pages_in_use", ctypes.c_int32),
                ("pages_total", ctypes.c_int32), ("cached_pages", ctypes.c_int32),
                ("running", ctypes.c_int32), ("queued", ctypes.c_int32)]


class GenOptions(ctypes.Structure):
    _fields_ = [("struct_size", c_size), ("max_tokens", ctypes.c_int32),
                ("temperature", ctypes.c_float), ("top_k", ctypes.c_int32),
                ("top_p", ctypes.c_float), ("min_p", ctypes.c_float), ("seed", ctypes.c_uint64),
                ("repetition_penalty", ctypes.c_float), ("stop", c_char_pp),
                ("num_stop", c_size), ("regex", ctypes.c_char_p),
                ("json_schema", ctypes.c_char_p), ("jump_forward", ctypes.c_int32)]


class AgentOptions(ctypes.Structure):
    _fields_ = [("struct_size", c_size), ("system_prompt", ctypes.c_char_p),
                ("max_steps", ctypes.c_int32), ("max_tokens", ctypes.c_int32),
                ("temperature", ctypes.c_float), ("seed", ctypes.c_uint64),
                ("answer_schema", ctypes.c_char_p),
                ("tool_choice", ctypes.c_int32)]


P = ctypes.c_void_p  # every opaque handle
_SIGNATURES = {
    "stemma_abi_version": (ctypes.c_uint32, []),
    "stemma_version": (ctypes.c_char_p, []),
    "stemma_status_name": (ctypes.c_char_p, [c_status]),
    "stemma_last_error": (ctypes.c_char_p, []),
    "stemma_string_free": (None, [P]),
    "stemma_tokens_free": (None, [P]),
    "stemma_engine_options_init": (None, [ctypes.POINTER(EngineOptions)]),
    "stemma_engine_open": (c_status, [ctypes.POINTER(EngineOptions), ctypes.POINTER(P)]),
    "stemma_engine_free": (None, [P]),
    "stemma_engine_stats_init": (None, [ctypes.POINTER(EngineStats)]),
    "stemma_engine_stats_get": (c_status, [P, ctypes.POINTER(EngineStats)]),
    "stemma_engine_model_info": (c_status, [P, c_out_text]),
    "stemma_tokenize": (c_status, [P, ctypes.c_char_p, ctypes.c_int32,
                                   ctypes.POINTER(ctypes.POINTER(ctypes.c_int32)),
                                   ctypes.POINTER(c_size)]),
    "stemma_detokenize": (c_status, [P, ctypes.POINTER(ctypes.c_int32), c_size, c_out_text]),
    "stemma_chat_format": (c_status, [P, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int32,
                                      c_out_text]),
    "stemma_gen_options_init": (None, [ctypes.POINTER(GenOptions)]),
    "stemma_generate": (c_status, [P, ctypes.c_char_p, ctypes.POINTER(GenOptions), STREAM_FN, P,
                                   c_out_text, ctypes.POINTER(ctypes.c_int32)]),
    "stemma_program_new": (c_status, [P, ctypes.POINTER(P)]),
    "stemma_program_free": (None, [P]),
    "stemma_program_append": (c_status, [P, ctypes.c_char_p]),
    "stemma_program_message": (c_status, [P, ctypes.c_char_p, ctypes.c_char_p]),
    "stemma_program_role_begin": (c_status, [P, ctypes.c_char_p]),
    "stemma_program_role_end": (c_status, [P]),
    "stemma_program_gen": (c_status, [P, ctypes.c_char_p, ctypes.POINTER(GenOptions), STREAM_FN,
                                      P]),
    "stemma_program_select": (c_status, [P, ctypes.c_char_p, c_char_pp, c_size]),
    "stemma_program_get": (c_status, [P, ctypes.c_char_p, c_out_text]),
    "stemma_program_text": (c_status, [P, c_out_text]),
    "stemma_program_wait": (c_status, [P]),
    "stemma_program_fork": (c_status, [P, c_size, ctypes.POINTER(P)]),
    "stemma_program_join": (c_status, [ctypes.POINTER(P), c_size]),
    "stemma_program_run_batch": (c_status, [P, c_size, c_size, PROGRAM_FN, P]),
    "stemma_chat_store_open": (c_status, [ctypes.c_char_p, ctypes.POINTER(P)]),
    "stemma_chat_store_free": (None, [P]),
    "stemma_chat_new": (c_status, [P, P, ctypes.c_char_p, ctypes.POINTER(P)]),
    "stemma_chat_resume": (c_status, [P, P, ctypes.c_int64, ctypes.POINTER(P)]),
    "stemma_chat_free": (None, [P]),
    "stemma_chat_id": (c_status, [P, ctypes.POINTER(ctypes.c_int64)]),
    "stemma_chat_send": (c_status, [P, ctypes.c_char_p, ctypes.POINTER(GenOptions), STREAM_FN, P,
                                    c_out_text]),
    "stemma_chat_history": (c_status, [P, c_out_text]),
    "stemma_rag_open": (c_status, [ctypes.c_char_p, ctypes.POINTER(P)]),
    "stemma_rag_free": (None, [P]),
    "stemma_rag_add_document": (c_status, [P, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p,
                                           ctypes.c_int32, ctypes.POINTER(ctypes.c_int64)]),
    "stemma_rag_add_faq": (c_status, [P, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int64)]),
    "stemma_rag_search": (c_status, [P, ctypes.c_char_p, c_size, c_out_text]),
    "stemma_rag_answer": (c_status, [P, P, ctypes.c_char_p, c_size, ctypes.POINTER(GenOptions),
                                     STREAM_FN, P, c_out_text, c_out_text]),
    "stemma_agent_options_init": (None, [ctypes.POINTER(AgentOptions)]),
    "stemma_agent_new": (c_status, [P, ctypes.POINTER(AgentOptions), ctypes.POINTER(P)]),
    "stemma_agent_free": (None, [P]),
    "stemma_tool_result_set": (c_status, [P, ctypes.c_char_p]),
    "stemma_agent_add_tool": (c_status, [P, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p,
                                         TOOL_FN, P]),
    "stemma_agent_run": (c_status, [P, ctypes.c_char_p, c_out_text, c_out_text]),
}


def _candidates():
    env = os.environ.get("STEMMA_LIBRARY")
    if env:
        yield env
        return
    here = os.path.dirname(os.path.abspath(__file__))
    yield os.path.join(here, "libstemma.so")
    repo = os.path.abspath(os.path.join(here, "..", "..", ".."))
    yield os.path.join(repo, "build", "capi", "libstemma.so")
    yield from sorted(glob.glob(os.path.join(repo, "build-*", "capi", "libstemma.so")))
    found = ctypes.util.find_library("stemma")
    if found:
        yield found
    yield "libstemma.so"


_lock = threading.Lock()
_lib = None


def load():
    """The loaded library (loaded on first use), with argtypes/restype set for every function."""
    global _lib
    with _lock:
        if _lib is not None:
            return _lib
        errors = []
        for path in _candidates():
            if os.sep in path and not os.path.exists(path):
                continue
            try:
                lib = ctypes.CDLL(path)
            except OSError as e:
                errors.append(f"{path}: {e}")
                continue
            for name, (restype, argtypes) in _SIGNATURES.items():
                fn = getattr(lib, name)
                fn.restype = restype
                fn.argtypes = argtypes
            version = lib.stemma_abi_version()
            if version < ABI_VERSION:
                raise OSError(f"{path} has C ABI version {version}; this binding needs "
                              f">= {ABI_VERSION}")
            lib.path = path
            _lib = lib
            return lib
        raise OSError("libstemma.so not found: set STEMMA_LIBRARY to its path (tried: "
                      + "; ".join(errors or ["no candidate exists"]) + ")")


def take_text(lib, pointer):
    """Copies a char* the library returned and frees it."""
    if not pointer:
        return None
    try:
        return ctypes.string_at(pointer).decode("utf-8")
    finally:
        lib.stemma_string_free(pointer)


def encode(text, what="text"):
    """str -> UTF-8 bytes for a const char* argument (None passes NULL)."""
    if text is None:
        return None
    if isinstance(text, bytes):
        return text
    if not isinstance(text, str):
        raise TypeError(f"{what} must be str, not {type(text).__name__}")
    # surrogatepass keeps lone surrogates as bytes, so the library (not Python) refuses them.
    return text.encode("utf-8", "surrogatepass")
