#include "engine/model/hf_export.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/model/quant/quant.h"
#include "engine/model/tensor_names.h"

namespace stemma {
namespace {

const char* safetensors_dtype(DType t) {
  switch (t) {
    case DType::kF32:
      return "F32";
    case DType::kF16:
      return "F16";
    case DType::kBF16:
      return "BF16";
    default:
      return nullptr;
  }
}

Status write_file(const std::filesystem::path& path, const std::string& header,
                  const std::vector<std::vector<uint8_t>>& blobs) {
  const std::filesystem::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return IoError("cannot write '" + tmp.string() + "'");
    uint64_t n = header.size();
    unsigned char len[8];
    for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>(n >> (8 * i));
    out.write(reinterpret_cast<const char*>(len), 8);
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    for (const auto& b : blobs)
      out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
    if (!out) return IoError("writing '" + tmp.string() + "' failed");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return IoError("cannot rename '" + tmp.string() + "': " + ec.message());
  return OkStatus();
}

}  // namespace

Status export_hf_folder(const LoadedModel& model, const std::string& dir, DType type,
                        std::string_view config_json) {
  const char* st_type = safetensors_dtype(type);
  if (st_type == nullptr) {
    return InvalidArgument(std::string("HF export: type ") + dtype_name(type) +
                           " (safetensors folders hold f32, f16 or bf16)");
  }
  if (model.config.rope_interleaved) {
    return Unsupported("HF export: Q/K rows are in GGUF's interleaved rope layout");
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return IoError("cannot create '" + dir + "': " + ec.message());

  nlohmann::json header = nlohmann::json::object();
  std::vector<std::vector<uint8_t>> blobs;
  uint64_t offset = 0;
  std::vector<float> row;
  for (const auto& [name, t] : model.tensors) {  // std::map: sorted, so the file is deterministic
    auto hf = gguf_to_hf_name(name);
    if (!hf) return Unsupported("HF export: tensor '" + name + "' has no HF name");
    const int64_t cols = t.cols(), rows = t.rows();
    size_t out_row = 0;
    if (!dtype_row_bytes(type, cols, &out_row)) return Internal("HF export: row size");
    size_t in_row = 0;
    if (!dtype_row_bytes(t.dtype, cols, &in_row) || in_row * static_cast<size_t>(rows) != t.nbytes)
      return CorruptData("HF export: tensor '" + name + "' has an inconsistent size");
    std::vector<uint8_t> blob(out_row * static_cast<size_t>(rows));
    row.resize(static_cast<size_t>(cols));
    for (int64_t r = 0; r < rows; ++r) {
      STEMMA_RETURN_IF_ERROR(quant::dequantize_row(
          t.dtype, t.data + in_row * static_cast<size_t>(r), row.data(), cols));
      STEMMA_RETURN_IF_ERROR(quant::quantize_row(
          type, row.data(), blob.data() + out_row * static_cast<size_t>(r), cols));
    }
    header[*hf] = {
        {"dtype", st_type}, {"shape", t.shape}, {"data_offsets", {offset, offset + blob.size()}}};
    offset += blob.size();
    blobs.push_back(std::move(blob));
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // data starts 8-byte aligned
  STEMMA_RETURN_IF_ERROR(write_file(std::filesystem::path(dir) / "model.safetensors", text, blobs));
  std::ofstream cfg(std::filesystem::path(dir) / "config.json", std::ios::binary | std::ios::trunc);
  cfg.write(config_json.data(), static_cast<std::streamsize>(config_json.size()));
  if (!cfg) return IoError("cannot write '" + dir + "/config.json'");
  return OkStatus();
}

}  // namespace stemma
