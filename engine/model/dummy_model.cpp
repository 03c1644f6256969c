// Seeded random weights at real shapes, for benchmarks and tests without downloads. Each tensor
// gets its own stream (seed x name), so the result does not depend on the thread count.
#include <atomic>
#include <cmath>
#include <thread>

#include "engine/model/model_loader.h"
#include "engine/model/quant/quant.h"
#include "engine/model/tensor_names.h"

namespace stemma {
namespace {

uint64_t splitmix64(uint64_t& s) {
  uint64_t z = (s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Standard normals by Box-Muller over splitmix64.
class Normal {
 public:
  explicit Normal(uint64_t seed) : s_(seed) {}
  float next() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u1 = (static_cast<double>(splitmix64(s_) >> 11) + 0.5) * 0x1.0p-53;
    double u2 = static_cast<double>(splitmix64(s_) >> 11) * 0x1.0p-53;
    double r = std::sqrt(-2.0 * std::log(u1));
    spare_ = static_cast<float>(r * std::sin(2.0 * M_PI * u2));
    has_spare_ = true;
    return static_cast<float>(r * std::cos(2.0 * M_PI * u2));
  }

 private:
  uint64_t s_;
  float spare_ = 0;
  bool has_spare_ = false;
};

// Uniform in (-sqrt(3), sqrt(3)) (unit variance) from the top 24 bits of splitmix64: exactly
// representable in float, so every machine draws the same values.
class Uniform {
 public:
  explicit Uniform(uint64_t seed) : s_(seed) {}
  float next() {
    const float u = static_cast<float>(splitmix64(s_) >> 40) * 0x1.0p-24f;  // [0, 1), exact
    return (2.0f * u - 1.0f) * 1.7320508f;
  }
  float unit() { return static_cast<float>(splitmix64(s_) >> 40) * 0x1.0p-24f; }

 private:
  uint64_t s_;
};

bool ends_with(const std::string& s, const char* suffix) {
  const size_t n = std::char_traits<char>::length(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

// The reference profile's value for element draws of tensor `name` (see DummyInit::kReference).
struct ReferenceRule {
  bool offset_uniform = false;  // 0.5 + U[0, 1) (norm weights)
  float scale = 1.0f;           // else scale * unit-variance uniform
};

ReferenceRule reference_rule(const std::string& name, const ModelConfig& c, int64_t fan_in) {
  if (ends_with(name, "norm.weight")) return {true, 1.0f};
  if (ends_with(name, ".bias")) return {false, 0.5f};
  if (name == "token_embd.weight") return {false, 0.3f};
  if (name == "output.weight") {
    return {false, 2.5f / std::sqrt(static_cast<float>(c.hidden_size))};
  }
  float gain = 1.0f;
  if (ends_with(name, ".attn_q.weight") || ends_with(name, ".attn_k.weight")) gain = 1.5f;
  if (ends_with(name, ".attn_output.weight") || ends_with(name, ".ffn_down.weight")) gain = 2.0f;
  return {false, gain / std::sqrt(static_cast<float>(fan_in))};
}

uint64_t name_hash(const std::string& s) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

}  // namespace

// The type a matrix of `cols` columns is stored as when `want` does not fit its rows: k-quants
// fall back to Q8_0, Q8_0/Q4_0 to F16 (llama.cpp's quantizer makes similar substitutions).
DType storable_type(DType want, int64_t cols) {
  if (cols % dtype_block_elems(want) == 0) return want;
  if ((want == DType::kQ4_K || want == DType::kQ6_K) && cols % 32 == 0) return DType::kQ8_0;
  return DType::kF16;
}

Result<LoadedModel> make_dummy_model(const ModelConfig& config, DType weight_type, uint64_t seed,
                                     DummyInit init) {
  STEMMA_RETURN_IF_ERROR(validate_config(config, "dummy model"));
  if (!dtype_is_known(static_cast<uint32_t>(weight_type))) {
    return InvalidArgument("dummy model: unknown weight type");
  }
  LoadedModel m;
  m.config = config;
  m.config.rope_freq_factors = false;
  m.source_path = "dummy";
  m.source_format = "dummy";
  std::vector<ExpectedTensor> specs = expected_tensors(config);
  std::vector<DType> types(specs.size());
  uint64_t total = 0;
  for (size_t i = 0; i < specs.size(); ++i) {
    const auto& e = specs[i];
    types[i] = e.is_matrix ? storable_type(weight_type, e.shape.back()) : DType::kF32;
    size_t row = 0;
    if (!dtype_row_bytes(types[i], e.shape.back(), &row)) return Internal("dummy: row size");
    int64_t rows = e.shape.size() == 2 ? e.shape[0] : 1;
    total += static_cast<uint64_t>(row) * static_cast<uint64_t>(rows);
  }
  if (total > (uint64_t{64} << 30)) {
    return ResourceExhausted("dummy model: " + std::to_string(total >> 20) +
                             " MiB of weights is over the 64 GiB limit");
  }
  std::vector<std::shared_ptr<std::vector<uint8_t>>> bufs(specs.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    std::vector<float> row;
    for (size_t i = next++; i < specs.size(); i = next++) {
      const auto& e = specs[i];
      int64_t cols = e.shape.back();
      int64_t rows = e.shape.size() == 2 ? e.shape[0] : 1;
      size_t row_bytes = 0;
      (void)dtype_row_bytes(types[i], cols, &row_bytes);
      auto buf = std::make_shared<std::vector<uint8_t>>(row_bytes * static_cast<size_t>(rows));
      row.resize(static_cast<size_t>(cols));
      if (init == DummyInit::kReference) {
        Uniform rng(seed ^ name_hash(e.name));
        const ReferenceRule rule = reference_rule(e.name, config, e.fan_in);
        for (int64_t r = 0; r < rows; ++r) {
          for (auto& v : row) v = rule.offset_uniform ? 0.5f + rng.unit() : rule.scale * rng.next();
          (void)quant::quantize_row(types[i], row.data(), buf->data() + row_bytes * r, cols);
        }
      } else {
        Normal rng(seed ^ name_hash(e.name));
        bool is_norm = e.name.ends_with("norm.weight");
        float scale = e.is_matrix ? 1.0f / std::sqrt(static_cast<float>(e.fan_in)) : 0.02f;
        for (int64_t r = 0; r < rows; ++r) {
          for (auto& v : row) v = is_norm ? 1.0f + 0.05f * rng.next() : scale * rng.next();
          (void)quant::quantize_row(types[i], row.data(), buf->data() + row_bytes * r, cols);
        }
      }
      bufs[i] = std::move(buf);
    }
  };
  unsigned n_threads = std::max(1u, std::min(8u, std::thread::hardware_concurrency()));
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < n_threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  for (size_t i = 0; i < specs.size(); ++i) {
    TensorView v;
    v.name = specs[i].name;
    v.dtype = types[i];
    v.shape = specs[i].shape;
    v.data = bufs[i]->data();
    v.nbytes = bufs[i]->size();
    m.tensors[v.name] = v;
    m.owned.push_back(bufs[i]);
  }
  return m;
}

}  // namespace stemma
