# The wall between the engine and what is built on it (docs/DESIGN.md, "Layers").
#
# engine/api/ holds the engine's only public headers. Code above the engine (the SDK, the C ABI,
# the demos) is compiled against STEMMA_API_INCLUDE_DIR, a folder in the build tree that holds
# links to sdk/, capi/, demos/ and engine/api/ and to nothing else of engine/: an #include of an
# internal engine header does not compile there. stemma_engine exports only that folder.
# Tests, benchmarks and the CLI link stemma_engine_internal (engine/CMakeLists.txt), which adds
# the whole tree.
set(STEMMA_API_INCLUDE_DIR "${PROJECT_BINARY_DIR}/api_include")
file(MAKE_DIRECTORY "${STEMMA_API_INCLUDE_DIR}/engine")
foreach(link engine/api sdk capi demos)
  if(NOT EXISTS "${STEMMA_API_INCLUDE_DIR}/${link}")
    file(CREATE_LINK "${PROJECT_SOURCE_DIR}/${link}" "${STEMMA_API_INCLUDE_DIR}/${link}" SYMBOLIC)
  endif()
endforeach()
