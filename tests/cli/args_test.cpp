// The CLI's argument parser: every option must be declared by its command (issue 15 item 16:
// a misspelt option was silently ignored).
#include "cli/args.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace stemma::cli {
namespace {

Result<Args> parse(std::vector<std::string> argv) {
  std::vector<char*> ptrs;
  for (auto& a : argv) ptrs.push_back(a.data());
  return Args::parse(static_cast<int>(ptrs.size()), ptrs.data(), {"verbose"},
                     {"model", "max-tokens"});
}

TEST_CASE("declared options, values and flags parse") {
  auto a = parse({"--model", "m.gguf", "--max-tokens=7", "--verbose"});
  REQUIRE(a.ok());
  CHECK(a->get_or("model", "") == "m.gguf");
  CHECK(*a->get_int("max-tokens", 0) == 7);
  CHECK(a->has("verbose"));
  CHECK_FALSE(a->has("other"));
  auto dash = parse({"--model", "--weird-name.gguf"});  // a value may start with dashes
  REQUIRE(dash.ok());
  CHECK(dash->get_or("model", "") == "--weird-name.gguf");
}

TEST_CASE("unknown options, stray arguments and misused flags are errors naming them") {
  auto typo = parse({"--model", "m.gguf", "--max-token", "5"});
  REQUIRE_FALSE(typo.ok());
  CHECK(typo.status().code() == StatusCode::kInvalidArgument);
  CHECK(typo.status().message().find("unknown option --max-token ") != std::string::npos);
  CHECK(typo.status().message().find("--max-tokens") != std::string::npos);  // what is accepted
  auto eq = parse({"--nope=1"});
  REQUIRE_FALSE(eq.ok());
  CHECK(eq.status().message().find("--nope") != std::string::npos);
  auto stray = parse({"m.gguf"});
  REQUIRE_FALSE(stray.ok());
  CHECK(stray.status().message().find("unexpected argument 'm.gguf'") != std::string::npos);
  auto bare = parse({"--"});
  REQUIRE_FALSE(bare.ok());
  auto flag_value = parse({"--verbose=yes"});
  REQUIRE_FALSE(flag_value.ok());
  CHECK(flag_value.status().message().find("takes no value") != std::string::npos);
  auto missing = parse({"--model"});
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().message().find("needs a value") != std::string::npos);
}

}  // namespace
}  // namespace stemma::cli
