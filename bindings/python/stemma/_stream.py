"""Streaming: a Python callable as a stemma_stream_fn, and generator-style iteration over a
blocking generating call run on a helper thread."""
import ctypes
import queue
import threading

from . import _lib


class TextCallback:
    """Wraps on_text(piece: str). It runs on a Stemma thread; returning False cancels the
    generation. An exception it raises cancels too and is re-raised by raise_pending()."""

    def __init__(self, on_text):
        self.on_text = on_text
        self.error = None
        self.cancelled = False
        self.c_fn = _lib.STREAM_FN(self._call) if on_text is not None else _lib.STREAM_FN()

    def _call(self, _user_data, piece, length):
        if self.cancelled:
            return 1
        try:
            text = ctypes.string_at(piece, length).decode("utf-8", "replace")
            if self.on_text(text) is False:
                self.cancelled = True
        except BaseException as e:  # noqa: BLE001 - re-raised on the caller's thread
            self.error = e
            self.cancelled = True
        return 1 if self.cancelled else 0

    def raise_pending(self):
        if self.error is not None:
            error, self.error = self.error, None
            raise error


class _Stop:
    pass


def iterate(run):
    """Yields the pieces a blocking call streams. `run(on_text)` makes the call with on_text as
    its callback and returns its result; closing the generator early cancels the call (the
    callback returns False from then on) and waits for it to end."""
    pieces = queue.Queue()
    stop = threading.Event()
    outcome = {}

    def on_text(piece):
        if stop.is_set():
            return False
        pieces.put(piece)
        return True

    def worker():
        try:
            outcome["result"] = run(on_text)
        except BaseException as e:  # noqa: BLE001 - handed to the iterating thread
            outcome["error"] = e
        finally:
            pieces.put(_Stop)

    thread = threading.Thread(target=worker, name="stemma-stream", daemon=True)
    thread.start()
    try:
        while True:
            piece = pieces.get()
            if piece is _Stop:
                break
            yield piece
    finally:
        stop.set()
        thread.join()
    # Reached only when the call ended by itself (a closed generator stops at the yield).
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("result")
