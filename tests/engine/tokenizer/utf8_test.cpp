#include "engine/tokenizer/utf8.h"

#include <doctest/doctest.h>

namespace stemma {

TEST_CASE("utf8: sanitize replaces each maximal invalid subpart with one U+FFFD") {
  // WHATWG examples: a truncated 3-byte sequence is one replacement, a stray continuation one
  // each, a surrogate encoding is three (its second byte is already out of range).
  CHECK(utf8::sanitize("a\xE6\x97z") == "a\xEF\xBF\xBDz");
  CHECK(utf8::sanitize("\x80\x80") == "\xEF\xBF\xBD\xEF\xBF\xBD");
  CHECK(utf8::sanitize("\xED\xA0\x80") == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  CHECK(utf8::sanitize("\xC0\xAF") == "\xEF\xBF\xBD\xEF\xBF\xBD");
  CHECK(utf8::sanitize("ok \xE2\x96\x81") == "ok \xE2\x96\x81");
  CHECK(utf8::is_valid("\xEF\xBF\xBD"));
  CHECK_FALSE(utf8::is_valid("\xFF"));
}

TEST_CASE("utf8: complete_prefix_length holds back only an incomplete tail") {
  CHECK(utf8::complete_prefix_length("abc") == 3);
  CHECK(utf8::complete_prefix_length("ab\xF0\x9F\x98") == 2);
  CHECK(utf8::complete_prefix_length("ab\xF0\x9F\x98\x80") == 6);
  CHECK(utf8::complete_prefix_length("ab\xE6") == 2);
  CHECK(utf8::complete_prefix_length("ab\xFF") == 3);      // invalid: nothing to wait for
  CHECK(utf8::complete_prefix_length("ab\xE0\x80") == 4);  // \x80 cannot follow \xE0
}

}  // namespace stemma
