#include "engine/sample/text_stream.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "tests/engine/sample/tiny_tokenizer.h"

namespace stemma {
namespace {

// Feeds `text`'s tokens one at a time and returns what was emitted per token plus the flush.
struct Streamed {
  std::vector<std::string> pieces;
  std::string all;
  bool stopped = false;
};

Streamed stream(const Tokenizer& tok, const std::vector<int32_t>& ids,
                std::vector<std::string> stops) {
  TextStream ts(tok, std::move(stops));
  Streamed out;
  for (int32_t id : ids) {
    out.pieces.push_back(ts.push(std::span<const int32_t>(&id, 1)));
    out.all += out.pieces.back();
  }
  out.stopped = ts.stopped();
  out.all += ts.flush();
  return out;
}

std::vector<int32_t> bytes_of(std::string_view s) {
  std::vector<int32_t> ids;
  for (unsigned char c : s) ids.push_back(c);
  return ids;
}

TEST_CASE("TextStream without stop strings equals the full decode, never half a character") {
  auto tok = testing::make_tiny_tokenizer({"hello", " world"});
  REQUIRE(tok);
  const std::string text = "hello world \xc3\xa9\xe2\x82\xac!";
  std::vector<int32_t> ids = tok->encode(text, {.add_special = false});
  ids.push_back(tok->eos_id());  // control tokens are not rendered
  Streamed s = stream(*tok, ids, {});
  CHECK(s.all == text);
  CHECK_FALSE(s.stopped);
  for (const std::string& piece : s.pieces) {
    // Each piece is whole UTF-8: no lead byte without its continuation bytes.
    size_t i = 0;
    while (i < piece.size()) {
      const unsigned char c = static_cast<unsigned char>(piece[i]);
      const size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
      REQUIRE(i + len <= piece.size());
      i += len;
    }
  }
}

TEST_CASE("TextStream cuts before a stop string split over tokens and never streams it") {
  auto tok = testing::make_tiny_tokenizer({});
  REQUIRE(tok);
  // "abc<END>tail": the stop string arrives byte by byte.
  Streamed s = stream(*tok, bytes_of("abc<END>tail"), {"<END>"});
  CHECK(s.stopped);
  CHECK(s.all == "abc");
  // Nothing of "<END>" was emitted while it was being spelled.
  std::string so_far;
  for (const auto& p : s.pieces) so_far += p;
  CHECK(so_far == "abc");
}

TEST_CASE("TextStream holds back a possible stop prefix and releases it when it is not one") {
  auto tok = testing::make_tiny_tokenizer({});
  REQUIRE(tok);
  Streamed s = stream(*tok, bytes_of("a<EN!b"), {"<END>"});
  CHECK_FALSE(s.stopped);
  CHECK(s.all == "a<EN!b");
  REQUIRE(s.pieces.size() == 6);
  CHECK(s.pieces[0] == "a");
  CHECK(s.pieces[1].empty());  // "<" held
  CHECK(s.pieces[2].empty());  // "<E" held
  CHECK(s.pieces[3].empty());  // "<EN" held
  CHECK(s.pieces[4] == "<EN!");
  // Held text at the end (no stop) comes out on flush.
  Streamed t = stream(*tok, bytes_of("xy<E"), {"<END>"});
  CHECK(t.all == "xy<E");
  CHECK(t.pieces.back().empty());
}

TEST_CASE("TextStream: earliest of several stop strings wins, inside one token too") {
  auto tok = testing::make_tiny_tokenizer({"stopSTOP"});
  REQUIRE(tok);
  std::vector<int32_t> ids = tok->encode("xxstopSTOP", {.add_special = false});
  CHECK(ids.size() < 10);  // the merged word is one token
  Streamed s = stream(*tok, ids, {"STOP", "op"});
  CHECK(s.stopped);
  CHECK(s.all == "xxst");
  // A multi-byte stop string.
  Streamed u = stream(*tok, bytes_of("ab\xc3\xa9z"), {"\xc3\xa9"});
  CHECK(u.stopped);
  CHECK(u.all == "ab");
}

}  // namespace
}  // namespace stemma
