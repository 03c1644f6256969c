// The CPU kernels built for avx2 (compile flags: engine/backend/CMakeLists.txt).
#define STEMMA_KERNEL_NS avx2
#include "engine/backend/cpu/kernels_impl.inc"
