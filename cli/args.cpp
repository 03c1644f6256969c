#include "cli/args.h"

#include <algorithm>
#include <charconv>
#include <iostream>

#include <nlohmann/json.hpp>

namespace stemma::cli {

namespace {
std::vector<Command>& command_table() {
  static std::vector<Command> table;
  return table;
}
}  // namespace

CommandRegistrar::CommandRegistrar(Command command) { command_table().push_back(std::move(command)); }

const std::vector<Command>& registered_commands() {
  auto& table = command_table();
  std::sort(table.begin(), table.end(),
            [](const Command& a, const Command& b) { return std::string(a.name) < b.name; });
  return table;
}

int fail(const Status& status) {
  std::cerr << nlohmann::json{{"error", status.to_string()}}.dump() << "\n";
  return 1;
}

Result<Args> Args::parse(int argc, char** argv, const std::vector<std::string>& flags) {
  Args args;
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) == 0 && a.size() > 2) {
      std::string key = a.substr(2);
      auto eq = key.find('=');
      if (eq != std::string::npos) {
        args.options_[key.substr(0, eq)] = key.substr(eq + 1);
      } else if (std::find(flags.begin(), flags.end(), key) != flags.end()) {
        args.options_[key] = "1";
      } else {
        if (i + 1 >= argc) return InvalidArgument("option --" + key + " needs a value");
        args.options_[key] = argv[++i];
      }
    } else {
      args.positionals_.push_back(a);
    }
  }
  return args;
}

std::optional<std::string> Args::get(const std::string& key) const {
  auto it = options_.find(key);
  if (it == options_.end()) return std::nullopt;
  return it->second;
}

std::string Args::get_or(const std::string& key, const std::string& fallback) const {
  return get(key).value_or(fallback);
}

Result<std::string> Args::require(const std::string& key) const {
  auto v = get(key);
  if (!v) return InvalidArgument("missing required option --" + key);
  return *v;
}

Result<int64_t> Args::get_int(const std::string& key, int64_t fallback) const {
  auto v = get(key);
  if (!v) return fallback;
  int64_t out = 0;
  auto [ptr, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  if (ec != std::errc() || ptr != v->data() + v->size()) {
    return InvalidArgument("option --" + key + " expects an integer, got '" + *v + "'");
  }
  return out;
}

Result<double> Args::get_double(const std::string& key, double fallback) const {
  auto v = get(key);
  if (!v) return fallback;
  try {
    size_t used = 0;
    double out = std::stod(*v, &used);
    if (used != v->size()) throw std::invalid_argument(*v);
    return out;
  } catch (const std::exception&) {
    return InvalidArgument("option --" + key + " expects a number, got '" + *v + "'");
  }
}

Result<std::vector<int32_t>> Args::parse_int_list(const std::string& text) {
  std::vector<int32_t> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    std::string item = text.substr(start, end - start);
    int32_t v = 0;
    auto [ptr, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
    if (item.empty() || ec != std::errc() || ptr != item.data() + item.size()) {
      return InvalidArgument("expected a comma-separated list of integers, bad item '" + item + "'");
    }
    out.push_back(v);
    start = end + 1;
  }
  return out;
}

}  // namespace stemma::cli
