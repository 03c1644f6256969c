package stemma

/*
#include <stdlib.h>
#include "stemma.h"
#include "trampolines.h"
*/
import "C"

import (
	"encoding/json"
	"runtime"
	"unsafe"
)

// Backend is where an engine runs its model (STEMMA_BACKEND_*).
type Backend int32

const (
	// BackendAuto (the zero value): the GPU when the library has CUDA and the GPU answers, else
	// the CPU. ModelInfo's "backend" says which runs and "backend_note" why.
	BackendAuto Backend = C.STEMMA_BACKEND_AUTO
	BackendCPU  Backend = C.STEMMA_BACKEND_CPU
	// BackendCUDA: the GPU; Open fails with ErrUnsupported on a library built without CUDA and
	// with ErrFailedPrecondition where no GPU is usable.
	BackendCUDA Backend = C.STEMMA_BACKEND_CUDA
)

// EngineOptions tunes an engine; the zero value means the library's defaults.
type EngineOptions struct {
	Threads           int   // backend threads; 0: one per hardware thread
	PageSize          int   // KV positions per page; 0: 16
	KVMemoryBytes     int64 // KV cache size; 0: 512 MiB
	MaxBatchTokens    int   // tokens per engine step; 0: 2048
	DisableRadixCache bool  // true: no prefix sharing (the baseline)
	Backend           Backend
	Device            int   // GPU index for BackendCUDA and BackendAuto
	GPUKVMemoryBytes  int64 // CUDA: KV cache cap; 0: 90% of the GPU memory left after the weights
	// CUDA: true reads a prefix cached for several requests once per request instead of once
	// per batch (the baseline).
	DisableSharedPrefixAttention bool
}

// Engine is a loaded model with its KV cache and worker thread. Its methods may be called from
// many goroutines at once; concurrent generations are batched together.
type Engine struct {
	h handle
}

// Open loads a model: a .gguf file or a folder with config.json and *.safetensors. opts may be
// nil.
func Open(modelPath string, opts *EngineOptions) (*Engine, error) {
	var co C.stemma_engine_options
	C.stemma_go_engine_options_init(&co)
	path, err := cstring("model path", modelPath)
	if err != nil {
		return nil, err
	}
	defer freeC(path)
	co.model_path = path
	if opts != nil {
		if opts.Threads != 0 {
			co.threads = C.int32_t(opts.Threads)
		}
		if opts.PageSize != 0 {
			co.page_size = C.int32_t(opts.PageSize)
		}
		if opts.KVMemoryBytes != 0 {
			co.kv_memory_bytes = C.int64_t(opts.KVMemoryBytes)
		}
		if opts.MaxBatchTokens != 0 {
			co.max_batch_tokens = C.int32_t(opts.MaxBatchTokens)
		}
		if opts.DisableRadixCache {
			co.radix_cache = 0
		}
		co.backend = C.int32_t(opts.Backend)
		co.device = C.int32_t(opts.Device)
		co.gpu_kv_memory_bytes = C.int64_t(opts.GPUKVMemoryBytes)
		if opts.DisableSharedPrefixAttention {
			co.shared_prefix_attention = 0
		}
	}
	var ptr *C.stemma_engine
	if err := call(func() C.stemma_status { return C.stemma_engine_open(&co, &ptr) }); err != nil {
		return nil, err
	}
	e := &Engine{}
	e.h.init(unsafe.Pointer(ptr), func(p unsafe.Pointer) { C.stemma_engine_free((*C.stemma_engine)(p)) })
	runtime.SetFinalizer(e, (*Engine).Close)
	return e, nil
}

// Close frees the engine once the programs, chats and agents made from it are closed too. It
// is safe to call more than once; later calls do nothing.
func (e *Engine) Close() error {
	if e != nil && e.h.close() {
		runtime.SetFinalizer(e, nil)
	}
	return nil
}

func (e *Engine) acquire() (*C.stemma_engine, error) {
	if e == nil {
		return nil, ErrClosed
	}
	p, err := e.h.acquire()
	return (*C.stemma_engine)(p), err
}

// adopt makes a new handle depend on the engine (one reference held until it is freed).
func (e *Engine) adopt() (*C.stemma_engine, *handle, error) {
	p, err := e.acquire()
	if err != nil {
		return nil, nil, err
	}
	return p, &e.h, nil
}

// Stats are the engine's counters since it was opened.
type Stats struct {
	CachedTokens      int64 // prompt tokens served from the prefix cache
	PrefillTokens     int64 // prompt tokens computed
	ComputedTokens    int64 // all tokens run through the model
	GeneratedTokens   int64 // tokens sampled by the model
	JumpForwardTokens int64 // tokens appended by constrained decoding without a model step
	EvictedPages      int64
	Preemptions       int64
	Steps             int64
	PagesInUse        int32
	PagesTotal        int32
	CachedPages       int32
	Running           int32
	Queued            int32
}

