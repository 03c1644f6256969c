# Decides STEMMA_CUDA_ENABLED from STEMMA_CUDA (AUTO|ON|OFF) and the presence of nvcc.
set(STEMMA_CUDA_ENABLED OFF)
if(NOT STEMMA_CUDA STREQUAL "OFF")
  if(NOT CMAKE_CUDA_COMPILER AND EXISTS /usr/local/cuda/bin/nvcc)
    set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc)
  endif()
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    enable_language(CUDA)
    find_package(CUDAToolkit REQUIRED)
    set(STEMMA_CUDA_ENABLED ON)
    # The architecture (Hopper, sm_90a) is chosen per target in kernels/CMakeLists.txt: CMake
    # has already filled CMAKE_CUDA_ARCHITECTURES with nvcc's default (75) by now. CUDA sources
    # build as C++17 because CMake 3.25 does not know nvcc 13's C++20 dialect flag.
    set(CMAKE_CUDA_STANDARD 17)
    set(CMAKE_CUDA_STANDARD_REQUIRED ON)
  elseif(STEMMA_CUDA STREQUAL "ON")
    message(FATAL_ERROR "STEMMA_CUDA=ON but no CUDA compiler was found")
  endif()
endif()
message(STATUS "Stemma CUDA: ${STEMMA_CUDA_ENABLED}")
