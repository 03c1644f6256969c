// The chat templates the npm vocabularies ship (every named template of their
// tokenizer_config.json), over the fixture scenarios and a RAG one with documents, must render
// byte for byte what Jinja2 renders with transformers' variables (special tokens from the
// config only, documents and tools None when absent), or fail where Jinja2 fails
// (tools/tokenizer/render_vocab_templates.py -> templates/vocab_expected.json).
#include <doctest/doctest.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/tokenizer/chat_template/chat_template.h"
#include "engine/tokenizer/hf_tokenizer_json.h"
#include "tests/engine/tokenizer/test_util.h"

namespace stemma {
namespace {

using ojson = nlohmann::ordered_json;

// strftime_now's time in these renderings: 2026-12-07 12:00:00 UTC, the fixed time
// tools/tokenizer/render_templates.py renders with (RENDER_TIME).
constexpr std::time_t kRenderTime = 1796644800;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string package_dir(const std::string& name) {
  for (const auto& line : test::read_lines(test::fixture_path("reference/VOCABS"))) {
    if (line.rfind(name + "\tassets:", 0) == 0) {
      return std::string(STEMMA_ASSETS_DIR) + "/tokenizer/" + line.substr(name.size() + 8) +
             "/package/models";
    }
  }
  return "";
}

}  // namespace

TEST_CASE("chat templates of the npm vocabularies match Jinja2 with transformers' variables") {
  const ojson expected = ojson::parse(slurp(test::fixture_path("templates/vocab_expected.json")));
  ojson scenarios = ojson::parse(slurp(test::fixture_path("templates/scenarios.json")));
  scenarios.push_back(ojson::parse(R"({"name": "documents", "add_generation_prompt": true,
      "messages": [{"role": "user", "content": "Where is the order?"}],
      "documents": [{"title": "Shipping", "text": "Orders ship in 2 days."},
                    {"title": "Returns", "text": "Returns take 14 days."}]})"));
  int checked = 0, failures = 0;
  for (const auto& [vocab, by_template] : expected.items()) {
    const std::string dir = package_dir(vocab);
    if (!std::filesystem::exists(dir + "/tokenizer_config.json")) {
      MESSAGE("skipping: " << dir << " missing (run scripts/setup.d/20-tokenizer-assets.sh)");
      std::exit(77);
    }
    // Only tokenizer_config.json matters here (the template, the special tokens): it is read
    // beside a stub tokenizer.json rather than parsing the real, large one.
    const std::string config = slurp(dir + "/tokenizer_config.json");
    auto spec =
        parse_hf_tokenizer(R"({"model":{"type":"BPE","vocab":{"a":0},"merges":[]}})", config);
    REQUIRE_MESSAGE(spec.ok(), spec.status().to_string());
    const ojson cfg = ojson::parse(config);
    for (const auto& [name, results] : by_template.items()) {
      std::string source;
      if (cfg["chat_template"].is_string()) {
        source = cfg["chat_template"].get<std::string>();
      } else {
        for (const auto& t : cfg["chat_template"]) {
          if (t["name"] == name) source = t["template"].get<std::string>();
        }
      }
      if (name == "default") CHECK(source == spec->chat_template);
      auto tmpl = ChatTemplate::parse(source);
      REQUIRE_MESSAGE(tmpl.ok(), vocab << "/" << name << ": " << tmpl.status().to_string());
      for (const auto& sc : scenarios) {
        const std::string sc_name = sc["name"].get<std::string>();
        ChatTemplateInputs in;
        in.messages = sc["messages"];
        if (sc.contains("tools")) in.tools = sc["tools"];
        if (sc.contains("documents")) in.documents = sc["documents"];
        in.add_generation_prompt = sc["add_generation_prompt"].get<bool>();
        in.special_tokens = special_tokens_for_template(*spec);
        if (sc.contains("extra")) in.extra = sc["extra"];
        in.now = kRenderTime;
        const ojson& want = results[sc_name];
        auto got = tmpl->render(in);
        ++checked;
        if (want.contains("output")) {
          const std::string w = want["output"].get<std::string>();
          if (!got.ok() || *got != w) {
            ++failures;
            MESSAGE(vocab << "/" << name << " / " << sc_name << "\n--- want ---\n"
                          << w << "\n--- got ---\n"
                          << (got.ok() ? *got : got.status().to_string()));
          }
        } else if (got.ok()) {
          ++failures;
          MESSAGE(vocab << "/" << name << " / " << sc_name << ": Jinja2 fails ("
                        << want["error"].get<std::string>() << ") but we rendered '" << *got
                        << "'");
        }
      }
    }
  }
  CHECK(checked == 247);
  CHECK(failures == 0);
}

}  // namespace stemma
