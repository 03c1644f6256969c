#include "cli/args.h"

#include <algorithm>
#include <charconv>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/json_text.h"
#include "engine/api/utf8_repair.h"

namespace stemma::cli {

namespace {
std::vector<Command>& command_table() {
  static std::vector<Command> table;
  return table;
}
}  // namespace

CommandRegistrar::CommandRegistrar(Command command) {
  command_table().push_back(std::move(command));
}

const std::vector<Command>& registered_commands() {
  auto& table = command_table();
  std::sort(table.begin(), table.end(),
            [](const Command& a, const Command& b) { return std::string(a.name) < b.name; });
  return table;
}

int fail(const Status& status) {
  std::cerr << json_text(nlohmann::json{{"error", repair_utf8(status.to_string())}}) << "\n";
  return 1;
}

namespace {

bool contains(const std::vector<std::string>& list, const std::string& key) {
  return std::find(list.begin(), list.end(), key) != list.end();
}

std::string accepted(const std::vector<std::string>& flags,
                     const std::vector<std::string>& options) {
  std::vector<std::string> all = options;
  all.insert(all.end(), flags.begin(), flags.end());
  std::sort(all.begin(), all.end());
  if (all.empty()) return "no options";
  std::string out;
  for (const auto& k : all) out += (out.empty() ? "--" : ", --") + k;
  return out;
}

}  // namespace

Result<Args> Args::parse(int argc, char** argv, const std::vector<std::string>& flags,
                         const std::vector<std::string>& options) {
  Args args;
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) != 0 || a.size() <= 2) {
      return InvalidArgument("unexpected argument '" + a + "' (options start with --; " +
                             accepted(flags, options) + ")");
    }
    std::string key = a.substr(2);
    const auto eq = key.find('=');
    std::optional<std::string> value;
    if (eq != std::string::npos) {
      value = key.substr(eq + 1);
      key.resize(eq);
    }
    if (contains(flags, key)) {
      if (value) return InvalidArgument("option --" + key + " takes no value");
      args.options_[key] = "1";
    } else if (contains(options, key)) {
      if (!value) {
        if (i + 1 >= argc) return InvalidArgument("option --" + key + " needs a value");
        value = argv[++i];
      }
      args.options_[key] = *value;
    } else {
      return InvalidArgument("unknown option --" + key + " (accepted: " + accepted(flags, options) +
                             ")");
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
      return InvalidArgument("expected a comma-separated list of integers, bad item '" + item +
                             "'");
    }
    out.push_back(v);
    start = end + 1;
  }
  return out;
}

}  // namespace stemma::cli
