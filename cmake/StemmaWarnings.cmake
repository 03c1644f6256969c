# Warnings are errors for our own targets; sanitizers apply to everything built here.
add_library(stemma_warnings INTERFACE)
target_compile_options(stemma_warnings INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Werror -Wno-missing-field-initializers>
  $<$<COMPILE_LANGUAGE:CUDA>:-Werror=all-warnings -Xcompiler=-Wall,-Wextra,-Werror>)
# GCC 12 reports std::string copies as overlapping memcpy at -O3 (GCC bug 105329, fixed in 13).
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(stemma_warnings INTERFACE $<$<COMPILE_LANGUAGE:CXX>:-Wno-restrict>)
endif()

if(STEMMA_SANITIZE)
  add_compile_options($<$<COMPILE_LANGUAGE:CXX>:-fsanitize=address,undefined>
                      $<$<COMPILE_LANGUAGE:CXX>:-fno-sanitize-recover=all>
                      $<$<COMPILE_LANGUAGE:CXX>:-fno-omit-frame-pointer>)
  add_link_options(-fsanitize=address,undefined)
endif()

if(STEMMA_TSAN)
  if(STEMMA_SANITIZE OR STEMMA_FUZZ)
    message(FATAL_ERROR "STEMMA_TSAN does not combine with STEMMA_SANITIZE or STEMMA_FUZZ")
  endif()
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer -g)
  add_link_options(-fsanitize=thread)
endif()

if(STEMMA_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang" OR STEMMA_SANITIZE)
    message(FATAL_ERROR "STEMMA_FUZZ needs clang and no STEMMA_SANITIZE (scripts/fuzz.sh)")
  endif()
  # Coverage for libFuzzer in every object; ASan+UBSan, with any UB report fatal.
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
                      -fno-omit-frame-pointer -g)
  add_link_options(-fsanitize=address,undefined)
endif()

# stemma_add_library(name SOURCES ... [DEPS ...]): a static library of ours with warnings on.
# Headers are included from the repository root ("engine/kv/page_pool.h"): a library of engine/
# sees the whole tree; any other (the SDK, the demos) sees it through STEMMA_API_INCLUDE_DIR,
# where engine/ has only its public api/ folder (cmake/StemmaApiWall.cmake).
function(stemma_add_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  string(FIND "${CMAKE_CURRENT_SOURCE_DIR}/" "${PROJECT_SOURCE_DIR}/engine/" in_engine)
  if(in_engine EQUAL 0)
    target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  else()
    target_include_directories(${name} PUBLIC ${STEMMA_API_INCLUDE_DIR})
  endif()
  target_link_libraries(${name} PUBLIC ${ARG_DEPS} PRIVATE stemma_warnings ${ARG_PRIVATE_DEPS})
endfunction()
