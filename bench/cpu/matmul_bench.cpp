// Matrix-vector (decode) and matrix-matrix (prefill) speed of the CPU kernels at the shapes of
// Qwen2.5-0.5B, per weight type and ISA: median time of repeated runs, weight bytes per second.
// Usage: bench_cpu_matmul [--threads N] [--reps R] [--types q8_0,q4_k,...] [--m 1,16]
//        [--paths packed,rows] (rows: the row-dot kernels on the stored rows, the baseline of
//        the packed tiles; both in the same run)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/backend/cpu/kernels.h"
#include "engine/backend/cpu/matmul.h"

using namespace stemma;
using namespace stemma::cpu;

namespace {

struct Shape {
  const char* name;
  int64_t rows, cols;
};

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(',', start);
    if (end == std::string::npos) end = s.size();
    if (end > start) out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

DType parse_type(const std::string& s) {
  if (s == "f32") return DType::kF32;
  if (s == "f16") return DType::kF16;
  if (s == "bf16") return DType::kBF16;
  if (s == "q8_0") return DType::kQ8_0;
  if (s == "q4_0") return DType::kQ4_0;
  if (s == "q4_k") return DType::kQ4_K;
  return DType::kQ6_K;
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 2, reps = 15;
  std::string types = "f32,bf16,q8_0,q4_0,q4_k,q6_k", ms = "1,16", isas = "scalar,avx2,avx512";
  std::string paths = "packed";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--threads") threads = std::atoi(argv[i + 1]);
    if (k == "--reps") reps = std::atoi(argv[i + 1]);
    if (k == "--types") types = argv[i + 1];
    if (k == "--m") ms = argv[i + 1];
    if (k == "--isa") isas = argv[i + 1];
    if (k == "--paths") paths = argv[i + 1];
  }
  const Shape shapes[] = {{"attn_q 896x896", 896, 896},
                          {"ffn_up 4864x896", 4864, 896},
                          {"ffn_down 896x4864", 896, 4864}};
  ThreadPool pool(threads);
  std::mt19937 rng(1);
  nlohmann::json results = nlohmann::json::array();
  for (const std::string& isa_s : split(isas)) {
    const Isa isa = isa_s == "scalar" ? Isa::kScalar : isa_s == "avx2" ? Isa::kAvx2 : Isa::kAvx512;
    if (!isa_supported(isa)) continue;
    const KernelTable& kt = kernels_for(isa);
    for (const std::string& ts : split(types)) {
      const DType dt = parse_type(ts);
      for (const Shape& sh : shapes) {
        const int64_t cols = sh.cols;
        if (cols % weight_kernel(kt, dt).block != 0) continue;
        std::vector<uint8_t> w(row_bytes(dt, cols) * static_cast<size_t>(sh.rows));
        for (auto& b : w) b = static_cast<uint8_t>(rng() & 0x3f);  // small, finite scales
        TensorView tv;
        tv.name = sh.name;
        tv.dtype = dt;
        tv.shape = {sh.rows, cols};
        tv.data = w.data();
        tv.nbytes = w.size();
        const Matrix packed = make_matrix(tv, kt).value();
        for (const std::string& path : split(paths)) {
          Matrix mat = packed;
          if (path == "rows")
            mat.packed = nullptr;  // the matmul reads the stored rows
          else if (!mat.packed)
            continue;  // this type has no packed form
          for (const std::string& m_s : split(ms)) {
            const int64_t m = std::stoll(m_s);
            std::vector<float> x(static_cast<size_t>(m * cols), 0.5f),
                y(static_cast<size_t>(m * sh.rows));
            std::vector<uint8_t> scratch;
            std::vector<double> times;
            for (int r = 0; r < reps + 2; ++r) {
              auto t0 = std::chrono::steady_clock::now();
              matmul(pool, kt, mat, x.data(), m, cols, y.data(), sh.rows, scratch);
              auto t1 = std::chrono::steady_clock::now();
              if (r >= 2) times.push_back(std::chrono::duration<double>(t1 - t0).count());
            }
            std::sort(times.begin(), times.end());
            const double med = times[times.size() / 2];
            results.push_back(
                {{"isa", isa_s},
                 {"path", path},
                 {"type", ts},
                 {"shape", sh.name},
                 {"m", m},
                 {"threads", threads},
                 {"median_us", med * 1e6},
                 {"weight_gb_per_s", static_cast<double>(w.size()) / med / 1e9},
                 {"gflops", 2.0 * static_cast<double>(m * sh.rows * cols) / med / 1e9}});
            std::printf("%-7s %-6s %-5s %-18s m=%-3lld %9.1f us  %6.2f GB/s  %7.2f GFLOP/s\n",
                        isa_s.c_str(), path.c_str(), ts.c_str(), sh.name, static_cast<long long>(m),
                        med * 1e6, static_cast<double>(w.size()) / med / 1e9,
                        2.0 * static_cast<double>(m * sh.rows * cols) / med / 1e9);
          }
        }
      }
    }
  }
  return 0;
}
