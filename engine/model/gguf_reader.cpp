#include "engine/model/gguf_reader.h"

#include <algorithm>
#include <cstring>
#include <numeric>

#include "engine/model/dtype.h"

namespace stemma {
namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" little-endian
constexpr int kMaxDims = 4;              // GGML_MAX_DIMS
constexpr uint32_t kGgmlQ5_0 = 6;        // read, then repacked to Q8_0 by the loader
constexpr int kMaxArrayDepth = 8;        // nested arrays deeper than this are refused
constexpr uint64_t kMaxDim = uint64_t{1} << 40;
constexpr uint64_t kMaxElements = uint64_t{1} << 50;
constexpr uint64_t kMaxAlignment = uint64_t{1} << 16;
// Real arrays (vocabularies, merges) hold < 1M items; each decoded item costs ~40 bytes.
constexpr uint64_t kMaxArrayItems = uint64_t{1} << 24;

// Minimum encoded size of one value of type t (for bounding counts before allocating).
uint64_t min_value_bytes(uint32_t t) {
  switch (static_cast<GgufType>(t)) {
    case GgufType::kUint8:
    case GgufType::kInt8:
    case GgufType::kBool:
      return 1;
    case GgufType::kUint16:
    case GgufType::kInt16:
      return 2;
    case GgufType::kUint32:
    case GgufType::kInt32:
    case GgufType::kFloat32:
      return 4;
    case GgufType::kUint64:
    case GgufType::kInt64:
    case GgufType::kFloat64:
    case GgufType::kString:
      return 8;
    case GgufType::kArray:
      return 12;
  }
  return 0;
}

}  // namespace

// Reads the image front to back; every read checks the bytes left first.
class GgufParser {
 public:
  GgufParser(const uint8_t* data, size_t size, std::string what)
      : p_(data), size_(size), what_(std::move(what)) {}

