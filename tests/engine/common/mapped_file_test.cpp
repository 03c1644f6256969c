#include "engine/common/mapped_file.h"

#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace stemma {
namespace {

TEST_CASE("MappedFile maps a file's bytes") {
  auto path = std::filesystem::temp_directory_path() / "stemma_mapped_file_test.bin";
  {
    std::ofstream out(path, std::ios::binary);
    out << "hello";
  }
  auto file = MappedFile::open(path.string());
  REQUIRE(file.ok());
  CHECK(file->size() == 5);
  CHECK(std::string(reinterpret_cast<const char*>(file->data()), 5) == "hello");
  std::filesystem::remove(path);
}

TEST_CASE("MappedFile names the missing file") {
  auto file = MappedFile::open("/nonexistent/stemma/model.gguf");
  REQUIRE_FALSE(file.ok());
  CHECK(file.status().code() == StatusCode::kIoError);
  CHECK(file.status().message().find("/nonexistent/stemma/model.gguf") != std::string::npos);
}

TEST_CASE("MappedFile refuses a directory") {
  auto file = MappedFile::open(std::filesystem::temp_directory_path().string());
  REQUIRE_FALSE(file.ok());
  CHECK(file.status().code() == StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace stemma
