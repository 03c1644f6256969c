// Shared pieces of the fuzz targets: splitting one input into parts, and files in memory that
// the loaders (which take paths) can open.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace stemma::fuzz {

// Reads an input front to back; past its end every read gives zeros / empty text.
class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : p_(data), n_(size) {}
  uint8_t byte() {
    if (n_ == 0) return 0;
    --n_;
    return *p_++;
  }
  // A part prefixed by its 16-bit little-endian length (clamped to what is left).
  std::string_view part16() {
    size_t len = byte();
    len |= static_cast<size_t>(byte()) << 8;
    return take(len);
  }
  // Everything that is left.
  std::string_view rest() { return take(n_); }
  size_t left() const { return n_; }

 private:
  std::string_view take(size_t len) {
    if (len > n_) len = n_;
    std::string_view out(reinterpret_cast<const char*>(p_), len);
    p_ += len;
    n_ -= len;
    return out;
  }
  const uint8_t* p_;
  size_t n_;
};

// An anonymous in-memory file (memfd) holding `bytes`, reachable as path() while alive.
class MemFile {
 public:
  explicit MemFile(std::string_view bytes) {
    fd_ = memfd_create("stemma-fuzz", 0);
    if (fd_ < 0) return;
    size_t off = 0;
    while (off < bytes.size()) {
      const ssize_t w = ::write(fd_, bytes.data() + off, bytes.size() - off);
      if (w <= 0) break;
      off += static_cast<size_t>(w);
    }
  }
  ~MemFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  MemFile(const MemFile&) = delete;
  MemFile& operator=(const MemFile&) = delete;
  bool ok() const { return fd_ >= 0; }
  std::string path() const { return "/proc/self/fd/" + std::to_string(fd_); }

 private:
  int fd_ = -1;
};

}  // namespace stemma::fuzz
