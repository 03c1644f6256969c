package stemma

/*
#include <stdlib.h>
#include "stemma.h"
#include "trampolines.h"
*/
import "C"

import (
	"errors"
	"runtime"
	"runtime/cgo"
	"sync"
	"unsafe"
)

// Program is an SGLang-style state: text, role blocks, gen/select into named variables,
// fork/join. Operations run in the order they are called, asynchronously: Gen and Select return
// once queued; Get, Text and Wait block until what they need is done. Different programs (e.g.
// forks) run concurrently and share their common prefix in the KV cache.
type Program struct {
	h      handle
	cbs    *pendingStreams // stream callbacks of queued gens
	batch  *batchState     // set on the borrowed programs of RunBatch
	engine *handle         // the engine's handle, for forks
}

// pendingStreams are the stream callbacks of queued gens and their cgo.Handles, deleted once
// the gens are known to be done. A struct of its own so that the C free function can release
// them without referring to the Program (a cycle through a finalized object is never freed).
type pendingStreams struct {
	mu      sync.Mutex
	streams []*streamState
	handles handles
}

func (ps *pendingStreams) add(s *streamState, h cgo.Handle) {
	ps.mu.Lock()
	ps.streams = append(ps.streams, s)
	ps.handles = append(ps.handles, h)
	ps.mu.Unlock()
}

func (ps *pendingStreams) take() ([]*streamState, handles) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	s, h := ps.streams, ps.handles
	ps.streams, ps.handles = nil, nil
	return s, h
}

// NewProgram makes an empty state on the engine.
func (e *Engine) NewProgram() (*Program, error) {
	ep, parent, err := e.adopt()
	if err != nil {
		return nil, err
	}
	var ptr *C.stemma_program
	if err := call(func() C.stemma_status { return C.stemma_program_new(ep, &ptr) }); err != nil {
		parent.release()
		return nil, err
	}
	return newOwnedProgram(ptr, parent), nil
}

func newOwnedProgram(ptr *C.stemma_program, parent *handle) *Program {
	cbs := &pendingStreams{}
	p := &Program{engine: parent, cbs: cbs}
	p.h.init(unsafe.Pointer(ptr), func(q unsafe.Pointer) {
		C.stemma_program_free((*C.stemma_program)(q))
		// stemma_program_free has waited for the gens, so no stream callback runs any more.
		_, hs := cbs.take()
		hs.release()
	}, parent)
	runtime.SetFinalizer(p, (*Program).Close)
	return p
}

// Close waits for the queued operations and frees the state. Safe to call more than once.
func (p *Program) Close() error {
	if p == nil || p.batch != nil {
		return nil // RunBatch's states are freed by the library
	}
	if p.h.close() {
		runtime.SetFinalizer(p, nil)
	}
	return nil
}

func (p *Program) acquire() (*C.stemma_program, error) {
	if p == nil {
		return nil, ErrClosed
	}
	ptr, err := p.h.acquire()
	return (*C.stemma_program)(ptr), err
}

func (p *Program) withText(name, text string, f func(*C.stemma_program, *C.char) C.stemma_status) error {
	ptr, err := p.acquire()
	if err != nil {
		return err
	}
	defer p.h.release()
	ctext, err := cstring(name, text)
	if err != nil {
		return err
	}
	defer freeC(ctext)
	return call(func() C.stemma_status { return f(ptr, ctext) })
}

// Append adds plain text to the state.
func (p *Program) Append(text string) error {
	return p.withText("text", text, func(ptr *C.stemma_program, t *C.char) C.stemma_status {
		return C.stemma_program_append(ptr, t)
	})
}

// Message adds a whole message in the model's chat template; role is "system", "user" or
// "assistant".
func (p *Program) Message(role, content string) error {
	ccontent, err := cstring("content", content)
	if err != nil {
		return err
	}
	defer freeC(ccontent)
	return p.withText("role", role, func(ptr *C.stemma_program, r *C.char) C.stemma_status {
		return C.stemma_program_message(ptr, r, ccontent)
	})
}

// RoleBegin opens a role block (e.g. "assistant") whose content is generated; RoleEnd closes it.
func (p *Program) RoleBegin(role string) error {
	return p.withText("role", role, func(ptr *C.stemma_program, r *C.char) C.stemma_status {
		return C.stemma_program_role_begin(ptr, r)
	})
}

