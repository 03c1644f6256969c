// Which SIMD instruction set the CPU kernels use, detected once at run time (cpuid).
#pragma once

namespace stemma::cpu {

enum class Isa {
  kScalar,  // portable C++ (any x86-64 or other CPU)
  kAvx2,    // AVX2 + FMA + F16C
  kAvx512,  // AVX-512 F/BW/VL/DQ + VNNI
};

const char* isa_name(Isa isa);

// The best instruction set this CPU supports. STEMMA_CPU_ISA=scalar|avx2|avx512 in the
// environment lowers it (never raises it past what the CPU has), for tests and comparisons.
Isa best_isa();

// True when the CPU can run kernels built for `isa`.
bool isa_supported(Isa isa);

}  // namespace stemma::cpu
