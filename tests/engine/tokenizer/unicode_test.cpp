#include "engine/tokenizer/unicode.h"

#include <doctest/doctest.h>

#include "tests/engine/tokenizer/test_util.h"

namespace stemma {

TEST_CASE("unicode: NFC, NFD, NFKC, NFKD match Python's unicodedata on 8000 generated strings") {
  const auto lines = test::read_lines(test::fixture_path("nfc_cases.txt"));
  REQUIRE(lines.size() == 8000);
  int mismatches = 0;
  for (const auto& line : lines) {
    const size_t t1 = line.find('\t'), t2 = line.find('\t', t1 + 1);
    const std::string form = line.substr(0, t1);
    const std::string in = test::from_hex(line.substr(t1 + 1, t2 - t1 - 1));
    const std::string want = test::from_hex(line.substr(t2 + 1));
    const unicode::Form f = form == "NFC"    ? unicode::Form::kNfc
                            : form == "NFD"  ? unicode::Form::kNfd
                            : form == "NFKC" ? unicode::Form::kNfkc
                                             : unicode::Form::kNfkd;
    if (unicode::normalize(in, f) != want && ++mismatches <= 5) {
      MESSAGE(form << " mismatch for input hex " << line.substr(t1 + 1, t2 - t1 - 1));
    }
  }
  CHECK(mismatches == 0);
}

TEST_CASE("unicode: categories and lowercase") {
  CHECK(unicode::is_punctuation(U'\u3002'));   // ideographic full stop
  CHECK_FALSE(unicode::is_punctuation(U'$'));  // Sc
  CHECK(unicode::is_number(U'\u00BD'));        // No
  CHECK(unicode::is_mark(U'\u0301'));
  CHECK(unicode::is_other(U'\u200B'));      // Cf
  CHECK(unicode::is_other(U'\U000E0080'));  // unassigned
  CHECK(unicode::category(U'A') == unicode::Category::kLu);
  std::string s;
  unicode::append_lowercase(U'\u0130', &s);  // İ -> i + combining dot above
  CHECK(s == "i\xCC\x87");
  s.clear();
  unicode::append_lowercase(U'\u03A3', &s);  // Σ -> σ (no final-sigma context)
  CHECK(s == "\xCF\x83");
}

}  // namespace stemma
