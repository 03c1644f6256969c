#include "engine/backend/cpu/cpu_features.h"

#include <cstdlib>
#include <cstring>

namespace stemma::cpu {

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::kScalar:
      return "scalar";
    case Isa::kAvx2:
      return "avx2";
    case Isa::kAvx512:
      return "avx512";
  }
  return "unknown";
}

bool isa_supported(Isa isa) {
#if defined(__x86_64__) || defined(__i386__)
  switch (isa) {
    case Isa::kScalar:
      return true;
    case Isa::kAvx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
             __builtin_cpu_supports("f16c");
    case Isa::kAvx512:
      return isa_supported(Isa::kAvx2) && __builtin_cpu_supports("avx512f") &&
             __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
             __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vnni");
  }
  return false;
#else
  return isa == Isa::kScalar;
#endif
}

Isa best_isa() {
  static const Isa detected = [] {
    Isa best = Isa::kScalar;
    if (isa_supported(Isa::kAvx2)) best = Isa::kAvx2;
    if (isa_supported(Isa::kAvx512)) best = Isa::kAvx512;
    if (const char* env = std::getenv("STEMMA_CPU_ISA")) {
      Isa wanted = best;
      if (std::strcmp(env, "scalar") == 0) wanted = Isa::kScalar;
      if (std::strcmp(env, "avx2") == 0) wanted = Isa::kAvx2;
      if (std::strcmp(env, "avx512") == 0) wanted = Isa::kAvx512;
      if (static_cast<int>(wanted) < static_cast<int>(best)) best = wanted;
    }
    return best;
  }();
  return detected;
}

}  // namespace stemma::cpu
