// What one rendering of a chat template may spend: evaluation steps (every statement and
// expression, plus one per 64 bytes of strings and one per element of lists it builds), bytes
// of output or of any one string, and a flag another thread sets to stop it. Sane defaults:
// real templates take thousands of steps and kilobytes; a template that loops for minutes or
// doubles a string up to gigabytes stops with an error instead.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace stemma {

struct RenderLimits {
  int64_t max_steps = 20'000'000;
  size_t max_bytes = size_t{64} << 20;
  // Checked every few thousand steps; when it reads true, rendering stops with CANCELLED.
  const std::atomic<bool>* cancel = nullptr;
};

}  // namespace stemma
