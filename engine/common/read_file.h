// Reading a small input file (a JSON Schema, a config.json, a chat template) whole, with a
// bound: a path the caller names may be /dev/zero, a FIFO or a multi-gigabyte file, and
// reading it unbounded would exhaust the process's memory.
#pragma once

#include <cstddef>
#include <string>

#include "engine/api/status.h"

namespace stemma {

// Far more than any schema, template, config or message list needs.
inline constexpr size_t kMaxInputFileBytes = size_t{64} << 20;

// The file's bytes. NotFound when it does not exist, IoError when it cannot be read (a folder,
// no permission), ResourceExhausted naming the limit when it holds more than `max_bytes` (the
// read stops there: /dev/zero costs max_bytes, not all memory).
Result<std::string> read_file_bounded(const std::string& path,
                                      size_t max_bytes = kMaxInputFileBytes);

}  // namespace stemma
