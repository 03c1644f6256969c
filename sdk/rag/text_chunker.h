// Splits documents into retrieval chunks.
//
// Markdown is first cut into sections at its headings (ATX "# ..." and setext "===" / "---"
// underlines, ignoring anything inside fenced code), each section remembering the path of
// headings above it ("Setup > Wi-Fi > 5 GHz"). Each section (or a whole plain-text document) is
// then packed into chunks of whole paragraphs up to max_chars; a paragraph longer than that is cut
// at sentence ends, and a sentence longer than that at spaces. Consecutive chunks of one section
// share a small overlap (the previous chunk's last sentence or words) so a fact that straddles a
// cut is still found with its context.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace stemma::rag {

struct ChunkOptions {
  size_t max_chars = 1200;     // bytes of UTF-8 per chunk (about 300 tokens of English)
  size_t overlap_chars = 160;  // at most this much of a chunk's tail starts the next one
};

struct TextChunk {
  std::string heading_path;  // headings joined with " > "; empty for plain text
  std::string text;          // the chunk's body, paragraphs separated by blank lines
};

inline constexpr std::string_view kHeadingSeparator = " > ";

std::vector<TextChunk> chunk_markdown(std::string_view markdown, const ChunkOptions& options);
std::vector<TextChunk> chunk_plain_text(std::string_view text, const ChunkOptions& options);

}  // namespace stemma::rag
