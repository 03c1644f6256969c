"""Status codes of the C ABI as Python exceptions: every failed call raises a StemmaError
subclass carrying the status name and the library's message (stemma_last_error)."""
from . import _lib

OK = 0


class StemmaError(Exception):
    """A Stemma call failed. `status` is the stemma_status code, `name` its name."""

    status = None

    def __init__(self, message, status=None, name=None):
        super().__init__(message)
        if status is not None:
            self.status = status
        self.name = name or STATUS_NAMES.get(self.status, "UNKNOWN")
        self.message = message


class InvalidArgument(StemmaError, ValueError):
    status = 1


class NotFound(StemmaError, LookupError):
    status = 2


class OutOfRange(StemmaError, IndexError):
    status = 3


class CorruptData(StemmaError):
    status = 4


class Unsupported(StemmaError):
    status = 5


class IoError(StemmaError, OSError):
    status = 6


class ResourceExhausted(StemmaError):
    status = 7


class Cancelled(StemmaError):
    status = 8


class FailedPrecondition(StemmaError):
    status = 9


class InternalError(StemmaError):
    status = 10


_BY_STATUS = {cls.status: cls for cls in (InvalidArgument, NotFound, OutOfRange, CorruptData,
                                          Unsupported, IoError, ResourceExhausted, Cancelled,
                                          FailedPrecondition, InternalError)}
STATUS_NAMES = {0: "OK", 1: "INVALID_ARGUMENT", 2: "NOT_FOUND", 3: "OUT_OF_RANGE",
                4: "CORRUPT_DATA", 5: "UNSUPPORTED", 6: "IO_ERROR", 7: "RESOURCE_EXHAUSTED",
                8: "CANCELLED", 9: "FAILED_PRECONDITION", 10: "INTERNAL"}


def error_for(status, lib=None):
    """The exception for a failed status, with this thread's last error as its message."""
    lib = lib or _lib.load()
    message = (lib.stemma_last_error() or b"").decode("utf-8", "replace")
    name = (lib.stemma_status_name(status) or b"UNKNOWN").decode()
    cls = _BY_STATUS.get(status, StemmaError)
    return cls(message or name, status=status, name=name)


def check(status, lib=None):
    """Raises the StemmaError for `status` unless it is OK."""
    if status != OK:
        raise error_for(status, lib)
