// The chunker: heading paths, size bounds, overlap, no lost text, UTF-8-safe cuts.
#include "sdk/rag/text_chunker.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "tests/sdk/rag/corpus.h"

namespace stemma::rag {
namespace {

bool valid_utf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    auto b = static_cast<unsigned char>(s[i]);
    size_t extra = b < 0x80             ? 0
                   : (b & 0xE0) == 0xC0 ? 1
                   : (b & 0xF0) == 0xE0 ? 2
                   : (b & 0xF8) == 0xF0 ? 3
                                        : 99;
    if (extra == 99 || i + extra >= s.size() + (extra == 0 ? 1 : 0)) return false;
    for (size_t k = 1; k <= extra; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += extra + 1;
  }
  return true;
}

std::vector<std::string> paths_of(const std::vector<TextChunk>& chunks) {
  std::vector<std::string> paths;
  for (const TextChunk& c : chunks) {
    if (paths.empty() || paths.back() != c.heading_path) paths.push_back(c.heading_path);
  }
  return paths;
}

TEST_CASE("chunker: markdown sections carry the path of headings above them") {
  std::vector<TextChunk> chunks =
      chunk_markdown(testing::read_corpus("setup_guide.md"), ChunkOptions{});
  const std::string root = "Aurora X2 Setup Guide";
  std::vector<std::string> expected = {
      root,
      root + " > What's in the box",
      root + " > Connecting to your modem",
      root + " > Installing the Aurora app",
      root + " > Installing the Aurora app > Creating an account",
      root + " > Adding satellite nodes",
      root + " > LED status lights",
  };
  CHECK(paths_of(chunks) == expected);
  // Bodies hold no heading lines, and the list under the last heading stays together.
  for (const TextChunk& c : chunks) CHECK(c.text.find("## ") == std::string::npos);
  CHECK(chunks.back().text.find("- Solid white") != std::string::npos);
  CHECK(chunks.back().text.find("- Off:") != std::string::npos);
}

TEST_CASE("chunker: fences, setext headings, closing hashes and non-headings") {
  const std::string md =
      "Intro line before any heading.\n"
      "\n"
      "Title One\n"
      "=========\n"
      "Body one.\n"
      "\n"
      "```bash\n"
      "# not a heading, a shell comment\n"
      "\n"
      "echo done\n"
      "```\n"
      "\n"
      "Sub Part\n"
      "--------\n"
      "Body two with #hashtag.\n"
      "\n"
      "---\n"
      "\n"
      "### Deep ###\n"
      "Body three.\n"
      "#NoSpace is text\n"
      "## Back Up\n"
      "Body four.\n";
  std::vector<TextChunk> chunks = chunk_markdown(md, ChunkOptions{});
  REQUIRE(chunks.size() == 5);
  CHECK(chunks[0].heading_path == "");
  CHECK(chunks[0].text == "Intro line before any heading.");
  CHECK(chunks[1].heading_path == "Title One");
  CHECK(chunks[1].text.find("# not a heading, a shell comment\n\necho done") != std::string::npos);
  CHECK(chunks[2].heading_path == "Title One > Sub Part");
  CHECK(chunks[2].text.find("---") != std::string::npos);  // a thematic break, not a heading
  CHECK(chunks[3].heading_path == "Title One > Sub Part > Deep");
  CHECK(chunks[3].text == "Body three.\n#NoSpace is text");
  CHECK(chunks[4].heading_path == "Title One > Back Up");
}

// A long section: paragraphs of numbered sentences, one over-long paragraph, one giant word.
std::string long_text(std::vector<std::string>* sentences) {
  std::string text;
  int n = 0;
  for (int p = 0; p < 12; ++p) {
    int count = p == 5 ? 40 : 2 + p % 4;
    for (int s = 0; s < count; ++s) {
      const int id = n++;
      std::string sentence = "Sentence " + std::to_string(id) + " says the mesh has " +
                             std::string(static_cast<size_t>(10 + (id * 7) % 50), 'x') + " inside.";
      sentences->push_back(sentence);
      text += sentence + (s + 1 < count ? " " : "");
    }
    text += "\n\n";
  }
  text += std::string(900, 'y') + "\n";
  return text;
}

TEST_CASE("chunker: chunks respect the size limit and lose no sentence") {
  std::vector<std::string> sentences;
  std::string text = long_text(&sentences);
  ChunkOptions options;
  options.max_chars = 300;
  options.overlap_chars = 80;
  std::vector<TextChunk> chunks = chunk_plain_text(text, options);
  REQUIRE(chunks.size() > 5);
  std::string all;
  for (const TextChunk& c : chunks) {
    CHECK(c.text.size() <= options.max_chars);
    CHECK_FALSE(c.text.empty());
    CHECK(c.heading_path.empty());
    all += c.text + "\n";
  }
  for (const std::string& s : sentences) CHECK_MESSAGE(all.find(s) != std::string::npos, s);
  size_t ys = 0;
  for (char c : all) ys += c == 'y';
  CHECK(ys >= 900);
}

TEST_CASE("chunker: consecutive chunks overlap by a tail of the previous one") {
  std::vector<std::string> sentences;
  std::string text = long_text(&sentences);
  ChunkOptions options;
  options.max_chars = 400;
  options.overlap_chars = 120;
  std::vector<TextChunk> chunks = chunk_plain_text(text, options);
  int overlapped = 0;
  for (size_t i = 1; i < chunks.size(); ++i) {
    const std::string& prev = chunks[i - 1].text;
    const std::string& next = chunks[i].text;
    // The longest prefix of `next` that is a suffix of `prev`.
    size_t best = 0;
    for (size_t len = 1; len <= std::min(prev.size(), next.size()); ++len) {
      if (prev.compare(prev.size() - len, len, next, 0, len) == 0) best = len;
    }
    if (prev.find(' ') == std::string::npos) continue;  // pieces of the giant word
    CHECK(best <= options.overlap_chars);
    // Every sentence is shorter than the overlap, so a cut carries the previous chunk's last
    // sentence over unless the next paragraph leaves no room for it.
    if (best >= 20) {
      ++overlapped;
    } else {
      CHECK(next.size() + 2 + options.overlap_chars > options.max_chars);
    }
  }
  CHECK(overlapped >= static_cast<int>(chunks.size()) / 2);

  options.overlap_chars = 0;
  std::vector<TextChunk> plain = chunk_plain_text(text, options);
  size_t total = 0;
  for (const TextChunk& c : plain) total += c.text.size();
  size_t with_overlap = 0;
  for (const TextChunk& c : chunks) with_overlap += c.text.size();
  CHECK(total < with_overlap);
}

TEST_CASE("chunker: cuts never split a UTF-8 character") {
  std::string text;
  for (int i = 0; i < 60; ++i)
    text +=
        "Überprüfung: Größe \xE2\x82\xAC"
        "12 — \xF0\x9F\x93\xB6 ";
  text += "\n\n";
  for (int i = 0; i < 200; ++i) text += "\xE6\x97\xA5\xE6\x9C\xAC";  // no spaces at all
  ChunkOptions options;
  options.max_chars = 97;
  options.overlap_chars = 30;
  std::vector<TextChunk> chunks = chunk_plain_text(text, options);
  REQUIRE(chunks.size() > 10);
  for (const TextChunk& c : chunks) {
    CHECK(c.text.size() <= options.max_chars);
    CHECK_MESSAGE(valid_utf8(c.text), c.text);
  }
}

TEST_CASE("chunker: empty and whitespace-only input give no chunks") {
  CHECK(chunk_plain_text("", ChunkOptions{}).empty());
  CHECK(chunk_plain_text(" \n\n \t\n", ChunkOptions{}).empty());
  CHECK(chunk_markdown("# Only a heading\n\n## And another\n", ChunkOptions{}).empty());
}

}  // namespace
}  // namespace stemma::rag