  Result<GgufFile> run() {
    GgufFile f;
    f.what_ = what_;
    uint32_t magic = 0;
    STEMMA_RETURN_IF_ERROR(u32(&magic, "magic"));
    if (magic != kMagic) {
      char m[5] = {0, 0, 0, 0, 0};
      std::memcpy(m, p_, 4);
      for (char& c : m) {
        if (c != 0 && (c < 32 || c > 126)) c = '?';
      }
      return fail(0, std::string("bad magic '") + m + "' (expected 'GGUF')");
    }
    STEMMA_RETURN_IF_ERROR(u32(&f.version_, "version"));
    if (f.version_ == 1) return fail(4, "GGUF version 1 is not supported (need 2 or 3)");
    if (f.version_ != 2 && f.version_ != 3) {
      return fail(4, "unsupported GGUF version " + std::to_string(f.version_) +
                         " (need 2 or 3; a big-endian file reads as a huge version)");
    }
    uint64_t n_tensors = 0, n_kv = 0;
    STEMMA_RETURN_IF_ERROR(u64(&n_tensors, "tensor count"));
    STEMMA_RETURN_IF_ERROR(u64(&n_kv, "metadata count"));
    // Each key/value needs >= 13 bytes and each tensor info >= 28: bound the counts by the file.
    if (n_kv > left() / 13) {
      return fail(16, "metadata count " + std::to_string(n_kv) + " is more than the " +
                          std::to_string(size_) + "-byte file can hold");
    }
    if (n_tensors > left() / 28) {
      return fail(8, "tensor count " + std::to_string(n_tensors) + " is more than the " +
                         std::to_string(size_) + "-byte file can hold");
    }
    f.kv_.reserve(static_cast<size_t>(n_kv));
    for (uint64_t i = 0; i < n_kv; ++i) {
      size_t at = pos_;
      std::string key;
      STEMMA_RETURN_IF_ERROR(str(&key, "metadata key"));
      if (f.kv_index_.count(key)) return fail(at, "duplicate metadata key '" + key + "'");
      uint32_t type = 0;
      STEMMA_RETURN_IF_ERROR(u32(&type, "type of '" + key + "'"));
      GgufValue v;
      STEMMA_RETURN_IF_ERROR(value(type, &v, key, 0));
      f.kv_index_[key] = f.kv_.size();
      f.kv_.emplace_back(std::move(key), std::move(v));
    }
    if (auto it = f.kv_index_.find("general.alignment"); it != f.kv_index_.end()) {
      const GgufValue& a = f.kv_[it->second].second;
      uint64_t al = 0;
      if (const auto* u = std::get_if<uint32_t>(&a.v))
        al = *u;
      else if (const auto* u64v = std::get_if<uint64_t>(&a.v))
        al = *u64v;
      else if (const auto* i32 = std::get_if<int32_t>(&a.v))
        al = *i32 > 0 ? static_cast<uint64_t>(*i32) : 0;
      else
        return fail(0, "general.alignment has type " + std::string(gguf_type_name(a.type())) +
                           ", expected uint32");
      if (al == 0 || (al & (al - 1)) != 0 || al > kMaxAlignment) {
        return fail(0,
                    "general.alignment " + std::to_string(al) + " is not a power of two <= 65536");
      }
      f.alignment_ = al;
    }
    f.tensors_.reserve(static_cast<size_t>(n_tensors));
    f.offsets_.reserve(static_cast<size_t>(n_tensors));
    for (uint64_t i = 0; i < n_tensors; ++i) {
      size_t at = pos_;
      TensorView t;
      uint64_t offset = 0;
      STEMMA_RETURN_IF_ERROR(tensor_info(i, &t, &offset));
      if (f.tensor_index_.count(t.name)) return fail(at, "duplicate tensor name '" + t.name + "'");
      f.tensor_index_[t.name] = f.tensors_.size();
      f.tensors_.push_back(std::move(t));
      f.offsets_.push_back(offset);
    }
    // Data section: the next multiple of the alignment.
    uint64_t data_off =
        (static_cast<uint64_t>(pos_) + f.alignment_ - 1) / f.alignment_ * f.alignment_;
    f.data_offset_ = data_off;
    if (n_tensors > 0 && data_off > size_) {
      return fail(pos_, "file ends before its tensor data section (needs offset " +
                            std::to_string(data_off) + ")");
    }
    uint64_t data_size = data_off <= size_ ? size_ - data_off : 0;
    std::vector<size_t> order(f.tensors_.size());
    std::iota(order.begin(), order.end(), size_t{0});
    for (size_t i = 0; i < f.tensors_.size(); ++i) {
      TensorView& t = f.tensors_[i];
      uint64_t off = f.offsets_[i];
      if (off % f.alignment_ != 0) {
        return fail(data_off + off, "tensor '" + t.name + "' data offset " + std::to_string(off) +
                                        " is misaligned (alignment " +
                                        std::to_string(f.alignment_) + ")");
      }
      if (off > data_size || t.nbytes > data_size - off) {
        return fail(data_off + std::min(off, data_size),
                    "tensor '" + t.name + "' data [" + std::to_string(off) + ", +" +
                        std::to_string(t.nbytes) + ") is past the end of the data section (" +
                        std::to_string(data_size) + " bytes)");
      }
      t.data = p_ + data_off + off;
    }
    std::sort(order.begin(), order.end(),
              [&](size_t a, size_t b) { return f.offsets_[a] < f.offsets_[b]; });
    for (size_t k = 1; k < order.size(); ++k) {
      size_t a = order[k - 1], b = order[k];
      if (f.offsets_[b] < f.offsets_[a] + f.tensors_[a].nbytes) {
        return fail(data_off + f.offsets_[b], "tensor '" + f.tensors_[b].name +
                                                  "' overlaps tensor '" + f.tensors_[a].name +
                                                  "' in the data section");
      }
    }
    return f;
  }

 private:
  size_t left() const { return size_ - pos_; }

  Status fail(uint64_t offset, const std::string& why) const {
    return CorruptData(what_ + ": " + why + " (at offset " + std::to_string(offset) + ")");
  }
  Status truncated(const std::string& field) const {
    return fail(pos_, "file truncated while reading " + field);
  }

  Status bytes(void* out, size_t n, const std::string& field) {
    if (left() < n) return truncated(field);
    std::memcpy(out, p_ + pos_, n);
    pos_ += n;
    return OkStatus();
  }
  Status u32(uint32_t* v, const std::string& field) { return bytes(v, 4, field); }
  Status u64(uint64_t* v, const std::string& field) { return bytes(v, 8, field); }

