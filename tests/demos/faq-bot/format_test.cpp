// The FAQ bot's prompt builder, retriever and reply handling against the training-time
// references: eval_prompts.jsonl (made by tools/train/faq_format.py), eval.json's retrieved ids,
// the HF greedy replies (trained-format JSON) and Python's own query_terms, spelling-corrected
// search terms, term_edits and json.dumps (reference.jsonl, from make_reference.py).
#include <doctest/doctest.h>

#include <map>

#include "demos/faq-bot/answer_stream.h"
#include "demos/faq-bot/fake_tools.h"
#include "demos/faq-bot/faq_prompt.h"
#include "demos/faq-bot/reply.h"
#include "demos/faq-bot/reply_constraint.h"
#include "demos/faq-bot/reply_ranker.h"
#include "engine/constrain/dfa.h"
#include "engine/tokenizer/chat_template/chat_template.h"
#include "sdk/rag/faq_retriever.h"
#include "sdk/rag/spelling.h"
#include "tests/demos/faq-bot/test_paths.h"

using namespace stemma::faqbot;
using namespace stemma::rag;
using namespace faqbot_test;

namespace {

// The conversation as the bot renders it: the model's own chat template (its HF export's
// tokenizer_config.json; the GGUF carries the same), through the template interpreter the SDK's
// Runtime uses.
std::string render_chat(const std::vector<Message>& messages, bool add_generation_prompt) {
  static const stemma::ChatTemplate chat_template = [] {
    std::ifstream in(std::string(STEMMA_FIXTURES_DIR) + "/faq-model/tokenizer_config.json");
    const nlohmann::json config = nlohmann::json::parse(in);
    auto t = stemma::ChatTemplate::parse(config.at("chat_template").get<std::string>());
    REQUIRE(t.ok());
    return std::move(t).value();
  }();
  stemma::ChatTemplateInputs in;
  for (const Message& m : messages)
    in.messages.push_back({{"role", m.role}, {"content", m.content}});
  in.add_generation_prompt = add_generation_prompt;
  auto text = chat_template.render(in);
  REQUIRE(text.ok());
  return std::move(text).value();
}

std::unique_ptr<FaqRetriever> make_retriever() {
  auto faq = load_faq(kFaq);
  REQUIRE(faq.ok());
  REQUIRE(faq.value().size() == 207);
  auto r = FaqRetriever::create(std::move(faq.value()));
  REQUIRE(r.ok());
  return std::move(r.value());
}

std::map<std::string, EvalItem> eval_by_id() {
  auto items = load_eval(kEval);
  REQUIRE(items.ok());
  std::map<std::string, EvalItem> out;
  for (auto& it : items.value()) out[it.id] = it;
  return out;
}

}  // namespace

TEST_CASE("prompt builder reproduces every eval prompt byte for byte") {
  auto retriever = make_retriever();
  auto items = eval_by_id();
  auto prompts = read_jsonl(kEvalPrompts);
  REQUIRE(prompts.size() == kEvalItems);
  int same = 0;
  for (const auto& p : prompts) {
    const EvalItem& it = items.at(p["id"].get<std::string>());
    auto hits = retriever->search(it.question);
    REQUIRE(hits.ok());
    std::vector<Message> messages = {
        {"system", kSystemPrompt}, {"user", it.question}, {"context", context_block(hits.value())}};
    const std::string built = render_chat(messages, true);
    const std::string want = p["prompt"].get<std::string>();
    if (built == want) {
      ++same;
    } else {
      INFO("eval item " << it.id);
      CHECK(built == want);
    }
  }
  CHECK(same == static_cast<int>(kEvalItems));
}

TEST_CASE("retrieval returns the training-time top 5 for every eval question") {
  auto retriever = make_retriever();
  auto items = eval_by_id();
  int same = 0, nonempty = 0;
  for (const auto& [id, it] : items) {
    auto hits = retriever->search(it.question);
    REQUIRE(hits.ok());
    std::vector<std::string> ids;
    for (const FaqEntry* e : hits.value()) ids.push_back(e->id);
    INFO("eval item " << id << ": " << it.question);
    CHECK(ids == it.retrieved_ids);
    same += ids == it.retrieved_ids;
    nonempty += !ids.empty();
  }
  CHECK(same == static_cast<int>(kEvalItems));
  CHECK(nonempty > 250);  // the comparison is not vacuous
}

