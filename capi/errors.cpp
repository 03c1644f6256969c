// Status codes, the thread-local last error and library-owned memory (the first part of
// capi/stemma.h).
#include <cstdlib>
#include <cstring>

#include "capi/capi_errors.h"
#include "capi/utf8_check.h"
#include "engine/api/utf8_repair.h"

namespace stemma::capi {
namespace {

// Valid until the next failing call on this thread (stemma_last_error's contract).
thread_local std::string t_last_error;

}  // namespace

stemma_status to_c_status(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return STEMMA_OK;
    case StatusCode::kInvalidArgument:
      return STEMMA_INVALID_ARGUMENT;
    case StatusCode::kNotFound:
      return STEMMA_NOT_FOUND;
    case StatusCode::kOutOfRange:
      return STEMMA_OUT_OF_RANGE;
    case StatusCode::kCorruptData:
      return STEMMA_CORRUPT_DATA;
    case StatusCode::kUnsupported:
      return STEMMA_UNSUPPORTED;
    case StatusCode::kIoError:
      return STEMMA_IO_ERROR;
    case StatusCode::kResourceExhausted:
      return STEMMA_RESOURCE_EXHAUSTED;
    case StatusCode::kCancelled:
      return STEMMA_CANCELLED;
    case StatusCode::kFailedPrecondition:
      return STEMMA_FAILED_PRECONDITION;
    case StatusCode::kInternal:
      return STEMMA_INTERNAL;
  }
  return STEMMA_INTERNAL;
}

stemma_status fail(const Status& status) {
  if (status.ok()) return STEMMA_OK;
  try {
    // The message may quote bytes that are not UTF-8 (a path, a string from a model file);
    // stemma.h promises UTF-8, so those become "\xNN".
    t_last_error = repair_utf8(status.message());
  } catch (...) {
    t_last_error.clear();  // out of memory while copying: an empty message beats none at all
  }
  return to_c_status(status.code());
}

Status check_text(const char* function, const char* arg, const char* text, bool nullable) {
  if (text == nullptr) {
    if (nullable) return OkStatus();
    return InvalidArgument(std::string(function) + ": " + arg + " is NULL");
  }
  const std::string_view view(text);
  const size_t bad = first_invalid_utf8(view);
  if (bad != std::string_view::npos) {
    return InvalidArgument(std::string(function) + ": " + arg + " is not valid UTF-8 (byte " +
                           std::to_string(bad) + " of " + std::to_string(view.size()) + ")");
  }
  return OkStatus();
}

Status check_path(const char* function, const char* arg, const char* path) {
  if (path == nullptr) return InvalidArgument(std::string(function) + ": " + arg + " is NULL");
  if (path[0] == '\0') return InvalidArgument(std::string(function) + ": " + arg + " is empty");
  return OkStatus();
}

Status check_not_null(const char* function, const char* arg, const void* pointer) {
  if (pointer == nullptr) return InvalidArgument(std::string(function) + ": " + arg + " is NULL");
  return OkStatus();
}

Status copy_out(const char* function, const char* arg, std::string_view text, char** out) {
  if (text.find('\0') != std::string_view::npos) {
    return Internal(std::string(function) + ": " + arg + " would contain a NUL byte at offset " +
                    std::to_string(text.find('\0')));
  }
  char* copy = static_cast<char*>(std::malloc(text.size() + 1));
  if (copy == nullptr) {
    return ResourceExhausted(std::string(function) + ": out of memory for " + arg + " (" +
                             std::to_string(text.size()) + " bytes)");
  }
  if (!text.empty()) std::memcpy(copy, text.data(), text.size());
  copy[text.size()] = '\0';
  *out = copy;
  return OkStatus();
}

void clear_last_error() {
  t_last_error.clear();
}

const char* last_error() {
  return t_last_error.c_str();
}

}  // namespace stemma::capi

extern "C" {

STEMMA_API uint32_t stemma_abi_version(void) {
  return STEMMA_ABI_VERSION;
}

STEMMA_API const char* stemma_version(void) {
  return STEMMA_VERSION_STRING;
}

STEMMA_API const char* stemma_status_name(stemma_status status) {
  switch (status) {
    case STEMMA_OK:
      return "OK";
    case STEMMA_INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case STEMMA_NOT_FOUND:
      return "NOT_FOUND";
    case STEMMA_OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case STEMMA_CORRUPT_DATA:
      return "CORRUPT_DATA";
    case STEMMA_UNSUPPORTED:
      return "UNSUPPORTED";
    case STEMMA_IO_ERROR:
      return "IO_ERROR";
    case STEMMA_RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case STEMMA_CANCELLED:
      return "CANCELLED";
    case STEMMA_FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case STEMMA_INTERNAL:
      return "INTERNAL";
    default:
      return "UNKNOWN";
  }
}

STEMMA_API const char* stemma_last_error(void) {
  return stemma::capi::last_error();
}

STEMMA_API void stemma_string_free(char* text) {
  std::free(text);
}

STEMMA_API void stemma_tokens_free(int32_t* tokens) {
  std::free(tokens);
}

}  // extern "C"
