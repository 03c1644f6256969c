#include "engine/model/gguf_writer.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>

namespace stemma {
namespace {

// resize + memcpy rather than insert(): GCC 12 reports false overflows for the latter.
void put(std::vector<uint8_t>& out, const void* p, size_t n) {
  if (n == 0) return;
  size_t old = out.size();
  out.resize(old + n);
  std::memcpy(out.data() + old, p, n);
}
void put_u32(std::vector<uint8_t>& out, uint32_t v) {
  put(out, &v, 4);
}
void put_u64(std::vector<uint8_t>& out, uint64_t v) {
  put(out, &v, 8);
}
void put_str(std::vector<uint8_t>& out, const std::string& s) {
  put_u64(out, s.size());
  put(out, s.data(), s.size());
}

void put_value(std::vector<uint8_t>& out, const GgufValue& v) {
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::string>) {
          put_str(out, x);
        } else if constexpr (std::is_same_v<T, GgufArray>) {
          put_u32(out, static_cast<uint32_t>(x.elem_type));
          put_u64(out, x.items.size());
          for (const auto& it : x.items) put_value(out, it);
        } else if constexpr (std::is_same_v<T, bool>) {
          uint8_t b = x ? 1 : 0;
          put(out, &b, 1);
        } else {
          put(out, &x, sizeof(T));
        }
      },
      v.v);
}

uint64_t align_up(uint64_t x, uint64_t a) {
  return (x + a - 1) / a * a;
}

struct FileSink {
  std::FILE* f;
  Status write(const uint8_t* p, size_t n, const std::string& path) {
    if (n && std::fwrite(p, 1, n, f) != n)
      return IoError("writing '" + path + "': " + std::strerror(errno));
    return OkStatus();
  }
};
struct VectorSink {
  std::vector<uint8_t>* out;
  Status write(const uint8_t* p, size_t n, const std::string&) {
    put(*out, p, n);
    return OkStatus();
  }
};

}  // namespace

GgufWriter::GgufWriter(uint64_t alignment) : alignment_(alignment == 0 ? 32 : alignment) {
  if (alignment_ != 32) set_u32("general.alignment", static_cast<uint32_t>(alignment_));
}

void GgufWriter::set(const std::string& key, GgufValue value) {
  for (auto& kv : kv_) {
    if (kv.first == key) {
      kv.second = std::move(value);
      return;
    }
  }
  kv_.emplace_back(key, std::move(value));
}

Status GgufWriter::add(const std::string& name, uint32_t ggml_type, size_t row_bytes,
                       std::vector<int64_t> shape, Fill fill) {
  for (const auto& t : tensors_) {
    if (t.name == name) return InvalidArgument("GGUF writer: duplicate tensor '" + name + "'");
  }
  if (shape.empty() || shape.size() > 4) {
    return InvalidArgument("GGUF writer: tensor '" + name + "' needs 1 to 4 dims");
  }
  uint64_t rows = 1;
  for (size_t i = 0; i + 1 < shape.size(); ++i) {
    if (shape[i] <= 0) {
      return InvalidArgument("GGUF writer: tensor '" + name + "' has a non-positive dim");
    }
    rows *= static_cast<uint64_t>(shape[i]);
  }
  Tensor t{name, ggml_type,      std::move(shape), static_cast<size_t>(row_bytes * rows),
           0,    std::move(fill)};
  t.offset = align_up(data_size_, alignment_);
  data_size_ = t.offset + t.nbytes;
  tensors_.push_back(std::move(t));
  return OkStatus();
}

Status GgufWriter::add_tensor(const std::string& name, DType dtype, std::vector<int64_t> shape,
                              Fill fill) {
  size_t row_bytes = 0;
  if (shape.empty() || shape.back() <= 0 || !dtype_row_bytes(dtype, shape.back(), &row_bytes)) {
    return InvalidArgument("GGUF writer: tensor '" + name + "' rows of " +
                           (shape.empty() ? std::string("?") : std::to_string(shape.back())) +
                           " are not whole " + dtype_name(dtype) + " blocks");
  }
  return add(name, static_cast<uint32_t>(dtype), row_bytes, std::move(shape), std::move(fill));
}

