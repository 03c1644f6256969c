package stemma

/*
#include <stdlib.h>
#include "stemma.h"
#include "trampolines.h"
*/
import "C"

import (
	"errors"
	"runtime/cgo"
	"unsafe"
)

// GenOptions controls sampling and constraints. The zero value means the library's defaults:
// greedy, at most 128 tokens, no stop strings, no constraint.
type GenOptions struct {
	MaxTokens         int     // 0: 128
	Temperature       float32 // <= 0: greedy
	TopK              int     // 0: off
	TopP              float32 // 0 or 1: off
	MinP              float32 // 0: off
	Seed              uint64
	RepetitionPenalty float32  // 0 or 1: off
	Stop              []string // the reply ends before the first of these
	Regex             string   // "" or the output must match this regex
	JSONSchema        string   // "" or the output must be JSON valid under this schema
	NoJumpForward     bool     // with a constraint: sample every token instead of appending forced text
}

// cGenOptions is a C copy of GenOptions; free releases its strings.
type cGenOptions struct {
	c     *C.stemma_gen_options // C memory, so the C side may keep it past a call
	frees []func()
}

func (o *GenOptions) toC() (*cGenOptions, error) {
	co := &cGenOptions{c: (*C.stemma_gen_options)(C.calloc(1, C.sizeof_stemma_gen_options))}
	co.frees = append(co.frees, func() { C.free(unsafe.Pointer(co.c)) })
	C.stemma_go_gen_options_init(co.c)
	if o == nil {
		return co, nil
	}
	c := co.c
	if o.MaxTokens != 0 {
		c.max_tokens = C.int32_t(o.MaxTokens)
	}
	if o.Temperature != 0 {
		c.temperature = C.float(o.Temperature)
	}
	if o.TopK != 0 {
		c.top_k = C.int32_t(o.TopK)
	}
	if o.TopP != 0 {
		c.top_p = C.float(o.TopP)
	}
	if o.MinP != 0 {
		c.min_p = C.float(o.MinP)
	}
	if o.Seed != 0 {
		c.seed = C.uint64_t(o.Seed)
	}
	if o.RepetitionPenalty != 0 {
		c.repetition_penalty = C.float(o.RepetitionPenalty)
	}
	if o.NoJumpForward {
		c.jump_forward = 0
	}
	if len(o.Stop) > 0 {
		arr, free, err := cStringArray("stop", o.Stop)
		if err != nil {
			co.free()
			return nil, err
		}
		co.frees = append(co.frees, free)
		c.stop, c.num_stop = arr, C.size_t(len(o.Stop))
	}
	for _, s := range []struct {
		name, value string
		dst         **C.char
	}{{"regex", o.Regex, &c.regex}, {"json schema", o.JSONSchema, &c.json_schema}} {
		p, err := optCString(s.name, s.value)
		if err != nil {
			co.free()
			return nil, err
		}
		if p != nil {
			*s.dst = p
			co.frees = append(co.frees, func() { freeC(p) })
		}
	}
	return co, nil
}

func (co *cGenOptions) free() {
	for i := len(co.frees) - 1; i >= 0; i-- {
		co.frees[i]()
	}
	co.frees = nil
}

// FinishReason says why a generation ended.
type FinishReason int32

// The finish reasons of capi/stemma.h.
const (
	FinishNone      FinishReason = C.STEMMA_FINISH_NONE
	FinishStop      FinishReason = C.STEMMA_FINISH_STOP // EOS, a stop string, or the constraint completed
	FinishLength    FinishReason = C.STEMMA_FINISH_LENGTH
	FinishCancelled FinishReason = C.STEMMA_FINISH_CANCELLED
	FinishError     FinishReason = C.STEMMA_FINISH_ERROR
)

func (f FinishReason) String() string {
	switch f {
	case FinishNone:
		return "none"
	case FinishStop:
		return "stop"
	case FinishLength:
		return "length"
	case FinishCancelled:
		return "cancelled"
	case FinishError:
		return "error"
	}
	return "finish(" + itoa(int(f)) + ")"
}

// Generation is a finished (or cancelled) generation.
type Generation struct {
	Text   string
	Finish FinishReason
}

// Generate continues prompt (plain text; BOS added as the model says) and blocks until done.
// opts may be nil.
func (e *Engine) Generate(prompt string, opts *GenOptions) (Generation, error) {
	return e.GenerateStream(prompt, opts, nil)
}

// GenerateStream is Generate with onPiece called for each piece of text as it is produced.
// When onPiece returns false the generation stops: the Generation holds the text so far and
// Finish is FinishCancelled (no error).
func (e *Engine) GenerateStream(prompt string, opts *GenOptions, onPiece StreamFunc) (Generation, error) {
	p, err := e.acquire()
	if err != nil {
		return Generation{}, err
	}
	defer e.h.release()
	cprompt, err := cstring("prompt", prompt)
	if err != nil {
		return Generation{}, err
	}
	defer freeC(cprompt)
	co, err := opts.toC()
	if err != nil {
		return Generation{}, err
	}
	defer co.free()
	stream, sh := newStream(onPiece)
	if sh != 0 {
		defer sh.Delete()
	}
	var out *C.char
	var finish C.stemma_finish_reason
	err = call(func() C.stemma_status {
		return C.stemma_go_generate(p, cprompt, co.c, C.uintptr_t(sh), &out, &finish)
	})
	gen := Generation{Text: takeString(out), Finish: FinishReason(finish)}
	if errors.Is(err, ErrCancelled) {
		gen.Finish = FinishCancelled
	}
	return gen, stream.finish(err)
}

// handles is a set of cgo.Handles whose C callbacks may still run; release deletes them.
type handles []cgo.Handle

func (hs handles) release() {
	for _, h := range hs {
		h.Delete()
	}
}
