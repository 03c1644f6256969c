package stemma

/*
#include <stdint.h>
#include "stemma.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime/cgo"
)

// StreamFunc receives generated text as it is produced (whole UTF-8 characters). Return true to
// go on, false to stop the generation (the call then returns the text so far, with
// FinishCancelled and no error). It runs on a Stemma thread: keep it short and do not
// call into the same Stemma handle from it.
type StreamFunc func(piece string) bool

// streamState is what a stream callback's cgo.Handle points to. A panic in the callback cannot
// unwind through C, so it is recovered, the generation is cancelled, and the panic is raised
// again in the goroutine that made the call (or reported by Program.Wait for async gens).
type streamState struct {
	fn        StreamFunc
	cancelled bool // fn returned false
	panicked  bool
	panicVal  any
}

// newStream returns the handle to pass as user_data (0 and nil when fn is nil). The caller
// deletes the handle once the C side can no longer call it.
func newStream(fn StreamFunc) (*streamState, cgo.Handle) {
	if fn == nil {
		return nil, 0
	}
	s := &streamState{fn: fn}
	return s, cgo.NewHandle(s)
}

// finish runs after a blocking call: it re-raises the callback's panic, and a cancellation the
// callback asked for is no error.
func (s *streamState) finish(err error) error {
	if s == nil {
		return err
	}
	if s.panicked {
		panic(s.panicVal)
	}
	if s.cancelled && errors.Is(err, ErrCancelled) {
		return nil
	}
	return err
}

func (s *streamState) panicError() error {
	if s != nil && s.panicked {
		return fmt.Errorf("stemma: stream callback panicked: %v", s.panicVal)
	}
	return nil
}

//export stemmaGoStream
func stemmaGoStream(h C.uintptr_t, piece *C.char, length C.size_t) (ret C.int32_t) {
	s := cgo.Handle(h).Value().(*streamState)
	if s.panicked || s.cancelled {
		return 1
	}
	defer func() {
		if r := recover(); r != nil {
			s.panicked, s.panicVal = true, r
			ret = 1
		}
	}()
	if s.fn(C.GoStringN(piece, C.int(length))) {
		return 0
	}
	s.cancelled = true
	return 1
}

// toolState is a tool's cgo.Handle target; it lives as long as its agent.
type toolState struct {
	name string
	fn   ToolFunc
	run  *agentRun // the run in progress (tools run on the goroutine that called Agent.Run)
}

//export stemmaGoTool
func stemmaGoTool(h C.uintptr_t, args *C.char, result *C.stemma_tool_result) (ret C.stemma_status) {
	t := cgo.Handle(h).Value().(*toolState)
	run := t.run
	defer func() {
		if r := recover(); r != nil {
			if run != nil {
				run.panicked, run.panicVal = true, r
			}
			ret = C.STEMMA_CANCELLED
		}
	}()
	out, err := t.fn(C.GoString(args))
	if err != nil {
		if run != nil {
			run.toolErr = fmt.Errorf("stemma: tool %q: %w", t.name, err)
		}
		return C.STEMMA_CANCELLED
	}
	text, err := cstring("tool result", out)
	if err != nil {
		if run != nil {
			run.toolErr = fmt.Errorf("stemma: tool %q: %w", t.name, err)
		}
		return C.STEMMA_INVALID_ARGUMENT
	}
	defer freeC(text)
	// A failure here ends the run with this status; its message stays in stemma_last_error,
	// which Agent.Run reads on this same thread.
	return C.stemma_tool_result_set(result, text)
}

//export stemmaGoProgramFn
func stemmaGoProgramFn(h C.uintptr_t, index C.size_t, program *C.stemma_program) C.stemma_status {
	b := cgo.Handle(h).Value().(*batchState)
	return b.run(int(index), program)
}
