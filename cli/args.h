// Command-line arguments of one subcommand: `--key value` (or `--key=value`) options and `--flag`
// switches, each command declaring which it takes.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/api/status.h"

namespace stemma::cli {

class Args {
 public:
  // Parses argv after the subcommand name. `flags` lists the options that take no value,
  // `options` those that take one; anything else (an unknown --option, a stray positional
  // argument, a value given to a flag) is InvalidArgument naming it and what is accepted.
  static Result<Args> parse(int argc, char** argv, const std::vector<std::string>& flags,
                            const std::vector<std::string>& options);

  bool has(const std::string& key) const { return options_.count(key) > 0; }
  std::optional<std::string> get(const std::string& key) const;
  std::string get_or(const std::string& key, const std::string& fallback) const;
  Result<std::string> require(const std::string& key) const;
  Result<int64_t> get_int(const std::string& key, int64_t fallback) const;
  Result<double> get_double(const std::string& key, double fallback) const;
  // "1,2,3" -> {1,2,3}; names the bad item on error.
  static Result<std::vector<int32_t>> parse_int_list(const std::string& text);

 private:
  std::map<std::string, std::string> options_;
};

// A subcommand: `stemma <name> ...`. Returns the process exit code.
struct Command {
  const char* name;
  const char* summary;
  int (*run)(const Args& args);
  std::vector<std::string> flags;    // options of this command that take no value
  std::vector<std::string> options;  // options of this command that take a value
};

// Registers a subcommand at static-initialisation time (see STEMMA_CLI_COMMAND).
struct CommandRegistrar {
  explicit CommandRegistrar(Command command);
};
const std::vector<Command>& registered_commands();

// Prints `status` as {"error": "..."} on stderr and returns exit code 1. The message may quote
// bytes that are not UTF-8 (a path, a string from a file): they are printed as \xNN.
int fail(const Status& status);

}  // namespace stemma::cli

// STEMMA_CLI_COMMAND(var, name, summary, run, {flags...}, {options...})
#define STEMMA_CLI_COMMAND(var, ...) \
  static ::stemma::cli::CommandRegistrar var(::stemma::cli::Command{__VA_ARGS__})
