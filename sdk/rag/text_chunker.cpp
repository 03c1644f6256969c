#include "sdk/rag/text_chunker.h"

#include <algorithm>
#include <utility>

namespace stemma::rag {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

bool is_blank(std::string_view line) {
  return trim(line).empty();
}

// A UTF-8 continuation byte: never cut just before one.
bool is_continuation(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    start = end + 1;
  }
  return lines;
}

// Up to three spaces of indentation, as CommonMark allows before block markers.
std::string_view strip_indent(std::string_view line) {
  size_t n = 0;
  while (n < line.size() && n < 3 && line[n] == ' ') ++n;
  return line.substr(n);
}

// The fence marker ("```", "~~~~", ...) that opens or closes a fenced code block, or "".
std::string_view fence_marker(std::string_view line) {
  std::string_view s = strip_indent(line);
  if (s.size() < 3 || (s[0] != '`' && s[0] != '~')) return {};
  size_t n = 0;
  while (n < s.size() && s[n] == s[0]) ++n;
  return n >= 3 ? s.substr(0, n) : std::string_view();
}

// An ATX heading: its level (1-6) and text, or level 0.
std::pair<int, std::string_view> atx_heading(std::string_view line) {
  std::string_view s = strip_indent(line);
  int level = 0;
  while (level < static_cast<int>(s.size()) && s[level] == '#') ++level;
  if (level == 0 || level > 6) return {0, {}};
  if (static_cast<size_t>(level) < s.size() && !is_space(s[level])) return {0, {}};
  std::string_view text = trim(s.substr(level));
  // A closing sequence of '#' preceded by a space is not part of the heading.
  size_t end = text.size();
  while (end > 0 && text[end - 1] == '#') --end;
  if (end == 0) {
    text = {};
  } else if (end < text.size() && is_space(text[end - 1])) {
    text = trim(text.substr(0, end));
  }
  return {level, text};
}

// A setext underline: 1 for "===", 2 for "---", else 0.
int setext_level(std::string_view line) {
  std::string_view s = trim(strip_indent(line));
  if (s.empty() || (s[0] != '=' && s[0] != '-')) return 0;
  for (char c : s) {
    if (c != s[0]) return 0;
  }
  return s[0] == '=' ? 1 : 2;
}

struct Section {
  std::string heading_path;
  std::vector<std::string_view> lines;
};

// Paragraphs of a section: runs of non-blank lines; a fenced code block stays one paragraph.
std::vector<std::string> paragraphs_of(const std::vector<std::string_view>& lines) {
  std::vector<std::string> out;
  std::string current;
  std::string_view open_fence;
  auto flush = [&] {
    std::string_view t = trim(current);
    if (!t.empty()) out.emplace_back(t);
    current.clear();
  };
  for (std::string_view line : lines) {
    std::string_view fence = fence_marker(line);
    if (!open_fence.empty()) {
      current.append(line).push_back('\n');
      if (!fence.empty() && fence[0] == open_fence[0] && fence.size() >= open_fence.size() &&
          trim(strip_indent(line)).size() == fence.size()) {
        open_fence = {};
        flush();
      }
      continue;
    }
    if (!fence.empty()) {
      flush();
      open_fence = fence;
      current.append(line).push_back('\n');
      continue;
    }
    if (is_blank(line)) {
      flush();
    } else {
      current.append(line).push_back('\n');
    }
  }
  flush();
  return out;
}

// Where sentences end in `text`: after . ! ? (and any closing quotes or brackets) followed by
// whitespace. Returns the start offsets of each sentence.
std::vector<size_t> sentence_starts(std::string_view text) {
  std::vector<size_t> starts = {0};
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c != '.' && c != '!' && c != '?') continue;
    size_t j = i + 1;
    while (j < text.size() &&
           (text[j] == '"' || text[j] == '\'' || text[j] == ')' || text[j] == ']')) {
      ++j;
    }
    if (j >= text.size() || !is_space(text[j])) continue;
    while (j < text.size() && is_space(text[j])) ++j;
    if (j < text.size()) starts.push_back(j);
    i = j - 1;
  }
  return starts;
}

// Cuts `text` into pieces of at most `max_chars`, preferring spaces, never inside a UTF-8
// character.
void hard_split(std::string_view text, size_t max_chars, std::vector<std::string>* out) {
  while (text.size() > max_chars) {
    size_t cut = max_chars;
    size_t space = text.rfind(' ', max_chars);
    if (space != std::string_view::npos && space >= max_chars / 2) {
      cut = space;
    } else {
      while (cut > 0 && is_continuation(text[cut])) --cut;
      if (cut == 0) cut = max_chars;  // not UTF-8 after all: cut anywhere rather than loop
    }
    std::string_view piece = trim(text.substr(0, cut));
    if (!piece.empty()) out->emplace_back(piece);
    text = trim(text.substr(cut));
  }
  if (!text.empty()) out->emplace_back(text);
}

// A unit of packing: a paragraph, or a piece of a long one. `joiner` goes before it when it
// follows another unit in the same chunk.
struct Unit {
  std::string text;
  std::string_view joiner;
};

