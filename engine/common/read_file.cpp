#include "engine/common/read_file.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace stemma {

Result<std::string> read_file_bounded(const std::string& path, size_t max_bytes) {
  errno = 0;
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) {
    const int err = errno;
    const std::string why = "cannot open '" + path + "': " + std::strerror(err);
    return err == ENOENT ? NotFound(why) : IoError(why);
  }
  std::string out;
  char buf[1 << 16];
  for (;;) {
    const size_t room = max_bytes - out.size() + 1;  // one byte past the limit tells "too big"
    const size_t n = std::fread(buf, 1, std::min(sizeof buf, room), f.get());
    out.append(buf, n);
    if (out.size() > max_bytes) {
      return ResourceExhausted("'" + path + "' holds more than " + std::to_string(max_bytes) +
                               " bytes, the limit for an input file");
    }
    if (n == 0 || n < std::min(sizeof buf, room)) break;
  }
  if (std::ferror(f.get())) {
    return IoError("cannot read '" + path + "': " + std::strerror(errno));
  }
  return out;
}

}  // namespace stemma
