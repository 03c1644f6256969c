// The CPU kernels built for avx512 (compile flags: engine/backend/CMakeLists.txt).
#define STEMMA_KERNEL_NS avx512
#include "engine/backend/cpu/kernels_impl.inc"
