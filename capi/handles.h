// The registry of live handles. Every handle the library gives out is recorded with its kind
// until it is freed, so a NULL, freed (double free, use after free) or wrong-kind pointer coming
// back from a caller is refused with STEMMA_INVALID_ARGUMENT instead of being dereferenced.
// Bindings in languages without C's pointer types (Python's c_void_p, Go's unsafe.Pointer) make
// such mix-ups easy; the check costs one hash lookup under a shared lock per call.
//
// A handle is the object's address with a generation tag in bits 48..62 (issue 15 item 13):
// when a freed handle's memory is reused by a new object, the dead handle still carries the old
// tag and is refused, instead of acting on the new object. The tag is a counter of
// registrations, so a stale handle is accepted only if its address was reused by exactly the
// 32,767th-next handle made after it (or a multiple). A tagged handle points outside every
// address space a process has (canonical user addresses are below 2^47 or 2^56 on x86-64,
// 2^52 on AArch64), so the garbage collectors of Go and C# never mistake it for one of theirs;
// objects above 2^48 get no tag. The library never dereferences a handle before
// check_handle / unregister_handle has turned it back into the object's address.
//
// It cannot make a handle freed by one thread while another thread is still inside a call on it
// safe: that remains the caller's error (documented in docs/capi.md).
#pragma once

#include <string>

#include "engine/api/status.h"

namespace stemma::capi {

enum class HandleKind { kEngine, kProgram, kChatStore, kChat, kRag, kAgent, kToolResult };

const char* handle_kind_name(HandleKind kind);

// Records `object` as live; returns the (tagged) handle to give to the caller.
const void* register_handle_raw(const void* object, HandleKind kind);
// The object behind a live handle of `kind`, or nullptr (and nothing changes) when `handle` is
// not one: a double free or a foreign pointer. On success the handle is no longer live.
const void* unregister_handle_raw(const void* handle, HandleKind kind);
// The object behind a live handle of `kind`, or nullptr.
const void* live_object(const void* handle, HandleKind kind);
// NULL, not live, stale, or live as another kind: an InvalidArgument naming the function and
// argument. On success `*object` is the object's address.
Status check_handle_raw(const char* function, const char* arg, const void* handle, HandleKind kind,
                        const void** object);

template <class T>
T* register_handle(T* object, HandleKind kind) {
  return static_cast<T*>(const_cast<void*>(register_handle_raw(object, kind)));
}

// On success `handle` becomes the object's address (to delete) and true is returned.
template <class T>
bool unregister_handle(T*& handle, HandleKind kind) {
  const void* object = unregister_handle_raw(handle, kind);
  if (object == nullptr) return false;
  handle = static_cast<T*>(const_cast<void*>(object));
  return true;
}

// On success `handle` becomes the object's address: the caller's variable may then be used.
template <class T>
bool is_live_handle(T*& handle, HandleKind kind) {
  const void* object = live_object(handle, kind);
  if (object == nullptr) return false;
  handle = static_cast<T*>(const_cast<void*>(object));
  return true;
}

// On success `handle` becomes the object's address: the caller's variable may then be used.
template <class T>
Status check_handle(const char* function, const char* arg, T*& handle, HandleKind kind) {
  const void* object = nullptr;
  STEMMA_RETURN_IF_ERROR(check_handle_raw(function, arg, handle, kind, &object));
  handle = static_cast<T*>(const_cast<void*>(object));
  return OkStatus();
}

}  // namespace stemma::capi