TEST_CASE("query terms, search terms, edits and JSON strings match the Python reference") {
  auto refs = read_jsonl(src("tests/demos/faq-bot/reference.jsonl"));
  auto retriever = make_retriever();
  int questions = 0, strings = 0, searches = 0, corrected = 0, edits = 0;
  for (const auto& r : refs) {
    if (r.contains("search_question")) {
      const std::string q = r["search_question"];
      INFO("search question: " << q);
      auto terms = retriever->search_terms(q);
      REQUIRE(terms.ok());
      CHECK(terms.value() == r["search_terms"].get<std::vector<std::string>>());
      corrected += terms.value() != query_terms(q);
      auto hits = retriever->search(q);
      REQUIRE(hits.ok());
      std::vector<std::string> ids;
      for (const FaqEntry* e : hits.value()) ids.push_back(e->id);
      CHECK(ids == r["retrieved"].get<std::vector<std::string>>());
      ++searches;
    } else if (r.contains("edit_word")) {
      const std::string w = r["edit_word"];
      INFO("edits of " << w);
      CHECK(term_edits(w) == r["edits"].get<std::vector<std::string>>());
      ++edits;
    } else if (r.contains("question")) {
      const std::string q = r["question"];
      INFO("question: " << q);
      const auto terms = query_terms(q);
      CHECK(terms == r["terms"].get<std::vector<std::string>>());
      CHECK(match_expression(terms) == r["match"].get<std::string>());
      ++questions;
    } else {
      const std::string s = r["string"];
      CHECK(py_json_string(s, true) == r["ascii"].get<std::string>());
      CHECK(py_json_string(s, false) == r["utf8"].get<std::string>());
      ++strings;
    }
  }
  CHECK(questions >= 10);
  CHECK(strings >= 4);
  CHECK(searches >= 6);
  CHECK(corrected >= 4);  // the references exercise the correction
  CHECK(edits >= 4);
}

TEST_CASE("the HF greedy replies parse, and re-serialize to the same trained-format text") {
  auto outs = read_jsonl(kHfGreedy);
  REQUIRE(outs.size() == kEvalItems);
  int answers = 0, tools = 0;
  for (const auto& o : outs) {
    const std::string text = o["output"];
    INFO(o["id"].get<std::string>() << ": " << text);
    ParsedReply r = parse_reply(text);
    REQUIRE(r.kind != ParsedReply::Kind::kInvalid);
    if (r.kind == ParsedReply::Kind::kAnswer) {
      CHECK(reply_json(r.answer, r.source_ids, r.escalate) == text);
      // The streamer shows exactly the answer, whatever the piece boundaries.
      AnswerStreamer one, bytes;
      CHECK(one.feed(text) == r.answer);
      std::string shown;
      for (char c : text) shown += bytes.feed(std::string_view(&c, 1));
      CHECK(shown == r.answer);
      ++answers;
    } else {
      CHECK(text.starts_with("<tool_call>{\"name\": \"" + r.tool_name + "\", \"arguments\": "));
      ++tools;
    }
  }
  CHECK(answers > 150);
  CHECK(tools >= 12);
}

TEST_CASE("parse_reply refuses what is not the reply schema or a tool call") {
  CHECK(parse_reply("").kind == ParsedReply::Kind::kInvalid);
  CHECK(parse_reply("{\"answer\": \"x\"}").kind == ParsedReply::Kind::kInvalid);
  CHECK(parse_reply("{\"answer\": 1, \"source_ids\": [], \"escalate\": true}").kind ==
        ParsedReply::Kind::kInvalid);
  CHECK(parse_reply("{\"answer\": \"x\", \"source_ids\": [1], \"escalate\": true}").kind ==
        ParsedReply::Kind::kInvalid);
  CHECK(parse_reply("<tool_call>{\"name\": \"x\", \"arguments\": {}}").kind ==
        ParsedReply::Kind::kInvalid);
  CHECK(parse_reply("[1, 2]").kind == ParsedReply::Kind::kInvalid);
  ParsedReply ok =
      parse_reply("{\"answer\": \"a\\n\", \"source_ids\": [\"faq-001\"], \"escalate\": false}");
  CHECK(ok.kind == ParsedReply::Kind::kAnswer);
  CHECK(ok.answer == "a\n");
}

