"""Python binding of Stemma's C ABI (libstemma.so, capi/stemma.h), with ctypes and the
standard library only.

    import stemma
    engine = stemma.Engine("models/stemma-faq.gguf", threads=2)
    print(engine.generate("<|im_start|>user\\nHi<|im_end|>\\n<|im_start|>assistant\\n"))
    for piece in engine.stream(prompt, max_tokens=64):
        print(piece, end="", flush=True)

Set STEMMA_LIBRARY to the path of libstemma.so when it is not found on its own (see _lib.py).
"""
from . import _lib
from .agent import Agent, AgentResult
from .chat import Chat, ChatStore
from .engine import Completion, Engine
from .errors import (Cancelled, CorruptData, FailedPrecondition, InternalError, InvalidArgument,
                     IoError, NotFound, OutOfRange, ResourceExhausted, StemmaError, Unsupported)
from .program import Program
from .rag import Answer, Rag


def abi_version():
    return _lib.load().stemma_abi_version()


def version():
    return _lib.load().stemma_version().decode()


def library_path():
    return _lib.load().path


__all__ = ["Agent", "AgentResult", "Answer", "Cancelled", "Chat", "ChatStore", "Completion",
           "CorruptData", "Engine", "FailedPrecondition", "InternalError", "InvalidArgument",
           "IoError", "NotFound", "OutOfRange", "Program", "Rag", "ResourceExhausted",
           "StemmaError", "Unsupported", "abi_version", "library_path", "version"]
