// Status and Result<T>: how every fallible function in Stemma reports errors (part of the
// engine's public API, engine/api/).
// Errors carry a code and a message that names what was wrong (file, offset, key, token);
// bad input must never abort the process, so nothing here throws.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace stemma {

enum class StatusCode : int {
  kOk = 0,
  kInvalidArgument = 1,     // the caller passed something malformed
  kNotFound = 2,            // a file, key, tensor or token does not exist
  kOutOfRange = 3,          // an index or size past a limit
  kCorruptData = 4,         // a file's contents contradict its own format
  kUnsupported = 5,         // well-formed, but a feature we do not implement (named)
  kIoError = 6,             // the OS refused a read, write, open or map
  kResourceExhausted = 7,   // out of pages, memory or another bounded resource
  kCancelled = 8,           // the caller cancelled the work
  kFailedPrecondition = 9,  // the call is valid but not in the current state
  kInternal = 10,           // a bug in Stemma: an invariant did not hold
};

const char* status_code_name(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "CODE_NAME: message", or "OK".
  std::string to_string() const;

  // Prefixes context ("loading model.gguf: ") to the message; a no-op on OK.
  Status with_context(const std::string& context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status OkStatus() {
  return Status();
}
inline Status InvalidArgument(std::string m) {
  return {StatusCode::kInvalidArgument, std::move(m)};
}
inline Status NotFound(std::string m) {
  return {StatusCode::kNotFound, std::move(m)};
}
inline Status OutOfRange(std::string m) {
  return {StatusCode::kOutOfRange, std::move(m)};
}
inline Status CorruptData(std::string m) {
  return {StatusCode::kCorruptData, std::move(m)};
}
inline Status Unsupported(std::string m) {
  return {StatusCode::kUnsupported, std::move(m)};
}
inline Status IoError(std::string m) {
  return {StatusCode::kIoError, std::move(m)};
}
inline Status ResourceExhausted(std::string m) {
  return {StatusCode::kResourceExhausted, std::move(m)};
}
inline Status Cancelled(std::string m) {
  return {StatusCode::kCancelled, std::move(m)};
}
inline Status FailedPrecondition(std::string m) {
  return {StatusCode::kFailedPrecondition, std::move(m)};
}
inline Status Internal(std::string m) {
  return {StatusCode::kInternal, std::move(m)};
}

// A value or the Status that explains why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT: implicit by design
    assert(!std::get<Status>(v_).ok() && "Result built from an OK status has no value");
    if (std::get<Status>(v_).ok()) v_ = Status(StatusCode::kInternal, "Result from OK status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &std::get<T>(v_); }
  const T* operator->() const { return &std::get<T>(v_); }
  T& operator*() & { return std::get<T>(v_); }
  const T& operator*() const& { return std::get<T>(v_); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace stemma

#define STEMMA_CONCAT_INNER_(a, b) a##b
#define STEMMA_CONCAT_(a, b) STEMMA_CONCAT_INNER_(a, b)

// Returns the Status from the enclosing function when `expr` is not OK.
#define STEMMA_RETURN_IF_ERROR(expr)                 \
  do {                                               \
    ::stemma::Status stemma_status_ = (expr);        \
    if (!stemma_status_.ok()) return stemma_status_; \
  } while (0)

// `lhs` = the value of Result `expr`, or return its Status.
#define STEMMA_ASSIGN_OR_RETURN(lhs, expr) \
  STEMMA_ASSIGN_OR_RETURN_IMPL_(STEMMA_CONCAT_(stemma_result_, __LINE__), lhs, expr)
#define STEMMA_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return tmp.status();                 \
  lhs = std::move(tmp).value()
