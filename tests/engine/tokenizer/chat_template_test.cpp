// Every fixture template over every scenario must render byte for byte what Python's Jinja2
// renders with HF's settings (tools/tokenizer/render_templates.py -> expected.json), and fail
// where Jinja2 fails.
#include "engine/tokenizer/chat_template/chat_template.h"

#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

#include "tests/engine/tokenizer/test_util.h"

namespace stemma {
namespace {

using ojson = nlohmann::ordered_json;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("chat templates: 20 templates x 12 scenarios match Jinja2 byte for byte") {
  const std::string dir = test::fixture_path("templates/");
  const ojson scenarios = ojson::parse(slurp(dir + "scenarios.json"));
  const ojson expected = ojson::parse(slurp(dir + "expected.json"));
  int checked = 0, failures = 0;
  for (const auto& line : test::read_lines(dir + "SOURCES")) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> cols;
    std::stringstream ss(line);
    std::string col;
    while (std::getline(ss, col, '\t')) cols.push_back(col);
    REQUIRE(cols.size() >= 3);
    const std::string name = cols[0];
    auto tmpl = ChatTemplate::parse(slurp(dir + name));
    REQUIRE_MESSAGE(tmpl.ok(), name << ": " << tmpl.status().to_string());
    for (const auto& sc : scenarios) {
      const std::string sc_name = sc["name"].get<std::string>();
      ChatTemplateInputs in;
      in.messages = sc["messages"];
      in.tools = sc.contains("tools") ? sc["tools"] : ojson();
      in.add_generation_prompt = sc["add_generation_prompt"].get<bool>();
      in.bos_token = cols[2];
      in.eos_token = cols.size() > 3 ? cols[3] : "";
      if (sc.contains("extra")) in.extra = sc["extra"];
      const ojson& want = expected[name][sc_name];
      auto got = tmpl->render(in);
      ++checked;
      if (want.contains("output")) {
        const std::string w = want["output"].get<std::string>();
        if (!got.ok() || *got != w) {
          ++failures;
          MESSAGE(name << " / " << sc_name << "\n--- want ---\n"
                       << w << "\n--- got ---\n"
                       << (got.ok() ? *got : got.status().to_string()));
        }
      } else {
        const bool raised = want.value("raised", false);
        const std::string msg = want["error"].get<std::string>();
        if (got.ok() || (raised && got.status().message().find(msg) == std::string::npos)) {
          ++failures;
          MESSAGE(name << " / " << sc_name << ": Jinja2 fails (" << msg << ") but we gave "
                       << (got.ok() ? "'" + *got + "'" : got.status().to_string()));
        }
      }
    }
  }
  CHECK(checked == 20 * 12);
  CHECK(failures == 0);
}

TEST_CASE("chat templates: built-in fallbacks are the fixture sources Jinja2 rendered") {
  for (const char* name : {"chatml", "llama3", "mistral"}) {
    const char* src = ChatTemplate::builtin_source(name);
    REQUIRE(src != nullptr);
    CHECK(std::string(src) ==
          slurp(test::fixture_path(std::string("templates/builtin-") + name + ".jinja")));
    CHECK(ChatTemplate::builtin(name).ok());
  }
  CHECK_FALSE(ChatTemplate::builtin("nope").ok());
}

TEST_CASE("chat templates: errors name the problem and where it is") {
  auto unclosed = ChatTemplate::parse("hello\n{% if x %}yes");
  REQUIRE_FALSE(unclosed.ok());
  CHECK(unclosed.status().message().find("endif") != std::string::npos);

  auto bad_token = ChatTemplate::parse("line one\n  {{ a + }}");
  REQUIRE_FALSE(bad_token.ok());
  CHECK(bad_token.status().message().find("template:2:") != std::string::npos);

  auto unknown_stmt = ChatTemplate::parse("{% include 'x' %}");
  REQUIRE_FALSE(unknown_stmt.ok());
  CHECK(unknown_stmt.status().message().find("unsupported statement 'include'") !=
        std::string::npos);

  auto filter = ChatTemplate::parse("{{ messages | frobnicate }}");
  REQUIRE(filter.ok());
  auto r = filter->render({});
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("unknown filter 'frobnicate'") != std::string::npos);
  CHECK(r.status().message().find("template:1:") != std::string::npos);

  auto method = ChatTemplate::parse("{{ 'x'.zfill(3) }}");
  REQUIRE(method.ok());
  auto m = method->render({});
  REQUIRE_FALSE(m.ok());
  CHECK(m.status().message().find("unsupported method 'zfill'") != std::string::npos);

  auto test_name = ChatTemplate::parse("{{ 1 is prime }}");
  REQUIRE(test_name.ok());
  auto t = test_name->render({});
  REQUIRE_FALSE(t.ok());
  CHECK(t.status().message().find("unknown test 'prime'") != std::string::npos);
}

}  // namespace stemma

namespace stemma {

TEST_CASE("chat templates: truncated and garbled templates give errors, never crash") {
  // Every prefix of a real template either parses or fails with a message; so does a
  // template with a byte flipped at each position. (Run under ASan/UBSan in CI.)
  const std::string src = slurp(test::fixture_path("templates/qwen3.jinja"));
  ChatTemplateInputs in;
  in.messages = ojson::parse(R"([{"role":"user","content":"hi"}])");
  int parsed = 0, failed = 0;
  for (size_t n = 0; n <= src.size(); n += 7) {
    auto t = ChatTemplate::parse(src.substr(0, n));
    if (t.ok()) {
      ++parsed;
      (void)t->render(in);
    } else {
      ++failed;
      CHECK(t.status().message().find("template:") != std::string::npos);
    }
  }
  for (size_t i = 0; i < src.size(); i += 11) {
    std::string bad = src;
    bad[i] = "{}%#-()[]|'\""[i % 12];
    auto t = ChatTemplate::parse(bad);
    if (t.ok()) (void)t->render(in);
  }
  CHECK(parsed > 0);
  CHECK(failed > 0);
  auto deep =
      ChatTemplate::parse("{{ " + std::string(5000, '(') + "1" + std::string(5000, ')') + " }}");
  REQUIRE_FALSE(deep.ok());
  auto rec = ChatTemplate::parse("{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}");
  REQUIRE(rec.ok());
  auto r = rec->render(in);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("recursed deeper") != std::string::npos);
}

}  // namespace stemma