// RoleEnd closes the role block opened by RoleBegin.
func (p *Program) RoleEnd() error {
	ptr, err := p.acquire()
	if err != nil {
		return err
	}
	defer p.h.release()
	return call(func() C.stemma_status { return C.stemma_program_role_end(ptr) })
}

// Gen queues a generation into variable name (its text is appended to the state too). opts
// may be nil; onPiece (may be nil) is called on a Stemma thread as text is produced, after Gen
// has returned.
func (p *Program) Gen(name string, opts *GenOptions, onPiece StreamFunc) error {
	ptr, err := p.acquire()
	if err != nil {
		return err
	}
	defer p.h.release()
	cname, err := cstring("name", name)
	if err != nil {
		return err
	}
	defer freeC(cname)
	co, err := opts.toC()
	if err != nil {
		return err
	}
	defer co.free()
	stream, sh := newStream(onPiece)
	if sh != 0 {
		// Kept until the gen is known to be done (Wait, Fork, Join, Close).
		p.cbs.add(stream, sh)
	}
	return call(func() C.stemma_status { return C.stemma_go_program_gen(ptr, cname, co.c, C.uintptr_t(sh)) })
}

// Select queues choosing the most likely of choices (by the model's log-probabilities) into
// variable name.
func (p *Program) Select(name string, choices ...string) error {
	ptr, err := p.acquire()
	if err != nil {
		return err
	}
	defer p.h.release()
	cname, err := cstring("name", name)
	if err != nil {
		return err
	}
	defer freeC(cname)
	arr, free, err := cStringArray("choices", choices)
	if err != nil {
		return err
	}
	defer free()
	return call(func() C.stemma_status {
		return C.stemma_program_select(ptr, cname, arr, C.size_t(len(choices)))
	})
}

// Get waits, then returns variable name (an error matching ErrNotFound if it was never set).
func (p *Program) Get(name string) (string, error) {
	ptr, err := p.acquire()
	if err != nil {
		return "", err
	}
	defer p.h.release()
	cname, err := cstring("name", name)
	if err != nil {
		return "", err
	}
	defer freeC(cname)
	var out *C.char
	if err := call(func() C.stemma_status { return C.stemma_program_get(ptr, cname, &out) }); err != nil {
		return "", err
	}
	return takeString(out), nil
}

// Text waits, then returns the whole text of the state.
func (p *Program) Text() (string, error) {
	ptr, err := p.acquire()
	if err != nil {
		return "", err
	}
	defer p.h.release()
	var out *C.char
	if err := call(func() C.stemma_status { return C.stemma_program_text(ptr, &out) }); err != nil {
		return "", err
	}
	return takeString(out), nil
}

// takeDone detaches the stream callbacks queued so far; call doneStreams once the C side has
// waited for them.
func (p *Program) takeDone() ([]*streamState, handles) { return p.cbs.take() }

// doneStreams deletes the handles (or hands them to RunBatch, whose states the library frees
// later) and reports a stream callback's panic as an error.
func (p *Program) doneStreams(streams []*streamState, hs handles) error {
	if p.batch != nil {
		p.batch.keep(hs)
	} else {
		hs.release()
	}
	for _, s := range streams {
		if err := s.panicError(); err != nil {
			return err
		}
	}
	return nil
}

// Wait waits for the queued operations and returns the first error among them.
func (p *Program) Wait() error {
	ptr, err := p.acquire()
	if err != nil {
		return err
	}
	defer p.h.release()
	streams, hs := p.takeDone()
	err = call(func() C.stemma_status { return C.stemma_program_wait(ptr) })
	if perr := p.doneStreams(streams, hs); perr != nil && err == nil {
		err = perr
	}
	return err
}

// Fork waits, then makes n new states that start as copies of this one and share its prefix in
// the KV cache. Each fork is closed on its own.
func (p *Program) Fork(n int) ([]*Program, error) {
	if n <= 0 {
		return nil, &Error{Status: InvalidArgument, Message: "fork count must be positive, got " + itoa(n)}
	}
	ptr, err := p.acquire()
	if err != nil {
		return nil, err
	}
	defer p.h.release()
	// Each fork holds a reference to the engine; this one is held while they are made.
	engine := p.engine
	if _, err := engine.acquire(); err != nil {
		return nil, err
	}
	streams, hs := p.takeDone()
	out := (**C.stemma_program)(C.calloc(C.size_t(n), C.size_t(unsafe.Sizeof((*C.stemma_program)(nil)))))
	defer C.free(unsafe.Pointer(out))
	err = call(func() C.stemma_status { return C.stemma_program_fork(ptr, C.size_t(n), out) })
	perr := p.doneStreams(streams, hs)
	if err != nil {
		engine.release()
		return nil, err
	}
	forks := make([]*Program, n)
	for i, f := range unsafe.Slice(out, n) {
		if i > 0 {
			engine.addRef()
		}
		forks[i] = newOwnedProgram(f, engine)
	}
	return forks, perr
}