TEST_CASE("grounding accepts only a verbatim answer of a retrieved entry") {
  auto retriever = make_retriever();
  auto hits = retriever->search("How do I reset my hub?");
  REQUIRE(hits.ok());
  REQUIRE(!hits.value().empty());
  const FaqEntry* top = hits.value()[0];
  ParsedReply r = parse_reply(reply_json(top->answer, {top->id}, false));
  CHECK(is_grounded(r, hits.value()));
  // Another entry's id, an edited answer, two ids, no id: not grounded.
  const FaqEntry* other = retriever->find("faq-150");
  REQUIRE(other != nullptr);
  CHECK_FALSE(
      is_grounded(parse_reply(reply_json(other->answer, {other->id}, false)), hits.value()));
  CHECK_FALSE(
      is_grounded(parse_reply(reply_json(top->answer + " ", {top->id}, false)), hits.value()));
  CHECK_FALSE(
      is_grounded(parse_reply(reply_json(top->answer, {top->id, top->id}, false)), hits.value()));
  CHECK_FALSE(is_grounded(parse_reply(reply_json(top->answer, {}, false)), hits.value()));
  CHECK(is_grounded(parse_reply(reply_json(kEscalateAnswer, {}, true)), hits.value()));
}

TEST_CASE("fake tools return the trained result shapes, deterministically") {
  for (const char* id : {"LM-123456", "LM-604849", "LM-000001", "LM-999999", "LM-314159"}) {
    const std::string args = std::string("{\"order_id\":\"") + id + "\"}";
    ToolResult a = run_fake_tool("lookup_order", args);
    CHECK(a.result_json == run_fake_tool("lookup_order", args).result_json);
    auto j = nlohmann::ordered_json::parse(a.result_json);
    CHECK(j["order_id"] == id);
    const std::string status = j["status"];
    std::vector<std::string> keys;
    for (auto& [k, v] : j.items()) keys.push_back(k);
    if (status == "shipped") {
      CHECK(keys == std::vector<std::string>{"order_id", "status", "carrier", "eta"});
    } else if (status == "delivered") {
      CHECK(keys == std::vector<std::string>{"order_id", "status", "delivered_on"});
    } else {
      CHECK((status == "processing" || status == "cancelled"));
      CHECK(keys.size() == 2);
    }
    // json.dumps spacing: re-serializing with Python's separators gives the same text.
    CHECK(a.result_json.find("\", \"") != std::string::npos);
  }
  auto bad = nlohmann::ordered_json::parse(
      run_fake_tool("lookup_order", "{\"order_id\":\"123\"}").result_json);
  CHECK(bad["error"] == "order not found");
  auto ticket = nlohmann::json::parse(
      run_fake_tool("create_ticket", "{\"summary\":\"hub offline\"}").result_json);
  CHECK(ticket["status"] == "open");
  CHECK(ticket["ticket_id"].get<std::string>().starts_with("T-"));
  CHECK_FALSE(run_fake_tool("rm_rf", "{}").known_tool);
}

