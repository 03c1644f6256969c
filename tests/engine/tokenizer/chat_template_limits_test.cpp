// The template interpreter never crashes, never runs away: checked 64-bit arithmetic (issue 15
// item 2), bounded nesting of inputs (item 5), a step / size budget and a cancel flag (item 9).
#include <doctest/doctest.h>

#include <atomic>
#include <thread>

#include "engine/tokenizer/chat_template/chat_template.h"

namespace stemma {
namespace {

Result<std::string> render(const std::string& src, const ChatTemplateInputs& in = {}) {
  auto t = ChatTemplate::parse(src);
  REQUIRE_MESSAGE(t.ok(), t.status().to_string());
  return t->render(in);
}

std::string error(const std::string& src, const ChatTemplateInputs& in = {}) {
  auto r = render(src, in);
  return r.ok() ? "(rendered: " + *r + ")" : r.status().message();
}

}  // namespace

TEST_CASE("chat template arithmetic: overflow and INT64_MIN cases are errors, not UB") {
  // INT64_MIN // -1 and % -1 used to raise SIGFPE; + * - overflowed (UB).
  const std::string min = "(-9223372036854775807 - 1)";
  CHECK(error("{{ " + min + " // -1 }}").find("integer overflow") != std::string::npos);
  CHECK(*render("{{ " + min + " % -1 }}") == "0");  // Python: 0
  CHECK(*render("{{ (" + min + ") is divisibleby(-1) }}") == "True");
  CHECK(*render("{{ 7 is divisibleby(-1) }}") == "True");
  CHECK(error("{{ 9223372036854775807 + 1 }}").find("integer overflow") != std::string::npos);
  CHECK(error("{{ " + min + " - 1 }}").find("integer overflow") != std::string::npos);
  CHECK(error("{{ 4611686018427387904 * 2 }}").find("integer overflow") != std::string::npos);
  CHECK(error("{{ -(" + min + ") }}").find("integer overflow") != std::string::npos);
  CHECK(error("{{ (" + min + ") | abs }}").find("integer overflow") != std::string::npos);
  CHECK(error("{{ 2 ** 64 }}").find("integer overflow") != std::string::npos);
  CHECK(*render("{{ 2 ** 62 }}") == "4611686018427387904");
  CHECK(*render("{{ -7 // 2 }} {{ -7 % 2 }} {{ 7 % -2 }}") == "-4 1 -1");
  CHECK(error("{{ 1e300 * 1e300 | int }}").find("int()") != std::string::npos);
  // range steps near the ends of int64 never overflow.
  CHECK(*render("{{ range(9223372036854775806, 9223372036854775807, 5) | list | length }}") == "1");
  CHECK(*render("{{ range(" + min + ", " + min + " + 10, 9223372036854775807) | list }}") ==
        "[-9223372036854775808]");
  CHECK(error("{{ range(0, 9223372036854775807) | length }}").find("range") != std::string::npos);
  CHECK(*render("{{ [1,2,3][::9223372036854775807] }}") == "[1]");
}

TEST_CASE("chat template inputs: messages and tools nested 20,000 deep are refused") {
  // Parsed, never copied: nlohmann parses iteratively (a deep copy would itself recurse).
  const std::string deep = std::string(20000, '[') + std::string(20000, ']');
  ChatTemplateInputs in;
  in.messages = nlohmann::ordered_json::parse(R"([{"role":"user","content":)" + deep + "}]");
  CHECK(error("{{ messages }}", in).find("nested deeper than 256") != std::string::npos);
  ChatTemplateInputs tools;
  tools.tools = nlohmann::ordered_json::parse(deep);
  CHECK(error("{{ tools }}", tools).find("nested deeper than 256") != std::string::npos);
  // Templates cannot build deep values either.
  CHECK(error("{% set ns = namespace(x=1) %}{% for i in range(1000) %}{% set ns.x = [ns.x] %}"
              "{% endfor %}{{ ns.x }}")
            .find("nested deeper than 256") != std::string::npos);
}

TEST_CASE("chat template budget: runaway loops and huge strings stop with an error") {
  // Nested range(10000) loops used to run for minutes. (The default budget, 20M steps, stops
  // them after 10-15 s of CPU on the dev machine; a smaller one keeps this test fast.)
  CHECK(RenderLimits{}.max_steps == 20'000'000);
  ChatTemplateInputs budget;
  budget.limits.max_steps = 300'000;
  const auto loops = render(
      "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}"
      "{% endfor %}",
      budget);
  REQUIRE_FALSE(loops.ok());
  CHECK(loops.status().code() == StatusCode::kResourceExhausted);
  CHECK(loops.status().message().find("max_steps") != std::string::npos);
  // String doubling and indent(10^9) used to reach 4 GB.
  const auto doubling = render(
      "{% set ns = namespace(s='x') %}{% for i in range(40) %}"
      "{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s | length }}");
  REQUIRE_FALSE(doubling.ok());
  CHECK(doubling.status().code() == StatusCode::kResourceExhausted);
  CHECK(error("{{ 'a\\nb' | indent(1000000000) }}").find("max_bytes") != std::string::npos);
  CHECK(error("{{ 'ab' * 1000000000 }}").find("max_bytes") != std::string::npos);
  CHECK(error("{{ [1] | tojson(indent=1000000000) }}").find("bytes") != std::string::npos);
  // The limits are the caller's to set.
  ChatTemplateInputs small;
  small.limits.max_steps = 100;
  CHECK(error("{% for i in range(50) %}{{ i }}{% endfor %}", small).find("100 steps") !=
        std::string::npos);
  ChatTemplateInputs tight;
  tight.limits.max_bytes = 10;
  CHECK(error("{{ 'x' * 11 }}", tight).find("max_bytes") != std::string::npos);
  CHECK(*render("{{ 'x' * 10 }}", tight) == "xxxxxxxxxx");
  // An ordinary template renders well within the defaults.
  CHECK(render("{% for i in range(1000) %}{{ i % 10 }}{% endfor %}")->size() == 1000);
}

TEST_CASE("chat template budget: rendering can be cancelled from another thread") {
  std::atomic<bool> cancel{false};
  ChatTemplateInputs in;
  in.limits.max_steps = INT64_MAX;
  in.limits.cancel = &cancel;
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    cancel.store(true);
  });
  const auto r = render(
      "{% for i in range(1000000) %}{% for j in range(1000000) %}{% endfor %}"
      "{% endfor %}",
      in);
  stopper.join();
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kCancelled);
}

