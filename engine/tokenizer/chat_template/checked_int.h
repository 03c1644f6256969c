// Checked 64-bit integer arithmetic for the template interpreter, with Python's semantics
// where they fit in 64 bits (floor division, modulo with the divisor's sign) and no undefined
// behaviour anywhere: an overflow or a division by zero gives nullopt, which the interpreter
// turns into an error naming the operation (Python's integers are unbounded; templates that
// need more than 64 bits are refused, never wrapped).
#pragma once

#include <cstdint>
#include <optional>

namespace stemma::jinja::checked {

inline std::optional<int64_t> add(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) return std::nullopt;
  return r;
}

inline std::optional<int64_t> sub(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_sub_overflow(a, b, &r)) return std::nullopt;
  return r;
}

inline std::optional<int64_t> mul(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
  return r;
}

inline std::optional<int64_t> neg(int64_t a) {
  if (a == INT64_MIN) return std::nullopt;
  return -a;
}

// Python's a // b (rounds toward negative infinity).
inline std::optional<int64_t> floordiv(int64_t a, int64_t b) {
  if (b == 0 || (a == INT64_MIN && b == -1)) return std::nullopt;
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

// Python's a % b (the result has b's sign). INT64_MIN % -1 is 0, as in Python.
inline std::optional<int64_t> mod(int64_t a, int64_t b) {
  if (b == 0) return std::nullopt;
  if (b == -1) return 0;
  int64_t r = a % b;
  if (r != 0 && ((r < 0) != (b < 0))) r += b;
  return r;
}

// a ** b for b >= 0 (negative exponents give floats, handled by the caller).
inline std::optional<int64_t> pow(int64_t a, int64_t b) {
  if (b < 0) return std::nullopt;
  int64_t result = 1, base = a;
  while (b > 0) {
    if (b & 1) {
      if (__builtin_mul_overflow(result, base, &result)) return std::nullopt;
    }
    b >>= 1;
    if (b > 0 && __builtin_mul_overflow(base, base, &base)) return std::nullopt;
  }
  return result;
}

inline std::optional<int64_t> abs(int64_t a) {
  if (a == INT64_MIN) return std::nullopt;
  return a < 0 ? -a : a;
}

// A double as an integer (Python's int(x) truncates); nullopt for NaN, infinities and values
// outside int64.
inline std::optional<int64_t> from_double(double d) {
  if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0)) return std::nullopt;
  return static_cast<int64_t>(d);
}

}  // namespace stemma::jinja::checked
