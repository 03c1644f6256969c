// The registry of live handles. Every handle the library gives out is recorded with its kind
// until it is freed, so a NULL, freed (double free, use after free) or wrong-kind pointer coming
// back from a caller is refused with STEMMA_INVALID_ARGUMENT instead of being dereferenced.
// Bindings in languages without C's pointer types (Python's c_void_p, Go's unsafe.Pointer) make
// such mix-ups easy; the check costs one hash lookup under a shared lock per call.
//
// It cannot make a handle freed by one thread while another thread is still inside a call on it
// safe: that remains the caller's error (documented in docs/capi.md).
#pragma once

#include <string>

#include "engine/common/status.h"

namespace stemma::capi {

enum class HandleKind { kEngine, kProgram, kChatStore, kChat, kRag, kAgent, kToolResult };

const char* handle_kind_name(HandleKind kind);

void register_handle(const void* handle, HandleKind kind);
// Returns false when `handle` was not live (a double free or a foreign pointer).
bool unregister_handle(const void* handle, HandleKind kind);
bool is_live_handle(const void* handle, HandleKind kind);

// NULL, not live, or live as another kind: an InvalidArgument naming the function and argument.
Status check_handle(const char* function, const char* arg, const void* handle, HandleKind kind);

}  // namespace stemma::capi