// Join waits for all the programs (e.g. forks) and returns the first error.
func Join(programs ...*Program) error {
	if len(programs) == 0 {
		return nil
	}
	ptrs := (**C.stemma_program)(C.calloc(C.size_t(len(programs)), C.size_t(unsafe.Sizeof((*C.stemma_program)(nil)))))
	defer C.free(unsafe.Pointer(ptrs))
	slots := unsafe.Slice(ptrs, len(programs))
	type taken struct {
		streams []*streamState
		handles handles
	}
	done := make([]taken, 0, len(programs))
	for i, p := range programs {
		ptr, err := p.acquire()
		if err != nil {
			for _, q := range programs[:i] {
				q.h.release()
			}
			return err
		}
		slots[i] = ptr
	}
	for _, p := range programs {
		s, h := p.takeDone()
		done = append(done, taken{s, h})
	}
	err := call(func() C.stemma_status { return C.stemma_program_join(ptrs, C.size_t(len(programs))) })
	for i, p := range programs {
		if perr := p.doneStreams(done[i].streams, done[i].handles); perr != nil && err == nil {
			err = perr
		}
		p.h.release()
	}
	return err
}

// batchState is RunBatch's cgo.Handle target.
type batchState struct {
	fn      func(index int, p *Program) error
	engine  *handle // held by RunBatch for the whole call
	mu      sync.Mutex
	err     error   // the first error fn returned
	panic   any     // the first panic fn raised
	handles handles // stream handles of the batch's states, deleted after RunBatch
}

func (b *batchState) keep(hs handles) {
	b.mu.Lock()
	b.handles = append(b.handles, hs...)
	b.mu.Unlock()
}

func (b *batchState) run(index int, ptr *C.stemma_program) (ret C.stemma_status) {
	p := &Program{batch: b, engine: b.engine, cbs: &pendingStreams{}}
	p.h.init(unsafe.Pointer(ptr), nil)
	defer func() {
		// The library frees the state after fn returns: refuse further use, and wait for calls
		// that other goroutines still make on it.
		p.h.closeAndDrain()
		_, hs := p.takeDone()
		b.keep(hs)
		if r := recover(); r != nil {
			b.mu.Lock()
			if b.panic == nil {
				b.panic = r
			}
			b.mu.Unlock()
			ret = C.STEMMA_CANCELLED
		}
	}()
	if err := b.fn(index, p); err != nil {
		b.mu.Lock()
		if b.err == nil {
			b.err = err
		}
		b.mu.Unlock()
		var se *Error
		if errors.As(err, &se) && se.Status != OK {
			return C.stemma_status(se.Status)
		}
		return C.STEMMA_CANCELLED
	}
	return C.STEMMA_OK
}

// RunBatch runs fn(index, program) for index 0..count-1 on parallelism threads (0: count), each
// with a fresh state, and waits for all. A program given to fn is valid only until fn returns
// (the library frees it; its Close does nothing). The first error fn returns is returned; a
// panic in fn is raised again here.
func (e *Engine) RunBatch(count, parallelism int, fn func(index int, p *Program) error) error {
	if count < 0 || parallelism < 0 {
		return &Error{Status: InvalidArgument, Message: "RunBatch count and parallelism must not be negative"}
	}
	ep, err := e.acquire()
	if err != nil {
		return err
	}
	defer e.h.release()
	b := &batchState{fn: fn, engine: &e.h}
	bh := cgo.NewHandle(b)
	defer bh.Delete()
	err = call(func() C.stemma_status {
		return C.stemma_go_program_run_batch(ep, C.size_t(count), C.size_t(parallelism), C.uintptr_t(bh))
	})
	b.handles.release()
	if b.panic != nil {
		panic(b.panic)
	}
	if b.err != nil {
		return b.err
	}
	return err
}
