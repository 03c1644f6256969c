"""Keyword arguments of generate/gen/send/answer -> the C struct stemma_gen_options."""
import ctypes
import json

from . import _lib

GEN_OPTION_NAMES = ("max_tokens", "temperature", "top_k", "top_p", "min_p", "seed",
                    "repetition_penalty", "stop", "regex", "json_schema", "jump_forward")


class CGenOptions:
    """A filled stemma_gen_options and the buffers its pointers point into (kept alive here)."""

    def __init__(self, lib, **kw):
        unknown = set(kw) - set(GEN_OPTION_NAMES)
        if unknown:
            raise TypeError(f"unknown generation option(s): {', '.join(sorted(unknown))}")
        self.struct = _lib.GenOptions()
        self.struct.struct_size = ctypes.sizeof(self.struct)  # init writes only our struct
        lib.stemma_gen_options_init(ctypes.byref(self.struct))
        s = self.struct
        for name in ("max_tokens", "top_k", "seed"):
            if kw.get(name) is not None:
                setattr(s, name, int(kw[name]))
        for name in ("temperature", "top_p", "min_p", "repetition_penalty"):
            if kw.get(name) is not None:
                setattr(s, name, float(kw[name]))
        stop = kw.get("stop")
        if stop is not None:
            if isinstance(stop, (str, bytes)):
                stop = [stop]
            self._stop = [_lib.encode(x, "stop") for x in stop]
            self._stop_array = (ctypes.c_char_p * max(1, len(self._stop)))(*self._stop)
            s.stop = ctypes.cast(self._stop_array, _lib.c_char_pp)
            s.num_stop = len(self._stop)
        if kw.get("regex") is not None:
            self._regex = _lib.encode(kw["regex"], "regex")
            s.regex = self._regex
        schema = kw.get("json_schema")
        if schema is not None:
            if not isinstance(schema, (str, bytes)):
                schema = json.dumps(schema)
            self._schema = _lib.encode(schema, "json_schema")
            s.json_schema = self._schema
        if kw.get("jump_forward") is not None:
            s.jump_forward = 1 if kw["jump_forward"] else 0

    def pointer(self):
        return ctypes.byref(self.struct)
