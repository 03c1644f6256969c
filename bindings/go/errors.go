package stemma

/*
#include "stemma.h"
*/
import "C"

import "errors"

// Status is a stemma_status code.
type Status int32

// The codes of capi/stemma.h.
const (
	OK                 Status = C.STEMMA_OK
	InvalidArgument    Status = C.STEMMA_INVALID_ARGUMENT
	NotFound           Status = C.STEMMA_NOT_FOUND
	OutOfRange         Status = C.STEMMA_OUT_OF_RANGE
	CorruptData        Status = C.STEMMA_CORRUPT_DATA
	Unsupported        Status = C.STEMMA_UNSUPPORTED
	IOError            Status = C.STEMMA_IO_ERROR
	ResourceExhausted  Status = C.STEMMA_RESOURCE_EXHAUSTED
	Cancelled          Status = C.STEMMA_CANCELLED
	FailedPrecondition Status = C.STEMMA_FAILED_PRECONDITION
	Internal           Status = C.STEMMA_INTERNAL
)

// String returns the library's name for the code: "NOT_FOUND", ...
func (s Status) String() string { return C.GoString(C.stemma_status_name(C.stemma_status(s))) }

// Error is a failed Stemma call: the status code and stemma_last_error()'s message. Compare
// codes with errors.Is(err, stemma.ErrNotFound) (or any &Error{Status: ...} without message).
type Error struct {
	Status  Status
	Message string
}

func (e *Error) Error() string {
	if e.Message == "" {
		return "stemma: " + e.Status.String()
	}
	return "stemma: " + e.Status.String() + ": " + e.Message
}

// Is reports whether target is an *Error with the same status and no message of its own (the
// Err* values), so errors.Is matches by code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Message == "" && t.Status == e.Status
}

// Values for errors.Is, one per status code.
var (
	ErrInvalidArgument    = &Error{Status: InvalidArgument}
	ErrNotFound           = &Error{Status: NotFound}
	ErrOutOfRange         = &Error{Status: OutOfRange}
	ErrCorruptData        = &Error{Status: CorruptData}
	ErrUnsupported        = &Error{Status: Unsupported}
	ErrIO                 = &Error{Status: IOError}
	ErrResourceExhausted  = &Error{Status: ResourceExhausted}
	ErrCancelled          = &Error{Status: Cancelled}
	ErrFailedPrecondition = &Error{Status: FailedPrecondition}
	ErrInternal           = &Error{Status: Internal}
)

// ErrClosed is returned by every method of a handle that was closed (or never opened).
var ErrClosed = errors.New("stemma: handle is closed")
