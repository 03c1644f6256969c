package stemma

import (
	"sync"
	"sync/atomic"
	"unsafe"
)

// handlesFreed counts C objects freed (tests check that finalizers free dropped handles).
var handlesFreed atomic.Int64

// handle owns one C object. It counts the calls in flight and the handles that depend on it
// (a program depends on its engine): close marks it closed at once, so new calls get ErrClosed,
// and the C free function runs exactly once, when the last of them is done.
type handle struct {
	mu      sync.Mutex
	ptr     unsafe.Pointer
	refs    int
	closed  bool
	free    func(unsafe.Pointer) // nil: borrowed, the library frees it
	parents []*handle            // released after this one is freed
	drained *sync.Cond           // closeAndDrain waits on it for refs to reach 0
}

func (h *handle) init(ptr unsafe.Pointer, free func(unsafe.Pointer), parents ...*handle) {
	h.ptr, h.free, h.parents = ptr, free, parents
}

// acquire returns the C pointer for one call; release must follow.
func (h *handle) acquire() (unsafe.Pointer, error) {
	if h == nil {
		return nil, ErrClosed
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed || h.ptr == nil {
		return nil, ErrClosed
	}
	h.refs++
	return h.ptr, nil
}

// addRef takes one more reference; the caller must already hold one.
func (h *handle) addRef() {
	h.mu.Lock()
	h.refs++
	h.mu.Unlock()
}

func (h *handle) release() {
	h.mu.Lock()
	h.refs--
	last := h.closed && h.refs == 0
	if h.drained != nil && h.refs == 0 {
		h.drained.Broadcast()
	}
	h.mu.Unlock()
	if last {
		h.destroy()
	}
}

// close is idempotent; it reports whether this call was the one that closed the handle.
func (h *handle) close() bool {
	if h == nil {
		return false
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return false
	}
	h.closed = true
	last := h.refs == 0
	h.mu.Unlock()
	if last {
		h.destroy()
	}
	return true
}

func (h *handle) destroy() {
	h.mu.Lock()
	ptr := h.ptr
	h.ptr = nil
	h.mu.Unlock()
	if ptr != nil && h.free != nil {
		h.free(ptr)
		handlesFreed.Add(1)
	}
	for _, p := range h.parents {
		p.release()
	}
	h.parents = nil
}

// closeAndDrain closes the handle and waits until no call holds it: for borrowed handles, whose
// C object the library frees as soon as this returns.
func (h *handle) closeAndDrain() {
	h.close()
	h.mu.Lock()
	if h.drained == nil {
		h.drained = sync.NewCond(&h.mu)
	}
	for h.refs > 0 {
		h.drained.Wait()
	}
	h.mu.Unlock()
}
