// `stemma logits`, run as a program on the Qwen2 HF fixture: --rows prints exactly those rows of
// the full output (in the order given, with their positions), --tokens-file reads the same ids
// as --tokens, --greedy continues the prompt by argmax, and bad input is refused with a message
// naming it.
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

namespace {

const std::string kModel = std::string(STEMMA_FIXTURES_DIR) + "/models/qwen2";

struct Run {
  int exit_code = -1;
  std::string out;  // stdout and stderr together
};

Run stemma(const std::string& args) {
  const std::string cmd = std::string("'") + STEMMA_CLI_BINARY + "' " + args + " 2>&1";
  FILE* pipe = ::popen(cmd.c_str(), "r");
  REQUIRE(pipe != nullptr);
  Run r;
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof buf, pipe)) r.out.append(buf, n);
  const int status = ::pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

nlohmann::json stemma_json(const std::string& args) {
  Run r = stemma(args);
  INFO("stemma " << args << "\n" << r.out);
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  REQUIRE_FALSE(j.is_discarded());
  return j;
}

std::string temp_file(const std::string& name, const std::string& text) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("stemma_cli_logits_" + std::to_string(::getpid()) + "_" + name);
  std::ofstream(path) << text;
  return path.string();
}

const std::string kTokens = "5,17,200,3,99,1,250,42,7,7,128,64,31,2,180,11,90,45,160,8";

}  // namespace

TEST_CASE("--rows prints the chosen rows of the full output, in the order given") {
  const nlohmann::json full = stemma_json("logits --model '" + kModel + "' --tokens " + kTokens);
  REQUIRE(full["logits"].size() == 20);
  const size_t vocab = full["logits"][0].size();
  REQUIRE(vocab > 100);
  const nlohmann::json some =
      stemma_json("logits --model '" + kModel + "' --tokens " + kTokens + " --rows 16,0,15,16");
  CHECK(some["rows"] == nlohmann::json({16, 0, 15, 16}));
  REQUIRE(some["logits"].size() == 4);
  double max_abs = 0;
  for (const auto& row : full["logits"])
    for (const auto& x : row) max_abs = std::max(max_abs, std::fabs(x.get<double>()));
  for (size_t r = 0; r < 4; ++r) {
    const size_t pos = some["rows"][r].get<size_t>();
    REQUIRE(some["logits"][r].size() == vocab);
    double max_diff = 0;
    for (size_t i = 0; i < vocab; ++i) {
      max_diff = std::max(max_diff, std::fabs(some["logits"][r][i].get<double>() -
                                              full["logits"][pos][i].get<double>()));
    }
    INFO("row " << pos << " max_diff " << max_diff);
    CHECK(max_diff <= 1e-6 * max_abs);
  }
  // With --top: the same entries as the full run's top list at that position.
  const nlohmann::json top_full =
      stemma_json("logits --model '" + kModel + "' --tokens " + kTokens + " --top 3");
  CHECK_FALSE(top_full.contains("rows"));
  const nlohmann::json top_some =
      stemma_json("logits --model '" + kModel + "' --tokens " + kTokens + " --top 3 --rows 19,4");
  CHECK(top_some["rows"] == nlohmann::json({19, 4}));
  REQUIRE(top_some["top"].size() == 2);
  for (size_t r = 0; r < 2; ++r) {
    const size_t pos = top_some["rows"][r].get<size_t>();
    REQUIRE(top_some["top"][r].size() == 3);
    for (size_t k = 0; k < 3; ++k)
      CHECK(top_some["top"][r][k]["id"] == top_full["top"][pos][k]["id"]);
  }
}

TEST_CASE("--tokens-file reads ids separated by commas, spaces and newlines") {
  // kTokens with its separators varied: ", ", " ", "\n", "\n\n  ", ",".
  std::string text;
  const char* seps[] = {", ", " ", "\n", "\n\n  ", ","};
  size_t sep = 0;
  for (char ch : kTokens) {
    if (ch == ',') {
      text += seps[sep++ % 5];
    } else {
      text += ch;
    }
  }
  const std::string file = temp_file("tokens.txt", "  " + text + "\n");
  const nlohmann::json a =
      stemma_json("logits --model '" + kModel + "' --tokens " + kTokens + " --top 2 --rows 3,19");
  const nlohmann::json b = stemma_json("logits --model '" + kModel + "' --tokens-file '" + file +
                                       "' --top 2 --rows 3,19");
  CHECK(a == b);
  std::filesystem::remove(file);
}

TEST_CASE("--greedy continues the prompt with the argmax of each next row") {
  const std::string m = "logits --model '" + kModel + "' ";
  const nlohmann::json g = stemma_json(m + "--tokens " + kTokens + " --greedy 4");
  CHECK_FALSE(g.contains("logits"));
  REQUIRE(g["greedy"].size() == 4);
  REQUIRE(g["greedy_margins"].size() == 4);
  // Each token is the top entry of the row after the prompt plus the tokens before it, and its
  // margin is that row's top1 - top2.
  std::string prompt = kTokens;
  for (size_t i = 0; i < 4; ++i) {
    const nlohmann::json top = stemma_json(m + "--tokens " + prompt + " --top 2");
    const nlohmann::json& last = top["top"].back();
    CHECK(g["greedy"][i] == last[0]["id"]);
    const double margin = last[0]["logit"].get<double>() - last[1]["logit"].get<double>();
    CHECK(g["greedy_margins"][i].get<double>() == doctest::Approx(margin).epsilon(1e-4));
    prompt += "," + std::to_string(g["greedy"][i].get<int>());
  }
  // With --rows, the rows are printed as without --greedy.
  const nlohmann::json both =
      stemma_json(m + "--tokens " + kTokens + " --greedy 2 --rows 19 --top 2");
  const nlohmann::json rows = stemma_json(m + "--tokens " + kTokens + " --rows 19 --top 2");
  CHECK(both["top"] == rows["top"]);
  CHECK(both["greedy"][0] == g["greedy"][0]);
  CHECK(both["greedy"][1] == g["greedy"][1]);
  Run r = stemma(m + "--tokens 1,2,3 --greedy -1");
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("--greedy: -1") != std::string::npos);
}

TEST_CASE("bad token and row options are refused with a message naming them") {
  const std::string m = "logits --model '" + kModel + "' ";
  Run r = stemma(m + "--tokens 1,2,3 --rows 3");
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("--rows: position 3 is outside the prompt of 3 tokens") != std::string::npos);
  r = stemma(m + "--tokens 1,2,3 --rows 0,x");
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("--rows") != std::string::npos);
  CHECK(r.out.find("'x'") != std::string::npos);
  r = stemma(m + "--tokens 1,2 --tokens-file /nonexistent");
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("exactly one of --tokens") != std::string::npos);
  r = stemma(m + "--tokens-file /nonexistent/stemma-tokens.txt");
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("cannot read '/nonexistent/stemma-tokens.txt'") != std::string::npos);
  const std::string bad = temp_file("bad.txt", "1 2\n3x 4\n");
  r = stemma(m + "--tokens-file '" + bad + "'");
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("'3x'") != std::string::npos);
  std::filesystem::remove(bad);
  const std::string empty = temp_file("empty.txt", " \n");
  r = stemma(m + "--tokens-file '" + empty + "'");
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("holds no token ids") != std::string::npos);
  std::filesystem::remove(empty);
}