  Status str(std::string* s, const std::string& field) {
    size_t at = pos_;
    uint64_t len = 0;
    STEMMA_RETURN_IF_ERROR(u64(&len, "length of " + field));
    if (len > left()) {
      return fail(
          at, "length " + std::to_string(len) + " of " + field + " runs past the end of the file");
    }
    s->assign(reinterpret_cast<const char*>(p_ + pos_), static_cast<size_t>(len));
    pos_ += static_cast<size_t>(len);
    return OkStatus();
  }

  Status value(uint32_t type, GgufValue* out, const std::string& key, int depth) {
    size_t at = pos_;
    switch (static_cast<GgufType>(type)) {
      case GgufType::kUint8:
        return scalar<uint8_t>(out, key);
      case GgufType::kInt8:
        return scalar<int8_t>(out, key);
      case GgufType::kUint16:
        return scalar<uint16_t>(out, key);
      case GgufType::kInt16:
        return scalar<int16_t>(out, key);
      case GgufType::kUint32:
        return scalar<uint32_t>(out, key);
      case GgufType::kInt32:
        return scalar<int32_t>(out, key);
      case GgufType::kFloat32:
        return scalar<float>(out, key);
      case GgufType::kUint64:
        return scalar<uint64_t>(out, key);
      case GgufType::kInt64:
        return scalar<int64_t>(out, key);
      case GgufType::kFloat64:
        return scalar<double>(out, key);
      case GgufType::kBool: {
        uint8_t b = 0;
        STEMMA_RETURN_IF_ERROR(bytes(&b, 1, "value of '" + key + "'"));
        if (b > 1)
          return fail(at, "bool value " + std::to_string(b) + " of '" + key + "' is not 0 or 1");
        out->v = b != 0;
        return OkStatus();
      }
      case GgufType::kString: {
        std::string s;
        STEMMA_RETURN_IF_ERROR(str(&s, "string value of '" + key + "'"));
        out->v = std::move(s);
        return OkStatus();
      }
      case GgufType::kArray: {
        if (depth >= kMaxArrayDepth)
          return fail(at, "arrays nested deeper than 8 in '" + key + "'");
        uint32_t et = 0;
        uint64_t n = 0;
        STEMMA_RETURN_IF_ERROR(u32(&et, "array type of '" + key + "'"));
        if (min_value_bytes(et) == 0) {
          return fail(at, "array '" + key + "' has unknown element type " + std::to_string(et));
        }
        STEMMA_RETURN_IF_ERROR(u64(&n, "array length of '" + key + "'"));
        if (n > kMaxArrayItems) {
          return fail(at, "array '" + key + "' length " + std::to_string(n) +
                              " is over the limit of " + std::to_string(kMaxArrayItems));
        }
        if (n > left() / min_value_bytes(et)) {
          return fail(at, "array '" + key + "' length " + std::to_string(n) +
                              " runs past the end of the file");
        }
        GgufArray arr;
        arr.elem_type = static_cast<GgufType>(et);
        arr.items.resize(static_cast<size_t>(n));
        for (uint64_t i = 0; i < n; ++i) {
          STEMMA_RETURN_IF_ERROR(value(et, &arr.items[static_cast<size_t>(i)], key, depth + 1));
        }
        out->v = std::move(arr);
        return OkStatus();
      }
    }
    return fail(at - 4, "metadata '" + key + "' has unknown value type " + std::to_string(type));
  }

  template <typename T>
  Status scalar(GgufValue* out, const std::string& key) {
    T x;
    STEMMA_RETURN_IF_ERROR(bytes(&x, sizeof(T), "value of '" + key + "'"));
    out->v = x;
    return OkStatus();
  }

