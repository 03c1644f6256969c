// The `stemma` binary on hostile or careless command lines (issue 15 items 4, 10 and 16): each
// must end with exit code 1 and one well-formed JSON error on stderr, never an abort, a hang or
// gigabytes of memory. Runs the binary as a subprocess on a tiny seeded model (--dummy).
#include <doctest/doctest.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "engine/model/gguf_writer.h"

extern char** environ;

namespace stemma {
namespace {

namespace fs = std::filesystem;

struct Run {
  int exit_code = -1;  // -signal when killed
  std::string out, err;
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A folder for this process's files, removed at exit.
const fs::path& scratch() {
  struct Dir {
    fs::path path = fs::temp_directory_path() / ("stemma_cli_test_" + std::to_string(getpid()));
    Dir() { fs::create_directories(path); }
    ~Dir() {
      std::error_code ec;
      fs::remove_all(path, ec);
    }
  };
  static const Dir dir;
  return dir.path;
}

Run run_cli(std::vector<std::string> args) {
  args.insert(args.begin(), STEMMA_CLI);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const fs::path out = scratch() / "stdout", err = scratch() / "stderr";
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid = 0;
  Run r;
  const int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  REQUIRE(rc == 0);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

// The error line parses as JSON and its message contains `needle`.
void check_error(const Run& r, const std::string& needle) {
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == 1);
  const auto j = nlohmann::json::parse(r.err, nullptr, false);
  REQUIRE_FALSE(j.is_discarded());
  REQUIRE(j.contains("error"));
  CHECK(j["error"].get<std::string>().find(needle) != std::string::npos);
}

// A tiny Llama config with a 32-position context.
std::string tiny_config() {
  const fs::path p = scratch() / "tiny.json";
  std::ofstream(p) << nlohmann::json{
      {"architectures", {"LlamaForCausalLM"}},
      {"hidden_size", 64},
      {"intermediate_size", 96},
      {"num_hidden_layers", 1},
      {"num_attention_heads", 4},
      {"num_key_value_heads", 2},
      {"vocab_size", 50},
      {"max_position_embeddings", 32},
      {"rms_norm_eps", 1e-5},
      {"bos_token_id", 1},
      {"eos_token_id", 2}}.dump();
  return p.string();
}

std::string token_list(int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += (i ? "," : "") + std::to_string(3 + i % 40);
  return s;
}

TEST_CASE("a valid run still works (the declared options cover what run reads)") {
  Run r = run_cli({"run",   "--dummy",      tiny_config(), "--prompt-tokens",
                   "3,4,5", "--max-tokens", "3",           "--temperature",
                   "0",     "--seed",       "1",           "--threads",
                   "1",     "--page-size",  "4",           "--kv-pages",
                   "16",    "--ignore-eos", "--type",      "f32"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["tokens"].size() == 3);
}

TEST_CASE("unknown options and stray arguments are refused, naming them") {
  check_error(
      run_cli({"run", "--dummy", tiny_config(), "--prompt-tokens", "3", "--max-token", "5"}),
      "unknown option --max-token");
  check_error(run_cli({"info", "--model", "x.gguf", "extra"}), "unexpected argument 'extra'");
  check_error(run_cli({"tokenize", "--modle", "x"}), "unknown option --modle");
}

TEST_CASE("error messages quoting bytes that are not UTF-8 still print as JSON") {
  // A Latin-1 path: the message quotes it; fail() aborted on dumping it before.
  const std::string path = (scratch() / "caf\xE9-missing.gguf").string();
  check_error(run_cli({"info", "--model", path}), "caf\\xE9-missing.gguf");
  // A GGUF whose architecture string is not UTF-8.
  GgufWriter w;
  w.set_string("general.architecture", "ll\xFF\xFEma");
  const std::string bad = (scratch() / "bad-arch.gguf").string();
  REQUIRE(w.write_file(bad).ok());
  Run r = run_cli({"info", "--model", bad});
  INFO(r.err);
  CHECK(r.exit_code == 1);
  const auto j = nlohmann::json::parse(r.err, nullptr, false);
  CHECK_FALSE(j.is_discarded());
  // Unknown option with non-UTF-8 bytes in its name.
  check_error(run_cli({"info", "--\xC0\xAF"}), "unknown option --\\xC0\\xAF");
}

TEST_CASE("input files are read with a bound: /dev/zero as a schema is a clean error") {
  // (read_file_bounded itself is tested in common_test; this is the CLI's path to it.)
  check_error(run_cli({"run", "--dummy", tiny_config(), "--prompt-tokens", "3", "--kv-pages", "8",
                       "--json-schema", "/dev/zero"}),
              "RESOURCE_EXHAUSTED");
  check_error(run_cli({"logits", "--model", "unused.gguf", "--tokens-file", "/dev/zero"}),
              "RESOURCE_EXHAUSTED");
}

TEST_CASE("a prompt longer than the model's context is OUT_OF_RANGE; output is capped to fit") {
  check_error(run_cli({"run", "--dummy", tiny_config(), "--kv-pages", "8", "--prompt-tokens",
                       token_list(40)}),
              "OUT_OF_RANGE");
  check_error(run_cli({"run", "--dummy", tiny_config(), "--kv-pages", "8", "--prompt-tokens",
                       token_list(32)}),
              "context holds 32");
  Run r = run_cli({"run", "--dummy", tiny_config(), "--kv-pages", "8", "--prompt-tokens",
                   token_list(29), "--max-tokens", "100", "--ignore-eos"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["tokens"].size() == 3);
  CHECK(j["finish_reason"] == "length");
}

TEST_CASE("huge page sizes and page counts are resource errors, not INTERNAL") {
  check_error(run_cli({"run", "--dummy", tiny_config(), "--prompt-tokens", "3", "--page-size",
                       "2000000000", "--kv-pages", "2000000000"}),
              "RESOURCE_EXHAUSTED");
  check_error(run_cli({"run", "--dummy", tiny_config(), "--prompt-tokens", "3", "--kv-pages",
                       "2000000000"}),
              "RESOURCE_EXHAUSTED");
  check_error(run_cli({"run", "--dummy", tiny_config(), "--prompt-tokens", "3", "--page-size",
                       "99999999999"}),
              "--page-size must be in");
  check_error(
      run_cli({"run", "--dummy", tiny_config(), "--prompt-tokens", "3", "--threads", "100000"}),
      "INVALID_ARGUMENT");
}

}  // namespace
}  // namespace stemma
