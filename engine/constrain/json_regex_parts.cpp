#include "engine/constrain/json_regex_parts.h"

#include <algorithm>
#include <vector>

namespace stemma::constrain::json_regex {

const char* const kStringChar =
    "(?:[^\"\\\\\\x00-\\x1f]|\\\\[\"\\\\/bfnrt]|"
    "\\\\u(?:[0-9a-cA-CeEfF][0-9a-fA-F]{3}|[dD][0-7][0-9a-fA-F]{2}))";
const char* const kString =
    "\"(?:[^\"\\\\\\x00-\\x1f]|\\\\[\"\\\\/bfnrt]|"
    "\\\\u(?:[0-9a-cA-CeEfF][0-9a-fA-F]{3}|[dD][0-7][0-9a-fA-F]{2}))*\"";
// Numbers have bounded lengths (issue 15 item 14): with `[0-9]*` a model could write digits
// until max_tokens and the text would never parse. 19 integer digits hold any int64, 17
// fraction digits any double, 3 exponent digits any double's exponent.
const char* const kInteger = "-?(?:0|[1-9][0-9]{0,18})";
const char* const kNumber = "-?(?:0|[1-9][0-9]{0,18})(?:\\.[0-9]{1,17})?(?:[eE][+-]?[0-9]{1,3})?";
const char* const kBoolean = "(?:true|false)";
const char* const kNull = "null";
const char* const kNothing = "[^\\x00-\\x{10ffff}]";

std::string repeat(const std::string& item, int64_t min, int64_t max) {
  constexpr int64_t kChunk = 1000;  // the largest count one {n,m} may carry
  std::string g = "(?:" + item + ")";
  std::string out;
  int64_t done = 0;
  while (min - done > kChunk) {
    out += g + "{" + std::to_string(kChunk) + "}";
    done += kChunk;
  }
  int64_t rest_min = min - done;
  if (max < 0) {
    if (rest_min == 0) return out + g + "*";
    return out + g + "{" + std::to_string(rest_min) + ",}";
  }
  int64_t rest_max = max - done;
  if (rest_max <= kChunk) {
    if (rest_min == rest_max) {
      if (rest_min == 0) return out;
      return out + g + "{" + std::to_string(rest_min) + "}";
    }
    return out + g + "{" + std::to_string(rest_min) + "," + std::to_string(rest_max) + "}";
  }
  // rest_min <= 1000 < rest_max: the mandatory part, then optional chunks of up to 1000
  // (any count up to q*1000 + r is a sum of q chunk counts and one remainder count).
  if (rest_min > 0) out += g + "{" + std::to_string(rest_min) + "}";
  int64_t optional = rest_max - rest_min;
  int64_t q = optional / kChunk, r = optional % kChunk;
  out += "(?:" + g + "{0," + std::to_string(kChunk) + "}){0," + std::to_string(q) + "}";
  if (r) out += g + "{0," + std::to_string(r) + "}";
  return out;
}

namespace {

std::string digit_class(char lo, char hi) {
  if (lo == hi) return std::string(1, lo);
  if (lo == '0' && hi == '9') return "[0-9]";
  return std::string("[") + lo + "-" + hi + "]";
}

// Decimal strings of equal length, lo <= hi, as a regex.
std::string same_length_range(const std::string& lo, const std::string& hi) {
  size_t n = lo.size();
  if (n == 1) return digit_class(lo[0], hi[0]);
  if (lo[0] == hi[0]) return std::string(1, lo[0]) + same_length_range(lo.substr(1), hi.substr(1));
  std::string zeros(n - 1, '0'), nines(n - 1, '9');
  std::vector<std::string> alts;
  char first_full = lo[0], last_full = hi[0];
  if (lo.substr(1) != zeros) {
    alts.push_back(std::string(1, lo[0]) + same_length_range(lo.substr(1), nines));
    ++first_full;
  }
  bool hi_partial = hi.substr(1) != nines;
  if (hi_partial) --last_full;
  if (first_full <= last_full) {
    alts.push_back(digit_class(first_full, last_full) + "[0-9]{" + std::to_string(n - 1) + "}");
  }
  if (hi_partial) alts.push_back(std::string(1, hi[0]) + same_length_range(zeros, hi.substr(1)));
  if (alts.size() == 1) return alts[0];
  std::string out = "(?:";
  for (size_t i = 0; i < alts.size(); ++i) out += (i ? "|" : "") + alts[i];
  return out + ")";
}

constexpr size_t kMaxIntegerDigits = 19;

// Non-negative integers in [lo, hi] (hi absent: at most kMaxIntegerDigits digits), without
// leading zeros.
std::string nonnegative_range(uint64_t lo, std::optional<uint64_t> hi) {
  std::vector<std::string> alts;
  std::string lo_s = std::to_string(lo);
  size_t max_len = hi ? std::to_string(*hi).size() : lo_s.size();
  for (size_t len = lo_s.size(); len <= max_len; ++len) {
    std::string a = len == lo_s.size() ? lo_s : "1" + std::string(len - 1, '0');
    std::string b = std::string(len, '9');
    if (hi && len == max_len) b = std::to_string(*hi);
    if (len == 1 && a == "1" && lo == 0) a = "0";
    alts.push_back(same_length_range(a, b));
  }
  if (!hi) {  // longer than lo: up to kMaxIntegerDigits digits (or one more than lo has)
    const size_t most = std::max(lo_s.size(), kMaxIntegerDigits - 1);
    alts.push_back("[1-9][0-9]{" + std::to_string(lo_s.size()) + "," + std::to_string(most) + "}");
  }
  if (alts.size() == 1) return alts[0];
  std::string out = "(?:";
  for (size_t i = 0; i < alts.size(); ++i) out += (i ? "|" : "") + alts[i];
  return out + ")";
}

constexpr int64_t kBoundLimit = 1'000'000'000'000'000'000;

Status check_bounds(std::optional<int64_t> lo, std::optional<int64_t> hi) {
  if ((lo && (*lo > kBoundLimit || *lo < -kBoundLimit)) ||
      (hi && (*hi > kBoundLimit || *hi < -kBoundLimit))) {
    return Unsupported("integer bound beyond 1e18");
  }
  if (lo && hi && *lo > *hi) {
    return InvalidArgument("minimum " + std::to_string(*lo) + " is above maximum " +
                           std::to_string(*hi));
  }
  return OkStatus();
}

}  // namespace

Result<std::string> integer_range(std::optional<int64_t> lo, std::optional<int64_t> hi) {
  STEMMA_RETURN_IF_ERROR(check_bounds(lo, hi));
  if (!lo && !hi) return std::string(kInteger);
  // Negative values as "-" + a positive magnitude range; zero only unsigned.
  std::vector<std::string> alts;
  if (!lo || *lo < 0) {
    uint64_t mag_lo = (hi && *hi < 0) ? static_cast<uint64_t>(-*hi) : 1;
    std::optional<uint64_t> mag_hi;
    if (lo) mag_hi = static_cast<uint64_t>(-*lo);
    alts.push_back("-" + nonnegative_range(mag_lo, mag_hi));
  }
  if (!hi || *hi >= 0) {
    uint64_t from = (lo && *lo > 0) ? static_cast<uint64_t>(*lo) : 0;
    std::optional<uint64_t> to;
    if (hi) to = static_cast<uint64_t>(*hi);
    alts.push_back(nonnegative_range(from, to));
  }
  if (alts.size() == 1) return alts[0];
  return "(?:" + alts[0] + "|" + alts[1] + ")";
}

Result<std::string> number_range(std::optional<int64_t> lo, std::optional<int64_t> hi) {
  STEMMA_RETURN_IF_ERROR(check_bounds(lo, hi));
  if (!lo && !hi) return std::string(kNumber);
  const std::string frac = "(?:\\.[0-9]{1,17})?";
  const std::string zero_frac = "(?:\\.0{1,17})?";
  // Magnitudes m in [a, b]: integer part in [a, b-1] with any fraction, or exactly b.0...
  auto magnitude = [&](uint64_t a, std::optional<uint64_t> b) -> std::string {
    if (!b) return nonnegative_range(a, std::nullopt) + frac;
    if (a == *b) return std::to_string(a) + zero_frac;
    return "(?:" + nonnegative_range(a, *b - 1) + frac + "|" + std::to_string(*b) + zero_frac + ")";
  };
  std::vector<std::string> alts;
  if (!lo || *lo < 0) {
    uint64_t a = (hi && *hi < 0) ? static_cast<uint64_t>(-*hi) : 0;
    std::optional<uint64_t> b;
    if (lo) b = static_cast<uint64_t>(-*lo);
    alts.push_back("-" + magnitude(a, b));  // "-0.0" is zero, inside the range here
  }
  if (!hi || *hi >= 0) {
    uint64_t a = (lo && *lo > 0) ? static_cast<uint64_t>(*lo) : 0;
    std::optional<uint64_t> b;
    if (hi) b = static_cast<uint64_t>(*hi);
    alts.push_back(magnitude(a, b));
  }
  if (alts.size() == 1) return alts[0];
  return "(?:" + alts[0] + "|" + alts[1] + ")";
}

Result<std::string> format_body(const std::string& format) {
  // Years 0001-9999 (Python's date has no year 0); leap years for February 29.
  const std::string year = "(?:[0-9]{3}[1-9]|[0-9]{2}[1-9]0|[0-9][1-9]00|[1-9]000)";
  const std::string leap_year =
      "(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)";
  const std::string month_day =
      "(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)|"
      "02-(?:0[1-9]|1[0-9]|2[0-8]))";
  const std::string date = "(?:" + year + "-" + month_day + "|" + leap_year + "-02-29)";
  const std::string time =
      "(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\\.[0-9]{1,6})?"
      "(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])";
  if (format == "date") return date;
  if (format == "date-time") return date + "T" + time;
  if (format == "time") return time;
  if (format == "email") {
    return std::string(
        "[a-zA-Z0-9](?:[a-zA-Z0-9._+-]{0,30}[a-zA-Z0-9])?@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,30}"
        "[a-zA-Z0-9])?(?:\\.[a-zA-Z]{2,10}){1,2}");
  }
  if (format == "uuid") {
    return std::string(
        "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");
  }
  if (format == "ipv4") {
    const std::string octet = "(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])";
    return "(?:" + octet + "\\.){3}" + octet;
  }
  return NotFound("format '" + format + "'");
}

}  // namespace stemma::constrain::json_regex
