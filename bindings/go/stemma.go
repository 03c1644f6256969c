// Package stemma is the Go binding of Stemma, an embeddable LLM engine and agent SDK. It wraps
// the C ABI (capi/stemma.h, libstemma.so) with cgo: an Engine generates text (streamed, or
// constrained by a regex or JSON schema), a Program runs SGLang-style gen/select/fork, a Chat
// keeps a multi-turn session in SQLite, a Rag store answers from documents and an Agent calls
// tools written in Go.
//
// Every handle type has a Close method that frees the C object exactly once; a finalizer calls
// Close for handles that are dropped without it. Using a handle after Close returns ErrClosed.
// Handles made from an Engine (programs, chats, agents) keep it alive: Engine.Close frees the C
// engine only once they are closed too.
//
// Build: the C header is found relative to this package; the library needs
// CGO_LDFLAGS="-L<build>/capi -Wl,-rpath,<build>/capi" (docs/bindings.md).
package stemma

/*
// (-Wno-unused-parameter: cgo's generated export wrappers have an unused parameter. The tests
// add -Werror through CGO_CFLAGS; users' compilers may warn about new things.)
#cgo CFLAGS: -I${SRCDIR}/../../capi -Wall -Wextra -Wno-unused-parameter
#cgo LDFLAGS: -lstemma
#include <stdlib.h>
#include "stemma.h"
*/
import "C"

import (
	"runtime"
	"strconv"
	"strings"
	"unsafe"
)

// ABIVersion is the STEMMA_ABI_VERSION this package was written against.
const ABIVersion = C.STEMMA_ABI_VERSION

// LibraryABIVersion returns the ABI version of the loaded libstemma.
func LibraryABIVersion() uint32 { return uint32(C.stemma_abi_version()) }

// Version returns the loaded library's version, e.g. "0.1.0".
func Version() string { return C.GoString(C.stemma_version()) }

// call runs one C call and turns a failed status into an *Error with stemma_last_error()'s
// message. The goroutine is locked to its OS thread because the message is thread-local.
func call(f func() C.stemma_status) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if st := f(); st != C.STEMMA_OK {
		return lastError(st)
	}
	return nil
}

// lastError must run on the thread of the failed call (call() and callbacks ensure that).
func lastError(st C.stemma_status) error {
	return &Error{Status: Status(st), Message: C.GoString(C.stemma_last_error())}
}

// cstring converts s to a C string the caller frees with C.free. A NUL byte inside s would cut
// the text short in C, so it is refused.
func cstring(name, s string) (*C.char, error) {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return nil, &Error{Status: InvalidArgument,
			Message: name + " contains a NUL byte at offset " + itoa(i)}
	}
	return C.CString(s), nil
}

// optCString is cstring for optional text: "" gives NULL.
func optCString(name, s string) (*C.char, error) {
	if s == "" {
		return nil, nil
	}
	return cstring(name, s)
}

func freeC(p *C.char) {
	if p != nil {
		C.free(unsafe.Pointer(p))
	}
}

// takeString copies library-owned text into Go and releases it with stemma_string_free.
func takeString(p *C.char) string {
	if p == nil {
		return ""
	}
	s := C.GoString(p)
	C.stemma_string_free(p)
	return s
}

// cStringArray copies strs into one C array of C strings; free releases all of it.
func cStringArray(name string, strs []string) (arr **C.char, free func(), err error) {
	if len(strs) == 0 {
		return nil, func() {}, nil
	}
	size := C.size_t(len(strs)) * C.size_t(unsafe.Sizeof((*C.char)(nil)))
	base := (**C.char)(C.malloc(size))
	items := unsafe.Slice(base, len(strs))
	for i := range items {
		items[i] = nil
	}
	free = func() {
		for _, p := range items {
			freeC(p)
		}
		C.free(unsafe.Pointer(base))
	}
	for i, s := range strs {
		if items[i], err = cstring(name+"["+itoa(i)+"]", s); err != nil {
			free()
			return nil, nil, err
		}
	}
	return base, free, nil
}

func itoa(i int) string { return strconv.Itoa(i) }