  Status tensor_info(uint64_t index, TensorView* t, uint64_t* offset) {
    size_t at = pos_;
    STEMMA_RETURN_IF_ERROR(str(&t->name, "name of tensor " + std::to_string(index)));
    const std::string& name = t->name;
    uint32_t n_dims = 0;
    STEMMA_RETURN_IF_ERROR(u32(&n_dims, "dimension count of tensor '" + name + "'"));
    if (n_dims < 1 || n_dims > kMaxDims) {
      return fail(at, "tensor '" + name + "' has " + std::to_string(n_dims) +
                          " dimensions (1 to 4 allowed)");
    }
    uint64_t ne[kMaxDims] = {1, 1, 1, 1};
    uint64_t elems = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      size_t dim_at = pos_;
      STEMMA_RETURN_IF_ERROR(u64(&ne[d], "dimensions of tensor '" + name + "'"));
      if (ne[d] == 0) return fail(dim_at, "tensor '" + name + "' has a zero dimension");
      if (ne[d] > kMaxDim) {
        return fail(dim_at, "tensor '" + name + "' dimension " +
                                std::to_string(static_cast<int64_t>(ne[d])) +
                                " is negative or too large");
      }
      if (elems > kMaxElements / ne[d]) {
        return fail(dim_at, "tensor '" + name + "' element count overflows");
      }
      elems *= ne[d];
    }
    uint32_t type = 0;
    size_t type_at = pos_;
    STEMMA_RETURN_IF_ERROR(u32(&type, "type of tensor '" + name + "'"));
    if (!dtype_is_known(type) && type != kGgmlQ5_0) {
      return fail(type_at, "tensor '" + name + "' has ggml type " + std::to_string(type) + " (" +
                               ggml_type_name(type) + "), which is not supported");
    }
    t->dtype = static_cast<DType>(type);
    STEMMA_RETURN_IF_ERROR(u64(offset, "data offset of tensor '" + name + "'"));
    size_t row_bytes = 0;
    bool whole_blocks = false;
    if (type == kGgmlQ5_0) {
      whole_blocks = ne[0] % 32 == 0;
      row_bytes = static_cast<size_t>(ne[0] / 32 * 22);
    } else {
      whole_blocks = dtype_row_bytes(t->dtype, static_cast<int64_t>(ne[0]), &row_bytes);
    }
    if (!whole_blocks) {
      return fail(at, "tensor '" + name + "' rows of " + std::to_string(ne[0]) +
                          " elements are not whole " + ggml_type_name(type) + " blocks");
    }
    uint64_t rows = elems / ne[0];
    if (rows != 0 && row_bytes > UINT64_MAX / rows)
      return fail(at, "tensor '" + name + "' byte size overflows");
    t->nbytes = static_cast<size_t>(row_bytes * rows);
    t->shape.clear();
    for (int d = static_cast<int>(n_dims) - 1; d >= 0; --d)
      t->shape.push_back(static_cast<int64_t>(ne[d]));
    return OkStatus();
  }

  const uint8_t* p_;
  size_t size_;
  size_t pos_ = 0;
  std::string what_;
};

Result<GgufFile> GgufFile::parse(const uint8_t* data, size_t size, const std::string& what) {
  try {
    if (data == nullptr && size != 0) return InvalidArgument(what + ": null data");
    static const uint8_t kEmpty[1] = {0};
    return GgufParser(data ? data : kEmpty, data ? size : 0, what).run();
  } catch (const std::bad_alloc&) {
    return ResourceExhausted(what + ": out of memory while reading metadata");
  }
}

Result<GgufFile> GgufFile::open(const std::string& path) {
  auto mapped = MappedFile::open(path);
  if (!mapped.ok()) return mapped.status();
  auto file = std::make_shared<MappedFile>(std::move(mapped).value());
  auto g = parse(file->data(), file->size(), path);
  if (!g.ok()) return g.status();
  g->file_ = file;
  return g;
}

const GgufValue* GgufFile::find(const std::string& key) const {
  auto it = kv_index_.find(key);
  return it == kv_index_.end() ? nullptr : &kv_[it->second].second;
}

