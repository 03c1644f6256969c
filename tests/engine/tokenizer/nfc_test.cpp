#include <doctest/doctest.h>

#include "engine/tokenizer/unicode_nfc.h"
#include "tests/engine/tokenizer/test_util.h"

namespace stemma {

TEST_CASE("nfc: matches Python's unicodedata.normalize('NFC') on 6000 generated strings") {
  const auto lines = test::read_lines(test::fixture_path("nfc_cases.txt"));
  REQUIRE(lines.size() == 6000);
  int mismatches = 0;
  for (const auto& line : lines) {
    const size_t tab = line.find('\t');
    const std::string in = test::from_hex(line.substr(0, tab));
    const std::string want = test::from_hex(line.substr(tab + 1));
    if (nfc_normalize(in) != want && ++mismatches <= 5) {
      MESSAGE("NFC mismatch for input hex " << line.substr(0, tab));
    }
  }
  CHECK(mismatches == 0);
}

}  // namespace stemma
