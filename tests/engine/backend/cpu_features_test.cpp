// Run-time ISA dispatch (issue 15 item 1): a kernel table is never wider than the CPU. CI also
// runs this suite under `qemu-x86_64 -cpu Haswell-v4` (AVX2, no AVX-512) and with the scalar
// kernels (scripts/test_isa.sh), telling it through STEMMA_EXPECT_ISA which ISA it must see.
#include <doctest/doctest.h>

#include <cstdlib>
#include <string>

#include "engine/backend/cpu/cpu_features.h"
#include "engine/backend/cpu/kernels.h"

using namespace stemma::cpu;

TEST_CASE("every requested table is one the CPU supports, at most as wide as asked") {
  for (Isa want : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
    const KernelTable& t = kernels_for(want);
    INFO("asked " << isa_name(want) << ", got " << isa_name(t.isa));
    CHECK(isa_supported(t.isa));
    CHECK(static_cast<int>(t.isa) <= static_cast<int>(want));
    if (isa_supported(want)) CHECK(t.isa == want);
    CHECK(static_cast<bool>(t.dot_q8_0));
    // The table works: a dot product of two 3-vectors.
    const float a[3] = {1, 2, 3}, b[3] = {4, 5, 6};
    CHECK(t.dot(3, a, b) == doctest::Approx(32.0f));
  }
  CHECK(kernels().isa == best_isa());
  CHECK(isa_supported(best_isa()));
}

TEST_CASE("the ISA an emulated or scalar CI run expects is the one chosen") {
  const char* expect = std::getenv("STEMMA_EXPECT_ISA");
  if (expect == nullptr) return;  // a plain run: nothing to compare with
  CHECK(std::string(isa_name(best_isa())) == expect);
  CHECK(std::string(isa_name(kernels().isa)) == expect);
}
