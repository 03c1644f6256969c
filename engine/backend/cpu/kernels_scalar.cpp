// The CPU kernels built for scalar (compile flags: engine/backend/CMakeLists.txt).
#define STEMMA_KERNEL_NS scalar
#include "engine/backend/cpu/kernels_impl.inc"
