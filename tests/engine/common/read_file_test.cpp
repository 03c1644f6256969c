// read_file_bounded: input files are read whole, but never past a bound (issue 15 item 10:
// `--json-schema /dev/zero` grew to 2.5 GB).
#include "engine/common/read_file.h"

#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace stemma {
namespace {

std::string temp_file(const std::string& name, const std::string& bytes) {
  const auto p = std::filesystem::temp_directory_path() / name;
  std::ofstream(p, std::ios::binary) << bytes;
  return p.string();
}

TEST_CASE("a file is read whole, up to and including the limit") {
  const std::string text(1000, 'x');
  const std::string path = temp_file("stemma_read_file_test.txt", text);
  auto r = read_file_bounded(path, 1000);
  REQUIRE(r.ok());
  CHECK(*r == text);
  auto over = read_file_bounded(path, 999);
  REQUIRE_FALSE(over.ok());
  CHECK(over.status().code() == StatusCode::kResourceExhausted);
  CHECK(over.status().message().find("999") != std::string::npos);
  auto empty = read_file_bounded(temp_file("stemma_read_file_empty.txt", ""), 10);
  REQUIRE(empty.ok());
  CHECK(empty->empty());
  std::remove(path.c_str());
}

TEST_CASE("/dev/zero stops at the bound; missing files and folders are named errors") {
  auto zero = read_file_bounded("/dev/zero", size_t{8} << 20);
  REQUIRE_FALSE(zero.ok());
  CHECK(zero.status().code() == StatusCode::kResourceExhausted);
  auto missing = read_file_bounded("/nonexistent/stemma/file.json");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == StatusCode::kNotFound);
  CHECK(missing.status().message().find("/nonexistent/stemma/file.json") != std::string::npos);
  auto folder = read_file_bounded(std::filesystem::temp_directory_path().string());
  REQUIRE_FALSE(folder.ok());
  CHECK(folder.status().code() == StatusCode::kIoError);
}

}  // namespace
}  // namespace stemma