namespace {
GgufWriter::Fill copy_fill(const std::string& name, const uint8_t* data, size_t nbytes) {
  return [data, nbytes, name](uint8_t* dst, size_t want) -> Status {
    if (want != nbytes) {
      return InvalidArgument("GGUF writer: tensor '" + name + "' has " + std::to_string(nbytes) +
                             " bytes, its shape needs " + std::to_string(want));
    }
    if (want) std::memcpy(dst, data, want);
    return OkStatus();
  };
}
}  // namespace

Status GgufWriter::add_tensor_raw(const std::string& name, uint32_t ggml_type, size_t row_bytes,
                                  std::vector<int64_t> shape, const uint8_t* data, size_t nbytes) {
  if (shape.empty() || shape.back() <= 0) {
    return InvalidArgument("GGUF writer: tensor '" + name + "' needs a positive row length");
  }
  return add(name, ggml_type, row_bytes, std::move(shape), copy_fill(name, data, nbytes));
}

Status GgufWriter::add_tensor_bytes(const std::string& name, DType dtype,
                                    std::vector<int64_t> shape, const uint8_t* data,
                                    size_t nbytes) {
  return add_tensor(name, dtype, std::move(shape), copy_fill(name, data, nbytes));
}

std::vector<uint8_t> GgufWriter::header() const {
  std::vector<uint8_t> h;
  put(h, "GGUF", 4);
  put_u32(h, 3);
  put_u64(h, tensors_.size());
  put_u64(h, kv_.size());
  for (const auto& [k, v] : kv_) {
    put_str(h, k);
    put_u32(h, static_cast<uint32_t>(v.type()));
    put_value(h, v);
  }
  for (const auto& t : tensors_) {
    put_str(h, t.name);
    put_u32(h, static_cast<uint32_t>(t.shape.size()));
    for (auto it = t.shape.rbegin(); it != t.shape.rend(); ++it)
      put_u64(h, static_cast<uint64_t>(*it));
    put_u32(h, t.ggml_type);
    put_u64(h, t.offset);
  }
  h.resize(align_up(h.size(), alignment_), 0);
  return h;
}

template <typename Sink>
Status GgufWriter::write_to(Sink& sink) const {
  const std::string what = "GGUF output";
  std::vector<uint8_t> h = header();
  STEMMA_RETURN_IF_ERROR(sink.write(h.data(), h.size(), what));
  std::vector<uint8_t> buf;
  uint64_t pos = 0;
  for (const auto& t : tensors_) {
    if (t.offset > pos) {
      std::vector<uint8_t> pad(t.offset - pos, 0);
      STEMMA_RETURN_IF_ERROR(sink.write(pad.data(), pad.size(), what));
    }
    buf.assign(t.nbytes, 0);
    STEMMA_RETURN_IF_ERROR(t.fill(buf.data(), t.nbytes).with_context("tensor '" + t.name + "': "));
    STEMMA_RETURN_IF_ERROR(sink.write(buf.data(), buf.size(), what));
    pos = t.offset + t.nbytes;
  }
  return OkStatus();
}

Status GgufWriter::write_file(const std::string& path) const {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return IoError("cannot create '" + path + "': " + std::strerror(errno));
  FileSink sink{f};
  Status st = write_to(sink);
  if (std::fclose(f) != 0 && st.ok())
    st = IoError("closing '" + path + "': " + std::strerror(errno));
  if (!st.ok()) std::remove(path.c_str());
  return st;
}

Result<std::vector<uint8_t>> GgufWriter::write_bytes() const {
  std::vector<uint8_t> out;
  VectorSink sink{&out};
  STEMMA_RETURN_IF_ERROR(write_to(sink));
  return out;
}

}  // namespace stemma
