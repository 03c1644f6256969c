// The engine's version string, set by CMake's project() version.
namespace stemma {
const char* engine_version() { return "0.1.0"; }
}  // namespace stemma