TEST_CASE("chat template variables: as transformers passes them") {
  // documents is None (not undefined) when absent; special tokens only when the tokenizer has
  // them (no invented BOS).
  CHECK(*render("{{ documents is none }} {{ tools is none }}") == "True True");
  ChatTemplateInputs in;
  in.special_tokens = nlohmann::ordered_json{{"eos_token", "</s>"}, {"pad_token", "<pad>"}};
  in.bos_token = "<s>";  // not used when special_tokens is set
  CHECK(*render("[{{ bos_token is defined }}|{{ eos_token }}|{{ pad_token }}]", in) ==
        "[False|</s>|<pad>]");
  ChatTemplateInputs docs;
  docs.documents = nlohmann::ordered_json::array({{{"title", "t"}, {"text", "x"}}});
  CHECK(*render("{% for d in documents %}{{ d.title }}:{{ d.text }}{% endfor %}", docs) == "t:x");
  TokenizerSpec hf;
  hf.hf_pipeline = true;
  hf.tokens = {"<s>", "</s>"};
  hf.bos_id = 0;
  hf.special_token_texts = {{"eos_token", "</s>"}};
  CHECK(special_tokens_for_template(hf) == nlohmann::ordered_json{{"eos_token", "</s>"}});
  TokenizerSpec gguf = hf;
  gguf.hf_pipeline = false;
  gguf.eos_id = 1;
  CHECK(special_tokens_for_template(gguf) ==
        nlohmann::ordered_json{{"bos_token", "<s>"}, {"eos_token", "</s>"}});
}

}  // namespace stemma