// A paragraph that fits is one unit; a longer one becomes one unit per sentence (sentences longer
// than max_chars are cut at spaces), so the packer can fill chunks and carry overlap inside it.
std::vector<Unit> units_of(const std::vector<std::string>& paragraphs, size_t max_chars) {
  std::vector<Unit> units;
  for (const std::string& paragraph : paragraphs) {
    if (paragraph.size() <= max_chars) {
      units.push_back({paragraph, "\n\n"});
      continue;
    }
    std::vector<size_t> starts = sentence_starts(paragraph);
    starts.push_back(paragraph.size());
    std::vector<std::string> pieces;
    for (size_t s = 0; s + 1 < starts.size(); ++s) {
      std::string_view sentence =
          trim(std::string_view(paragraph).substr(starts[s], starts[s + 1] - starts[s]));
      if (sentence.empty()) continue;
      hard_split(sentence, max_chars, &pieces);
    }
    for (size_t p = 0; p < pieces.size(); ++p) {
      units.push_back({std::move(pieces[p]), p == 0 ? "\n\n" : " "});
    }
  }
  return units;
}

// The tail of `chunk` that starts the next chunk: at most `overlap` bytes, beginning at a
// sentence start when the tail holds one, else at a word start.
std::string overlap_tail(std::string_view chunk, size_t overlap) {
  if (overlap == 0 || chunk.size() <= overlap) return {};
  std::string_view tail = chunk.substr(chunk.size() - overlap);
  size_t offset = chunk.size() - overlap;
  std::vector<size_t> starts = sentence_starts(chunk);
  for (size_t s : starts) {
    if (s >= offset) return std::string(trim(chunk.substr(s)));
  }
  size_t space = tail.find_first_of(" \n\t");
  if (space == std::string_view::npos) return {};
  return std::string(trim(tail.substr(space)));
}

void pack_section(const std::string& heading_path, const std::vector<std::string>& paragraphs,
                  const ChunkOptions& options, std::vector<TextChunk>* out) {
  const size_t max_chars = std::max<size_t>(options.max_chars, 16);
  const size_t overlap = std::min(options.overlap_chars, max_chars / 2);
  std::vector<Unit> units = units_of(paragraphs, max_chars);
  std::string current;
  bool current_has_new_text = false;
  for (Unit& unit : units) {
    if (!current.empty() && current.size() + unit.joiner.size() + unit.text.size() > max_chars) {
      std::string tail = overlap_tail(current, overlap);
      out->push_back({heading_path, std::move(current)});
      current.clear();
      if (!tail.empty() && tail.size() + unit.joiner.size() + unit.text.size() <= max_chars) {
        current = std::move(tail);
      }
      current_has_new_text = false;
    }
    if (!current.empty()) current.append(unit.joiner);
    current.append(unit.text);
    current_has_new_text = true;
  }
  if (current_has_new_text) out->push_back({heading_path, std::move(current)});
}

std::string join_path(const std::vector<std::pair<int, std::string>>& stack) {
  std::string path;
  for (const auto& [level, text] : stack) {
    if (!path.empty()) path.append(kHeadingSeparator);
    path.append(text);
  }
  return path;
}

}  // namespace

std::vector<TextChunk> chunk_markdown(std::string_view markdown, const ChunkOptions& options) {
  std::vector<std::string_view> lines = split_lines(markdown);
  std::vector<Section> sections(1);
  std::vector<std::pair<int, std::string>> stack;  // (level, heading text)
  std::string_view open_fence;
  auto start_section = [&](int level, std::string_view text) {
    while (!stack.empty() && stack.back().first >= level) stack.pop_back();
    stack.emplace_back(level, std::string(text));
    sections.push_back({join_path(stack), {}});
  };
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    std::string_view fence = fence_marker(line);
    if (!open_fence.empty()) {
      if (!fence.empty() && fence[0] == open_fence[0] && fence.size() >= open_fence.size()) {
        open_fence = {};
      }
      sections.back().lines.push_back(line);
      continue;
    }
    if (!fence.empty()) {
      open_fence = fence;
      sections.back().lines.push_back(line);
      continue;
    }
    auto [level, text] = atx_heading(line);
    if (level > 0) {
      start_section(level, text);
      continue;
    }
    // A setext underline turns the single text line above it into a heading (a "---" under a
    // blank line is a thematic break and stays body text).
    int setext = setext_level(line);
    std::vector<std::string_view>& body = sections.back().lines;
    if (setext > 0 && !body.empty() && !is_blank(body.back()) &&
        (body.size() == 1 || is_blank(body[body.size() - 2])) &&
        atx_heading(body.back()).first == 0) {
      std::string heading(trim(body.back()));
      body.pop_back();
      start_section(setext, heading);
      continue;
    }
    body.push_back(line);
  }
  std::vector<TextChunk> out;
  for (const Section& section : sections) {
    pack_section(section.heading_path, paragraphs_of(section.lines), options, &out);
  }
  return out;
}

std::vector<TextChunk> chunk_plain_text(std::string_view text, const ChunkOptions& options) {
  std::vector<TextChunk> out;
  std::vector<std::string_view> lines = split_lines(text);
  // Plain text has no fences, but paragraphs_of only treats ``` lines specially; that is harmless.
  pack_section("", paragraphs_of(lines), options, &out);
  return out;
}

}  // namespace stemma::rag