TEST_CASE("reply ranking: rank and bm25 priors, escalation needs the model and a weak match") {
  const RankPolicy p;                        // the shipped settings
  const double top = p.weak_match_bm25 - 1;  // a strong first hit
  const std::vector<double> tied = {top, top, top};
  const std::vector<double> graded = {top, top + 2, top + 4};  // worse matches further down
  const std::vector<double> weak = {p.weak_match_bm25 + 1, p.weak_match_bm25 + 1,
                                    p.weak_match_bm25 + 1};
  // Equal likelihoods: the retriever decides.
  CHECK(choose_reply({-1, -1, -1}, -50, tied, p) == 0);
  CHECK(choose_reply({-1, -1, -1}, -50, graded, p) == 0);
  // Equal bm25: a lower-ranked entry must win by more than rank_prior per rank.
  CHECK(choose_reply({-10, -10 + p.rank_prior + 0.1, -40}, -50, tied, p) == 1);
  CHECK(choose_reply({-10, -10 + p.rank_prior - 0.1, -40}, -50, tied, p) == 0);
  CHECK(choose_reply({-10, -30, -10 + 2 * p.rank_prior + 0.1}, -50, tied, p) == 2);
  // A worse match must also win by bm25_weight per unit of bm25 it is behind the first hit.
  const double behind1 = p.rank_prior + 2 * p.bm25_weight;
  CHECK(choose_reply({-10, -10 + behind1 + 0.1, -40}, -50, graded, p) == 1);
  CHECK(choose_reply({-10, -10 + behind1 - 0.1, -40}, -50, graded, p) == 0);
  // Without one score per entry the bm25 term is left out.
  CHECK(choose_reply({-10, -10 + p.rank_prior + 0.1, -40}, -50, {top, top + 4}, p) == 1);
  // Escalation: only when the model prefers it (within the margin) and the match is weak.
  const double likely = -10 + p.escalate_margin + 0.5;    // within the margin of the choice
  const double unlikely = -10 + p.escalate_margin - 0.5;  // beyond it
  CHECK(choose_reply({-10, -20, -30}, likely, weak, p) == -1);
  CHECK(choose_reply({-10, -20, -30}, likely, tied, p) == 0);
  CHECK(choose_reply({-10, -20, -30}, unlikely, weak, p) == 0);
  CHECK(choose_reply({}, 0, {}, p) == -1);  // nothing retrieved
}

TEST_CASE("tool arguments are pinned to the customer's message") {
  auto dfa = [](std::string_view user_text) {
    auto d = stemma::constrain::compile_regex(reply_regex({"faq-001"}, true, user_text));
    REQUIRE(d.ok());
    return std::move(d).value();
  };
  auto ticket = [](std::string_view summary) {
    return "<tool_call>{\"name\": \"create_ticket\", \"arguments\": {\"summary\": \"" +
           std::string(summary) + "\"}}</tool_call>";
  };
  auto order = [](std::string_view id) {
    return "<tool_call>{\"name\": \"lookup_order\", \"arguments\": {\"order_id\": \"" +
           std::string(id) + "\"}}</tool_call>";
  };
  const auto d = dfa("Please get me an agent, the hub fell off the shelf twice?");
  CHECK(d.matches(ticket("the hub fell off the shelf twice")));
  CHECK(d.matches(ticket("the hub fell off the shelf twice?")));
  CHECK(d.matches(ticket("Please get me an agent, the hub")));
  CHECK(d.matches(ticket("agent")));
  CHECK(d.matches(ticket("agent,")));  // with or without the last word's punctuation
  CHECK(d.matches(ticket("agent, the")));
  CHECK_FALSE(d.matches(ticket("the hub fell off the wall")));
  CHECK_FALSE(d.matches(ticket("hub fell of")));  // whole words only
  CHECK_FALSE(d.matches(ticket("")));
  CHECK(d.matches(order("LM-123456")));  // no order number in the message: a free string
  CHECK(d.matches(order("anything")));
  CHECK(d.matches("{\"answer\": \"x\", \"source_ids\": [\"faq-001\"], \"escalate\": false}"));

  const auto o = dfa("where are LM-123456 and LM-654321?");
  CHECK(o.matches(order("LM-123456")));
  CHECK(o.matches(order("LM-654321")));
  CHECK_FALSE(o.matches(order("LM-111111")));
  CHECK(dfa("order LM-1234567").matches(order("free")));  // 7 digits: no order number

  // Text json.dumps would escape leaves the summary free; no message: both free.
  CHECK(dfa("my \"hub\" broke").matches(ticket("anything at all")));
  CHECK(dfa("").matches(ticket("anything at all")));
}
