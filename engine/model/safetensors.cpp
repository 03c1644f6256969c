#include "engine/model/safetensors.h"

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>

namespace stemma {
namespace {

// The format's own limit on the header (100 MB) keeps a hostile length from costing memory.
constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

bool dtype_from_safetensors(const std::string& s, DType* out) {
  if (s == "F32")
    *out = DType::kF32;
  else if (s == "F16")
    *out = DType::kF16;
  else if (s == "BF16")
    *out = DType::kBF16;
  else
    return false;
  return true;
}

Status parse_entry(const std::string& what, const std::string& name, const nlohmann::json& e,
                   const uint8_t* base, uint64_t data_size, TensorView* out) {
  auto bad = [&](const std::string& why) {
    return CorruptData(what + ": tensor '" + name + "': " + why);
  };
  if (!e.is_object()) return bad("header entry is not an object");
  auto dt = e.find("dtype");
  auto sh = e.find("shape");
  auto off = e.find("data_offsets");
  if (dt == e.end() || !dt->is_string()) return bad("missing or non-string 'dtype'");
  if (sh == e.end() || !sh->is_array()) return bad("missing or non-array 'shape'");
  if (off == e.end() || !off->is_array() || off->size() != 2) {
    return bad("'data_offsets' must be an array of two integers");
  }
  std::string dts = dt->get<std::string>();
  if (!dtype_from_safetensors(dts, &out->dtype)) {
    return Unsupported(what + ": tensor '" + name + "' has dtype " + dts +
                       " (supported: F32, F16, BF16)");
  }
  uint64_t elems = 1;
  out->shape.clear();
  for (const auto& d : *sh) {
    if (!d.is_number_unsigned()) return bad("shape has a non-integer or negative dimension");
    uint64_t v = d.get<uint64_t>();
    if (v > (uint64_t{1} << 48)) return bad("shape dimension " + std::to_string(v) + " too large");
    if (v != 0 && elems > UINT64_MAX / v) return bad("shape element count overflows");
    elems *= v;
    out->shape.push_back(static_cast<int64_t>(v));
  }
  if (elems > (uint64_t{1} << 60)) return bad("shape element count overflows");
  for (const auto& o : *off) {
    if (!o.is_number_unsigned()) return bad("'data_offsets' holds a non-integer or negative value");
  }
  uint64_t begin = (*off)[0].get<uint64_t>(), end = (*off)[1].get<uint64_t>();
  if (begin > end)
    return bad("data_offsets begin " + std::to_string(begin) + " > end " + std::to_string(end));
  if (end > data_size) {
    return bad("data_offsets end " + std::to_string(end) + " is past the data area (" +
               std::to_string(data_size) + " bytes)");
  }
  uint64_t want = elems * dtype_block_bytes(out->dtype);
  if (end - begin != want) {
    return bad("holds " + std::to_string(end - begin) + " bytes but dtype " + dts + " and shape " +
               std::to_string(elems) + " elements need " + std::to_string(want));
  }
  out->name = name;
  out->data = base + begin;
  out->nbytes = static_cast<size_t>(want);
  return OkStatus();
}

}  // namespace

Result<std::vector<TensorView>> parse_safetensors(const uint8_t* data, size_t size,
                                                  const std::string& what) {
  if (size < 8)
    return CorruptData(what + ": file of " + std::to_string(size) +
                       " bytes is too short for a safetensors header length");
  uint64_t hlen = 0;
  for (int i = 7; i >= 0; --i) hlen = (hlen << 8) | data[i];
  if (hlen > kMaxHeaderBytes) {
    return CorruptData(what + ": header length " + std::to_string(hlen) +
                       " exceeds the 100 MB limit");
  }
  if (hlen > size - 8) {
    return CorruptData(what + ": header length " + std::to_string(hlen) +
                       " is past the end of the " + std::to_string(size) + "-byte file");
  }
  nlohmann::json header = nlohmann::json::parse(data + 8, data + 8 + hlen, nullptr, false);
  if (header.is_discarded()) return CorruptData(what + ": header is not valid JSON");
  if (!header.is_object()) return CorruptData(what + ": header JSON is not an object");
  const uint8_t* base = data + 8 + hlen;
  uint64_t data_size = size - 8 - hlen;
  std::vector<TensorView> out;
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") continue;
    TensorView t;
    STEMMA_RETURN_IF_ERROR(parse_entry(what, it.key(), it.value(), base, data_size, &t));
    ranges.emplace_back(static_cast<uint64_t>(t.data - base),
                        static_cast<uint64_t>(t.data - base) + t.nbytes);
    out.push_back(std::move(t));
  }
  std::vector<size_t> order(out.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return ranges[a] < ranges[b]; });
  for (size_t k = 1; k < order.size(); ++k) {
    const auto& prev = ranges[order[k - 1]];
    const auto& cur = ranges[order[k]];
    if (cur.first < prev.second && cur.second > cur.first) {
      return CorruptData(what + ": tensors '" + out[order[k - 1]].name + "' and '" +
                         out[order[k]].name + "' overlap in the data area");
    }
  }
  return out;
}

Result<SafetensorsFile> open_safetensors(const std::string& path) {
  auto mapped = MappedFile::open(path);
  if (!mapped.ok()) return mapped.status();
  SafetensorsFile f;
  f.file = std::make_shared<MappedFile>(std::move(mapped).value());
  auto tensors = parse_safetensors(f.file->data(), f.file->size(), path);
  if (!tensors.ok()) return tensors.status();
  f.tensors = std::move(tensors).value();
  return f;
}

}  // namespace stemma
