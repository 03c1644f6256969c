// repair_utf8: what leaves the library is UTF-8 even when the bytes it quotes are not.
#include "engine/api/utf8_repair.h"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <string>

namespace stemma {
namespace {

TEST_CASE("well-formed text is kept byte for byte") {
  for (const std::string s : {"", "plain", "caf\xC3\xA9", "\xE2\x82\xAC 5", "\xF0\x9F\x98\x80",
                              "\xEF\xBF\xBF", "\xF4\x8F\xBF\xBF"}) {
    CHECK(repair_utf8(s) == s);
    CHECK(first_invalid_utf8_byte(s) == std::string_view::npos);
  }
}

TEST_CASE("ill-formed bytes become \\xNN and the result is valid UTF-8") {
  CHECK(repair_utf8("/models/caf\xE9.gguf") == "/models/caf\\xE9.gguf");  // Latin-1 path
  CHECK(repair_utf8("\xC0\xAF") == "\\xC0\\xAF");                         // overlong '/'
  CHECK(repair_utf8("\xED\xA0\x80") == "\\xED\\xA0\\x80");                // a surrogate
  CHECK(repair_utf8("\xF4\x90\x80\x80") == "\\xF4\\x90\\x80\\x80");       // above U+10FFFF
  CHECK(repair_utf8("ab\xE2\x82") == "ab\\xE2\\x82");                     // truncated at the end
  CHECK(repair_utf8("\x80x\xC3\xA9") == "\\x80x\xC3\xA9");  // a stray continuation, then valid
  CHECK(first_invalid_utf8_byte("ab\xFF") == 2);
  // Every byte value alone and in pairs: the repaired text always dumps as JSON (the CLI's
  // fail() aborted on such a dump before: issue 15 item 4).
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; b += 7) {
      const std::string s = {'[', static_cast<char>(a), static_cast<char>(b), ']'};
      const std::string r = repair_utf8(s);
      CHECK(first_invalid_utf8_byte(r) == std::string_view::npos);
      CHECK_NOTHROW((void)nlohmann::json{{"error", r}}.dump());
    }
  }
}

}  // namespace
}  // namespace stemma
