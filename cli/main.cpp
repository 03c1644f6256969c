// `stemma <command> [options]`: the command-line face of the engine.
#include <iostream>
#include <string>

#include "cli/args.h"
#include "engine/api/utf8_repair.h"

namespace stemma {
const char* engine_version();
}

namespace {
void print_usage() {
  std::cout << "stemma " << stemma::engine_version() << "\nusage: stemma <command> [options]\n\n";
  for (const auto& c : stemma::cli::registered_commands()) {
    std::cout << "  " << c.name
              << std::string(c.name[0] && std::string(c.name).size() < 18
                                 ? 18 - std::string(c.name).size()
                                 : 1,
                             ' ')
              << c.summary << "\n";
  }
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "help") {
    print_usage();
    return argc < 2 ? 2 : 0;
  }
  std::string name = argv[1];
  if (name == "--version" || name == "version") {
    std::cout << stemma::engine_version() << "\n";
    return 0;
  }
  for (const auto& c : stemma::cli::registered_commands()) {
    if (name == c.name) {
      auto args = stemma::cli::Args::parse(argc - 2, argv + 2, c.flags, c.options);
      if (!args.ok()) return stemma::cli::fail(args.status().with_context(name));
      return c.run(*args);
    }
  }
  std::cerr << "stemma: unknown command '" << stemma::repair_utf8(name)
            << "' (try `stemma help`)\n";
  return 2;
}
