// Versioned option and statistics structs. Each struct of capi/stemma.h starts with its
// struct_size; the library accepts the size of each released version of the struct (kSizes),
// up to the one it was built with. Fields past the caller's struct_size keep their defaults
// (inputs) or are not written (outputs), so a caller built against an older header keeps working.
//
// The v1 sizes are frozen here as copies of the first released layouts: when a field is added
// to a struct in stemma.h, its v1 copy below stays as it is (the static_asserts check that the
// released prefix did not move).
#pragma once

#include <cstddef>
#include <cstring>
#include <string>

#include "capi/stemma.h"
#include "engine/api/status.h"

namespace stemma::capi {

namespace v1 {
struct engine_options {
  size_t struct_size;
  const char* model_path;
  int32_t threads;
  int32_t page_size;
  int64_t kv_memory_bytes;
  int32_t max_batch_tokens;
  int32_t radix_cache;
};
struct engine_stats {
  size_t struct_size;
  int64_t cached_tokens, prefill_tokens, computed_tokens, generated_tokens, jump_forward_tokens;
  int64_t evicted_pages, preemptions, steps;
  int32_t pages_in_use, pages_total, cached_pages, running, queued;
};
struct gen_options {
  size_t struct_size;
  int32_t max_tokens;
  float temperature;
  int32_t top_k;
  float top_p;
  float min_p;
  uint64_t seed;
  float repetition_penalty;
  const char* const* stop;
  size_t num_stop;
  const char* regex;
  const char* json_schema;
  int32_t jump_forward;
};
struct agent_options {
  size_t struct_size;
  const char* system_prompt;
  int32_t max_steps;
  int32_t max_tokens;
  float temperature;
  uint64_t seed;
  const char* answer_schema;
  int32_t tool_choice;
};
}  // namespace v1

template <typename T>
struct StructVersion;
template <>
struct StructVersion<stemma_engine_options> {
  static constexpr size_t kFirst = sizeof(v1::engine_options);
  static constexpr const char* kName = "stemma_engine_options";
  // v2 appended backend, device, gpu_kv_memory_bytes, shared_prefix_attention.
  static constexpr size_t kSizes[] = {kFirst, sizeof(stemma_engine_options)};
};
template <>
struct StructVersion<stemma_engine_stats> {
  static constexpr size_t kFirst = sizeof(v1::engine_stats);
  static constexpr const char* kName = "stemma_engine_stats";
  static constexpr size_t kSizes[] = {kFirst};
};
template <>
struct StructVersion<stemma_gen_options> {
  static constexpr size_t kFirst = sizeof(v1::gen_options);
  static constexpr const char* kName = "stemma_gen_options";
  static constexpr size_t kSizes[] = {kFirst};
};
template <>
struct StructVersion<stemma_agent_options> {
  static constexpr size_t kFirst = sizeof(v1::agent_options);
  static constexpr const char* kName = "stemma_agent_options";
  static constexpr size_t kSizes[] = {kFirst};
};

// The released prefix of each struct must not move.
static_assert(offsetof(stemma_engine_options, radix_cache) ==
              offsetof(v1::engine_options, radix_cache));
static_assert(offsetof(stemma_engine_stats, queued) == offsetof(v1::engine_stats, queued));
static_assert(offsetof(stemma_gen_options, jump_forward) ==
              offsetof(v1::gen_options, jump_forward));
static_assert(offsetof(stemma_agent_options, tool_choice) ==
              offsetof(v1::agent_options, tool_choice));
static_assert(sizeof(stemma_engine_options) >= sizeof(v1::engine_options));
static_assert(sizeof(stemma_engine_stats) >= sizeof(v1::engine_stats));
static_assert(sizeof(stemma_gen_options) >= sizeof(v1::gen_options));
static_assert(sizeof(stemma_agent_options) >= sizeof(v1::agent_options));

static_assert(offsetof(stemma_engine_options, shared_prefix_attention) + sizeof(int32_t) <=
              sizeof(stemma_engine_options));

// The struct_size of a released version of T (each released struct's sizeof, oldest first).
template <typename T>
bool released_size(size_t size) {
  for (size_t s : StructVersion<T>::kSizes)
    if (s == size) return true;
  return false;
}

template <typename T>
Status check_struct_size(const char* function, const char* arg, size_t size) {
  if (!released_size<T>(size)) {
    std::string sizes;
    for (size_t s : StructVersion<T>::kSizes) {
      if (!sizes.empty()) sizes += " or ";
      sizes += std::to_string(s);
    }
    return InvalidArgument(std::string(function) + ": " + arg + "->struct_size is " +
                           std::to_string(size) + "; " + StructVersion<T>::kName + " is " + sizes +
                           " bytes (set it with the *_init function or to sizeof)");
  }
  return OkStatus();
}

// Reads the caller's struct over `*out`, which holds the defaults: only the first struct_size
// bytes are copied, so newer fields the caller does not know keep their defaults.
template <typename T>
Status read_struct(const char* function, const char* arg, const T* in, T* out) {
  if (in == nullptr) return InvalidArgument(std::string(function) + ": " + arg + " is NULL");
  const size_t size = in->struct_size;
  STEMMA_RETURN_IF_ERROR(check_struct_size<T>(function, arg, size));
  std::memcpy(static_cast<void*>(out), static_cast<const void*>(in), size);
  out->struct_size = sizeof(T);
  return OkStatus();
}

// Writes `value` into the caller's struct, only the first struct_size bytes (struct_size kept).
template <typename T>
Status write_struct(const char* function, const char* arg, const T& value, T* out) {
  if (out == nullptr) return InvalidArgument(std::string(function) + ": " + arg + " is NULL");
  const size_t size = out->struct_size;
  STEMMA_RETURN_IF_ERROR(check_struct_size<T>(function, arg, size));
  std::memcpy(static_cast<void*>(out), static_cast<const void*>(&value), size);
  out->struct_size = size;
  return OkStatus();
}

// What the *_init functions do: write the defaults into the caller's struct, only as many bytes
// as its struct_size says when that is a size the library accepts (a caller built against an
// older header sets it to its own sizeof), else (0, unset) the library's own sizeof.
template <typename T>
void init_struct(T* out, const T& defaults) {
  if (out == nullptr) return;
  size_t size = out->struct_size;
  if (!released_size<T>(size)) size = sizeof(T);
  std::memcpy(static_cast<void*>(out), static_cast<const void*>(&defaults), size);
  out->struct_size = size;
}

}  // namespace stemma::capi
