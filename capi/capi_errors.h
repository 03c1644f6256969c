// What every C entry point shares: the thread-local last error, the conversion of Status to
// stemma_status, the catch-all that keeps C++ exceptions from crossing the boundary, checks of
// incoming text and pointers, and library-owned output strings.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <string>
#include <string_view>

#include "capi/stemma.h"
#include "engine/api/status.h"

namespace stemma::capi {

// Records `status` as this thread's last error and returns its code (OK records nothing).
stemma_status fail(const Status& status);
stemma_status to_c_status(StatusCode code);
// Empties this thread's last error (used on threads the library owns, before running a
// caller's function there).
void clear_last_error();

// The body of every entry point that returns stemma_status: runs `body` (which returns Status)
// and converts any exception into STEMMA_RESOURCE_EXHAUSTED (bad_alloc) or STEMMA_INTERNAL,
// naming the entry point.
template <typename Body>
stemma_status guarded(const char* function, Body&& body) noexcept {
  try {
    return fail(body());
  } catch (const std::bad_alloc&) {
    return fail(ResourceExhausted(std::string(function) + ": out of memory"));
  } catch (const std::exception& e) {
    return fail(Internal(std::string(function) + ": unexpected exception: " + e.what()));
  } catch (...) {
    return fail(Internal(std::string(function) + ": unexpected non-standard exception"));
  }
}

// For entry points that return nothing (the *_free and *_init functions): exceptions are
// swallowed and recorded as the last error.
template <typename Body>
void guarded_void(const char* function, Body&& body) noexcept {
  (void)guarded(function, [&]() -> Status {
    body();
    return OkStatus();
  });
}

// Text arguments: not NULL (unless `nullable`) and well-formed UTF-8. The message names the
// function and argument and gives the byte offset of the first bad byte.
Status check_text(const char* function, const char* arg, const char* text, bool nullable = false);
// A file path: non-NULL and non-empty. Any other bytes are accepted (a path is bytes, not text:
// a Latin-1 file name must still open); messages quoting it are repaired to UTF-8 by fail().
Status check_path(const char* function, const char* arg, const char* path);
// An output or input pointer that must not be NULL.
Status check_not_null(const char* function, const char* arg, const void* pointer);

// A NUL-terminated copy of `text` that stemma_string_free releases. Text containing NUL bytes is
// refused (a C caller could not see its end).
Status copy_out(const char* function, const char* arg, std::string_view text, char** out);

}  // namespace stemma::capi