// Stats reads the engine's counters.
func (e *Engine) Stats() (Stats, error) {
	p, err := e.acquire()
	if err != nil {
		return Stats{}, err
	}
	defer e.h.release()
	var cs C.stemma_engine_stats
	C.stemma_go_engine_stats_init(&cs)
	if err := call(func() C.stemma_status { return C.stemma_engine_stats_get(p, &cs) }); err != nil {
		return Stats{}, err
	}
	return Stats{
		CachedTokens: int64(cs.cached_tokens), PrefillTokens: int64(cs.prefill_tokens),
		ComputedTokens: int64(cs.computed_tokens), GeneratedTokens: int64(cs.generated_tokens),
		JumpForwardTokens: int64(cs.jump_forward_tokens), EvictedPages: int64(cs.evicted_pages),
		Preemptions: int64(cs.preemptions), Steps: int64(cs.steps),
		PagesInUse: int32(cs.pages_in_use), PagesTotal: int32(cs.pages_total),
		CachedPages: int32(cs.cached_pages), Running: int32(cs.running), Queued: int32(cs.queued),
	}, nil
}

// ModelInfo returns the model's description: "architecture", "vocab_size", "context_length",
// ... (numbers are float64, as encoding/json decodes them).
func (e *Engine) ModelInfo() (map[string]any, error) {
	p, err := e.acquire()
	if err != nil {
		return nil, err
	}
	defer e.h.release()
	var out *C.char
	if err := call(func() C.stemma_status { return C.stemma_engine_model_info(p, &out) }); err != nil {
		return nil, err
	}
	info := map[string]any{}
	if err := json.Unmarshal([]byte(takeString(out)), &info); err != nil {
		return nil, &Error{Status: Internal, Message: "model info is not a JSON object: " + err.Error()}
	}
	return info, nil
}

// Tokenize turns text into token ids. addSpecial adds BOS/EOS as the model says; special
// tokens written in the text (e.g. "<|im_start|>") are recognised.
func (e *Engine) Tokenize(text string, addSpecial bool) ([]int32, error) {
	p, err := e.acquire()
	if err != nil {
		return nil, err
	}
	defer e.h.release()
	ctext, err := cstring("text", text)
	if err != nil {
		return nil, err
	}
	defer freeC(ctext)
	var toks *C.int32_t
	var n C.size_t
	special := C.int32_t(0)
	if addSpecial {
		special = 1
	}
	if err := call(func() C.stemma_status { return C.stemma_tokenize(p, ctext, special, &toks, &n) }); err != nil {
		return nil, err
	}
	defer C.stemma_tokens_free(toks)
	out := make([]int32, int(n))
	if n > 0 {
		copy(out, unsafe.Slice((*int32)(unsafe.Pointer(toks)), int(n)))
	}
	return out, nil
}

// Detokenize turns token ids back into text.
func (e *Engine) Detokenize(tokens []int32) (string, error) {
	p, err := e.acquire()
	if err != nil {
		return "", err
	}
	defer e.h.release()
	// The C side reads the ids during the call only; a C copy keeps Go memory out of it.
	var ctoks *C.int32_t
	if len(tokens) > 0 {
		ctoks = (*C.int32_t)(C.malloc(C.size_t(len(tokens)) * 4))
		defer C.free(unsafe.Pointer(ctoks))
		copy(unsafe.Slice((*int32)(unsafe.Pointer(ctoks)), len(tokens)), tokens)
	}
	var out *C.char
	if err := call(func() C.stemma_status {
		return C.stemma_detokenize(p, ctoks, C.size_t(len(tokens)), &out)
	}); err != nil {
		return "", err
	}
	return takeString(out), nil
}

// Message is one chat message.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// ChatFormat renders messages with the model's chat template. toolsJSON is "" or a JSON array
// of tool definitions (the template's `tools`).
func (e *Engine) ChatFormat(messages []Message, toolsJSON string, addGenerationPrompt bool) (string, error) {
	p, err := e.acquire()
	if err != nil {
		return "", err
	}
	defer e.h.release()
	if messages == nil {
		messages = []Message{}
	}
	mj, err := json.Marshal(messages)
	if err != nil {
		return "", &Error{Status: InvalidArgument, Message: "messages: " + err.Error()}
	}
	cmsgs, err := cstring("messages", string(mj))
	if err != nil {
		return "", err
	}
	defer freeC(cmsgs)
	ctools, err := optCString("tools", toolsJSON)
	if err != nil {
		return "", err
	}
	defer freeC(ctools)
	gen := C.int32_t(0)
	if addGenerationPrompt {
		gen = 1
	}
	var out *C.char
	if err := call(func() C.stemma_status { return C.stemma_chat_format(p, cmsgs, ctools, gen, &out) }); err != nil {
		return "", err
	}
	return takeString(out), nil
}
