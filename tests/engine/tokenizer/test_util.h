// Helpers shared by the tokenizer tests: fixture files, hex, id lists.
#pragma once

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace stemma::test {

inline std::string fixture_path(const std::string& rel) {
  return std::string(STEMMA_FIXTURES_DIR) + "/tokenizer/" + rel;
}

inline std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

inline std::string from_hex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

inline std::vector<int32_t> parse_ids(const std::string& text) {
  std::vector<int32_t> ids;
  std::istringstream ss(text);
  int32_t v;
  while (ss >> v) ids.push_back(v);
  return ids;
}

// "INDEX: rest" lines -> {INDEX: rest}.
inline std::map<int, std::string> read_indexed(const std::string& path) {
  std::map<int, std::string> out;
  for (const auto& line : read_lines(path)) {
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string rest = line.substr(colon + 1);
    if (!rest.empty() && rest[0] == ' ') rest.erase(0, 1);
    out[std::stoi(line.substr(0, colon))] = rest;
  }
  return out;
}

inline std::string ids_to_string(const std::vector<int32_t>& ids) {
  std::string s;
  for (size_t i = 0; i < ids.size(); ++i) s += (i ? " " : "") + std::to_string(ids[i]);
  return s;
}

// The reference fixtures' hash (tools/tokenizer/make_reference.mjs): two 32-bit FNV-1a
// hashes of the bytes with different offset bases, as 8 + 4 hex digits.
inline std::string hash(const std::string& text) {
  uint32_t h1 = 0x811c9dc5u, h2 = 0x9747b28cu;
  for (char c : text) {
    const auto b = static_cast<uint8_t>(c);
    h1 = (h1 ^ b) * 0x01000193u;
    h2 = (h2 ^ b) * 0x01000193u;
  }
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08x%04x", h1, h2 >> 16);
  return buf;
}

}  // namespace stemma::test
