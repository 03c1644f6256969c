// Role blocks derived from real chat templates (the 20 fixture templates the tokenizer tests
// check against Jinja2): where a template splits, the blocks must compose to exactly what the
// template renders for many conversations; where it cannot (system merged into the first user
// turn, roles refused), the error says so.
#include "sdk/program/role_blocks.h"

#include <doctest/doctest.h>

#include <fstream>
#include <map>
#include <sstream>

#include "engine/tokenizer/chat_template/chat_template.h"

namespace stemma::program {
namespace {

using ojson = nlohmann::ordered_json;

// What the Runtime hands RoleBlocks: the template rendered with these BOS/EOS texts.
ChatRenderer renderer(ChatTemplate t, std::string bos, std::string eos) {
  return [t = std::move(t), bos = std::move(bos), eos = std::move(eos)](
             const ojson& messages, bool add_generation_prompt) {
    ChatTemplateInputs in;
    in.messages = messages;
    in.add_generation_prompt = add_generation_prompt;
    in.bos_token = bos;
    in.eos_token = eos;
    return t.render(in);
  };
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct FixtureTemplate {
  std::string name, bos, eos;
};

std::vector<FixtureTemplate> fixture_templates(const std::string& dir) {
  std::vector<FixtureTemplate> out;
  std::ifstream in(dir + "SOURCES");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> cols;
    std::stringstream ss(line);
    std::string col;
    while (std::getline(ss, col, '\t')) cols.push_back(col);
    if (cols.size() < 3) continue;
    out.push_back({cols[0], cols[2], cols.size() > 3 ? cols[3] : ""});
  }
  return out;
}

Result<std::string> render(const ChatTemplate& t, const FixtureTemplate& f, const ojson& messages,
                           bool gen) {
  ChatTemplateInputs in;
  in.messages = messages;
  in.add_generation_prompt = gen;
  in.bos_token = f.bos;
  in.eos_token = f.eos;
  return t.render(in);
}

// Conversations to check the blocks against: with and without a system message, 1 to 6 turns,
// contents with newlines, quotes, braces, non-ASCII text.
std::vector<ojson> conversations() {
  const std::vector<std::string> texts = {
      "Hi there", "What is 2+2?",       "It is 4.",           "Say \"yes\" or 'no'.",
      "yes",      "Line one\nline two", "{\"json\": [1, 2]}", "français, 日本語 🐱",
      "ok"};
  std::vector<ojson> out;
  for (int with_system = 0; with_system < 2; ++with_system) {
    for (int turns = 1; turns <= 6; ++turns) {
      ojson c = ojson::array();
      if (with_system) c.push_back({{"role", "system"}, {"content", "Be brief and exact."}});
      for (int i = 0; i < turns; ++i) {
        c.push_back({{"role", i % 2 == 0 ? "user" : "assistant"},
                     {"content", texts[(i * 3 + turns + with_system) % texts.size()]}});
      }
      out.push_back(c);
    }
  }
  return out;
}

TEST_CASE("role blocks compose to exactly what each splittable fixture template renders") {
  const std::string dir = std::string(STEMMA_FIXTURES_DIR) + "/tokenizer/templates/";
  std::map<std::string, std::string> summary;
  int split = 0, checked = 0, rewrites = 0;
  std::string lead0;
  for (const FixtureTemplate& f : fixture_templates(dir)) {
    auto t = ChatTemplate::parse(slurp(dir + f.name));
    REQUIRE_MESSAGE(t.ok(), f.name);
    RoleBlocks blocks(renderer(*t, f.bos, f.eos), f.bos);
    auto sys = blocks.block("system");
    auto user = blocks.block("user");
    auto asst = blocks.block("assistant");
    std::string line;
    const std::vector<std::pair<const char*, const Result<RoleBlock>*>> roles = {
        {"system", &sys}, {"user", &user}, {"assistant", &asst}};
    for (const auto& [role, b] : roles) {
      if (!b->ok()) {
        // Refusals are Unsupported (cannot split) or the template's own error for the role.
        CHECK(!b->status().message().empty());
        CHECK(b->status().message().find(std::string("role \"") + role) != std::string::npos);
        line += std::string(role) + ": no (" + b->status().message() + ") ";
      } else {
        line += std::string(role) + ": yes ";
      }
    }
    summary[f.name] = line;
    if (!user.ok() || !asst.ok()) continue;
    ++split;
    auto gen = blocks.generation_prompt();
    REQUIRE(gen.ok());
    // A template may append its generation prompt whatever add_generation_prompt says.
    auto plain1 = render(*t, f, ojson::array({conversations()[0][0]}), false);
    auto prompted1 = render(*t, f, ojson::array({conversations()[0][0]}), true);
    const bool fixed_tail = plain1.ok() && prompted1.ok() && *plain1 == *prompted1;
    for (const ojson& conv : conversations()) {
      const bool has_system = conv[0]["role"] == "system";
      if (has_system && !sys.ok()) continue;
      // The first k messages must render as their blocks one after another (after a BOS text,
      // or a default system prompt the template writes when there is none), unless the
      // template rewrote an earlier message's text when a later one came.
      std::string blocks_text;
      std::string previous;
      for (size_t k = 0; k < conv.size(); ++k) {
        const std::string role = conv[k]["role"].get<std::string>();
        const RoleBlock& rb = role == "system" ? *sys : role == "user" ? *user : *asst;
        blocks_text += rb.prefix + conv[k]["content"].get<std::string>() + rb.suffix;
        ojson head(conv.begin(), conv.begin() + static_cast<long>(k + 1));
        auto r = render(*t, f, head, false);
        if (!r.ok()) break;  // e.g. a template that wants a user message last
        std::string text = *r;
        if (fixed_tail) {
          REQUIRE(text.ends_with(*gen));
          text.resize(text.size() - gen->size());
        }
        const bool rewritten = k > 0 && !text.starts_with(previous);
        previous = text;
        if (rewritten) {
          ++rewrites;
          break;
        }
        // What comes before the blocks is the same for every length of the conversation.
        REQUIRE_MESSAGE(text.ends_with(blocks_text), f.name << " message " << k << " (" << role
                                                            << ")\n"
                                                            << text);
        const std::string lead = text.substr(0, text.size() - blocks_text.size());
        if (k == 0) {
          lead0 = lead;
        } else {
          CHECK_MESSAGE(lead == lead0, f.name);
        }
        if (has_system) CHECK_MESSAGE((lead.empty() || lead == f.bos), f.name);
        ++checked;
        // The generation prompt follows.
        if (role == "user" && !fixed_tail) {
          auto prompted = render(*t, f, head, true);
          if (prompted.ok()) CHECK(*prompted == *r + *gen);
        }
      }
    }
  }
  for (const auto& [name, line] : summary) MESSAGE(name << ": " << line);
  CHECK(split >= 12);
  MESSAGE(checked << " renderings checked, " << rewrites << " rewrote history");
  CHECK(checked > 500);
  // Templates that merge the system prompt into the first user turn are refused for "system".
  CHECK(summary["llama-2-chat.jinja"].find("system: no") != std::string::npos);
  CHECK(summary["builtin-mistral.jinja"].find("system: no") != std::string::npos);
  CHECK(summary["builtin-chatml.jinja"] == "system: yes user: yes assistant: yes ");
}

TEST_CASE("ChatML blocks and the generation block") {
  auto t = ChatTemplate::builtin("chatml");
  REQUIRE(t.ok());
  RoleBlocks blocks(renderer(*t, "<s>", "<|im_end|>"), "<s>");
  auto tool = blocks.block("tool");
  REQUIRE(tool.ok());
  CHECK(tool->prefix == "<|im_start|>tool\n");
  CHECK(tool->suffix == "<|im_end|>\n");
  auto g = blocks.generation_block("assistant");
  REQUIRE(g.ok());
  CHECK(g->prefix == "<|im_start|>assistant\n");
  CHECK(blocks.block("").status().code() == StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace stemma::program