const TensorView* GgufFile::find_tensor(const std::string& name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

namespace {

Status wrong_type(const std::string& what, const std::string& key, const GgufValue& v,
                  const char* want) {
  return InvalidArgument(what + ": metadata '" + key + "' has type " + gguf_type_name(v.type()) +
                         ", expected " + want);
}

// Integer value as (negative?, magnitude); false for non-integers.
bool as_integer(const GgufValue& v, bool* neg, uint64_t* mag) {
  return std::visit(
      [&](const auto& x) -> bool {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
          if constexpr (std::is_signed_v<T>) {
            *neg = x < 0;
            *mag = x < 0 ? static_cast<uint64_t>(-(static_cast<int64_t>(x) + 1)) + 1
                         : static_cast<uint64_t>(x);
          } else {
            *neg = false;
            *mag = static_cast<uint64_t>(x);
          }
          return true;
        } else {
          return false;
        }
      },
      v.v);
}

bool as_double(const GgufValue& v, double* out) {
  if (const auto* f = std::get_if<float>(&v.v)) {
    *out = *f;
    return true;
  }
  if (const auto* d = std::get_if<double>(&v.v)) {
    *out = *d;
    return true;
  }
  bool neg;
  uint64_t mag;
  if (!as_integer(v, &neg, &mag)) return false;
  *out = neg ? -static_cast<double>(mag) : static_cast<double>(mag);
  return true;
}

}  // namespace

Result<std::string> GgufFile::get_string(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) return NotFound(what_ + ": no metadata '" + key + "'");
  if (const auto* s = std::get_if<std::string>(&v->v)) return *s;
  return wrong_type(what_, key, *v, "string");
}

Result<uint64_t> GgufFile::get_uint(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) return NotFound(what_ + ": no metadata '" + key + "'");
  bool neg;
  uint64_t mag;
  if (!as_integer(*v, &neg, &mag)) return wrong_type(what_, key, *v, "an integer");
  if (neg) return InvalidArgument(what_ + ": metadata '" + key + "' is negative");
  return mag;
}

Result<int64_t> GgufFile::get_int(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) return NotFound(what_ + ": no metadata '" + key + "'");
  bool neg;
  uint64_t mag;
  if (!as_integer(*v, &neg, &mag)) return wrong_type(what_, key, *v, "an integer");
  if (!neg && mag > static_cast<uint64_t>(INT64_MAX))
    return InvalidArgument(what_ + ": metadata '" + key + "' is too large");
  return neg ? static_cast<int64_t>(0 - mag) : static_cast<int64_t>(mag);
}

Result<double> GgufFile::get_float(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) return NotFound(what_ + ": no metadata '" + key + "'");
  double d;
  if (!as_double(*v, &d)) return wrong_type(what_, key, *v, "a number");
  return d;
}

Result<bool> GgufFile::get_bool(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) return NotFound(what_ + ": no metadata '" + key + "'");
  if (const auto* b = std::get_if<bool>(&v->v)) return *b;
  return wrong_type(what_, key, *v, "bool");
}

Result<std::vector<std::string>> GgufFile::get_string_array(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) return NotFound(what_ + ": no metadata '" + key + "'");
  const auto* a = std::get_if<GgufArray>(&v->v);
  if (!a || a->elem_type != GgufType::kString) return wrong_type(what_, key, *v, "array of string");
  std::vector<std::string> out;
  out.reserve(a->items.size());
  for (const auto& it : a->items) out.push_back(std::get<std::string>(it.v));
  return out;
}

Result<std::vector<float>> GgufFile::get_float_array(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) return NotFound(what_ + ": no metadata '" + key + "'");
  const auto* a = std::get_if<GgufArray>(&v->v);
  if (!a) return wrong_type(what_, key, *v, "numeric array");
  std::vector<float> out;
  out.reserve(a->items.size());
  for (const auto& it : a->items) {
    double d;
    if (!as_double(it, &d)) return wrong_type(what_, key, *v, "numeric array");
    out.push_back(static_cast<float>(d));
  }
  return out;
}

Result<std::vector<int64_t>> GgufFile::get_int_array(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) return NotFound(what_ + ": no metadata '" + key + "'");
  const auto* a = std::get_if<GgufArray>(&v->v);
  if (!a) return wrong_type(what_, key, *v, "integer array");
  std::vector<int64_t> out;
  out.reserve(a->items.size());
  for (const auto& it : a->items) {
    bool neg;
    uint64_t mag;
    if (!as_integer(it, &neg, &mag) || (!neg && mag > static_cast<uint64_t>(INT64_MAX))) {
      return wrong_type(what_, key, *v, "integer array");
    }
    out.push_back(neg ? static_cast<int64_t>(0 - mag) : static_cast<int64_t>(mag));
  }
  return out;
}

}  // namespace stemma
