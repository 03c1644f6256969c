// faq-bot: the customer-support FAQ bot on the shipped model (see docs/faq-bot.md).
//
//   faq-bot --model models/stemma-faq.gguf --faq demos/faq-bot/data/faq.json
//       interactive: type a question, watch the answer stream; /stats, /new, /quit
//   ... --ask "How do I reset my hub?" [--ask "..."]     answer these (one session), then exit
//   ... --json --questions FILE                           one JSON object per line and question
//   ... --eval demos/faq-bot/data/eval.json               held-out accuracy, JSON validity, ...
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "demos/faq-bot/answer_stream.h"
#include "demos/faq-bot/faq_bot.h"

namespace stemma::faqbot {
namespace {

struct Args {
  std::string model = "models/stemma-faq.gguf";
  std::string faq = "demos/faq-bot/data/faq.json";
  std::vector<std::string> ask;
  std::string questions;
  std::string eval;
  std::string eval_out;
  std::string sessions;
  int64_t session = 0;
  bool json = false;
  bool multi_turn = false;
  FaqBotOptions bot;
};

const char* kUsage =
    "usage: faq-bot [--model FILE.gguf] [--faq faq.json] [options]\n"
    "  (no mode)            interactive chat: type a question; /stats, /new, /quit\n"
    "  --ask TEXT           answer TEXT (repeatable: one multi-turn session) and exit\n"
    "  --questions FILE     answer each line of FILE (text, or JSON with \"question\")\n"
    "  --json               print one JSON object per answered question\n"
    "  --multi-turn         with --questions: one session for all questions\n"
    "  --eval eval.json     run the held-out set; print accuracy, JSON validity, escalation\n"
    "  --eval-out FILE      with --eval: per-item results as JSON lines\n"
    "  --sessions FILE      persist sessions in this SQLite file (ChatStore)\n"
    "  --session ID         resume a persisted session (interactive / --ask)\n"
    "  --threads N          engine threads (default: all cores)\n"
    "  --backend NAME       auto (default: the GPU if this build has CUDA and one answers),\n"
    "                       cpu or cuda\n"
    "  --device N           GPU index for cuda and auto (default 0)\n"
    "  --max-tokens N       tokens per assistant turn (default 200)\n"
    "  --no-constrain       sample without the reply automaton\n"
    "  --no-grounding       show answers even when they cite no retrieved entry\n"
    "  --no-rerank          greedy replies instead of ranking the retrieved entries\n"
    "  --no-tools           do not run tool calls\n";

int usage_error(const std::string& msg) {
  std::fprintf(stderr, "faq-bot: %s\n%s", msg.c_str(), kUsage);
  return 2;
}

bool parse_args(int argc, char** argv, Args* a, int* rc) {
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= argc) {
        *rc = usage_error(k + " needs a value");
        return false;
      }
      *out = argv[++i];
      return true;
    };
    std::string v;
    if (k == "--help" || k == "-h") {
      std::fputs(kUsage, stdout);
      *rc = 0;
      return false;
    } else if (k == "--model") {
      if (!value(&a->model)) return false;
    } else if (k == "--faq") {
      if (!value(&a->faq)) return false;
    } else if (k == "--ask") {
      if (!value(&v)) return false;
      a->ask.push_back(v);
    } else if (k == "--questions") {
      if (!value(&a->questions)) return false;
    } else if (k == "--eval") {
      if (!value(&a->eval)) return false;
    } else if (k == "--eval-out") {
      if (!value(&a->eval_out)) return false;
    } else if (k == "--sessions") {
      if (!value(&a->sessions)) return false;
    } else if (k == "--backend") {
      if (!value(&v)) return false;
      auto b = backend_from_name(v);
      if (!b.ok()) {
        *rc = usage_error("--backend: " + b.status().message());
        return false;
      }
      a->bot.backend = *b;
    } else if (k == "--session" || k == "--threads" || k == "--max-tokens" || k == "--device") {
      if (!value(&v)) return false;
      char* end = nullptr;
      const long long n = std::strtoll(v.c_str(), &end, 10);
      if (end == v.c_str() || *end != 0 || n < 0 || n > 1000000) {
        *rc = usage_error(k + " needs a non-negative integer, got '" + v + "'");
        return false;
      }
      if (k == "--session") a->session = n;
      if (k == "--threads") a->bot.threads = static_cast<int32_t>(n);
      if (k == "--max-tokens") a->bot.max_new_tokens = static_cast<int32_t>(n);
      if (k == "--device") a->bot.device = static_cast<int32_t>(n);
    } else if (k == "--json") {
      a->json = true;
    } else if (k == "--multi-turn") {
      a->multi_turn = true;
    } else if (k == "--no-constrain") {
      a->bot.constrain = false;
    } else if (k == "--no-grounding") {
      a->bot.grounding = false;
    } else if (k == "--no-tools") {
      a->bot.tools = false;
    } else if (k == "--no-rerank") {
      a->bot.rerank = false;
    } else {
      *rc = usage_error("unknown argument '" + k + "'");
      return false;
    }
  }
  if (a->bot.max_new_tokens < 1) {
    *rc = usage_error("--max-tokens must be >= 1");
    return false;
  }
  return true;
}

nlohmann::json reply_object(const ParsedReply& r) {
  return {{"answer", r.answer}, {"source_ids", r.source_ids}, {"escalate", r.escalate}};
}

nlohmann::json turn_json(const TurnResult& t) {
  nlohmann::json gens = nlohmann::json::array();
  int64_t prompt = 0, cached = 0, prefill = 0, generated = 0;
  double first_token_ms = 0;
  for (size_t i = 0; i < t.generations.size(); ++i) {
    const Generation& g = t.generations[i];
    nlohmann::json j = {{"text", g.text},
                        {"finish", finish_reason_name(g.finish)},
                        {"tokens", g.tokens.size()},
                        {"prompt_tokens", g.prompt_tokens},
                        {"cached_tokens", g.cached_tokens},
                        {"ms", g.ms}};
    if (!g.tool_result.empty()) j["tool_result"] = g.tool_result;
    if (g.ranked) {
      j["ranked"] = {{"ids", g.ranked->ids},
                     {"bm25", g.ranked->bm25},
                     {"logprobs", g.ranked->logprobs},
                     {"escalate_logprob", g.ranked->escalate_logprob},
                     {"chosen", g.ranked->chosen}};
    }
    gens.push_back(std::move(j));
    prompt += g.prompt_tokens;
    cached += g.cached_tokens;
    prefill += g.prefill_tokens;
    generated += static_cast<int64_t>(g.tokens.size());
    if (i == 0) first_token_ms = g.first_token_ms;
  }
  return {{"question", t.question},
          {"reply", reply_object(t.reply)},
          {"cited_ids", t.reply.source_ids},
          {"escalated", t.escalated},
          {"grounded", t.grounded},
          {"valid_json", t.valid_json},
          {"retrieved_ids", t.retrieved_ids},
          {"tool_calls", t.tool_calls},
          {"generations", gens},
          {"timing",
           {{"ms", t.ms},
            {"first_token_ms", first_token_ms},
            {"generated_tokens", generated},
            {"tokens_per_s", t.ms > 0 ? 1000.0 * static_cast<double>(generated) / t.ms : 0.0}}},
          {"cache",
           {{"prompt_tokens", prompt},
            {"cached_tokens", cached},
            {"prefill_tokens", prefill},
            {"hit_rate",
             prompt > 0 ? static_cast<double>(cached) / static_cast<double>(prompt) : 0.0}}}};
}

void print_stats(Engine& engine) {
  const EngineStats s = engine.stats();
  std::printf(
      "[engine] on %s; prompt tokens: %lld from the radix cache, %lld computed (hit rate "
      "%.1f%%); %lld generated in %lld steps; KV pages %d in use, %d cached, %d total\n",
      engine.model_info().backend.c_str(), static_cast<long long>(s.cached_tokens),
      static_cast<long long>(s.prefill_tokens), 100.0 * s.cache_hit_rate(),
      static_cast<long long>(s.generated_tokens), static_cast<long long>(s.steps), s.pages_in_use,
      s.cached_pages, s.pages_total);
}

// Asks one question with the answer streaming to the terminal, then a line of figures.
Status ask_streaming(FaqBot& bot, Session& session, const std::string& question) {
  std::printf("\nyou> %s\nlumi> ", question.c_str());
  std::fflush(stdout);
  AnswerStreamer streamer;
  int shown_generation = 0;
  auto turn = bot.ask(session, question, [&](int generation, std::string_view piece) {
    if (generation != shown_generation) {  // the reply after a tool call: a new JSON object
      shown_generation = generation;
      streamer = AnswerStreamer();
      std::printf("[tool called] ");
    }
    std::string shown = streamer.feed(piece);
    if (!shown.empty()) std::fwrite(shown.data(), 1, shown.size(), stdout);
    std::fflush(stdout);
  });
  if (!turn.ok()) {
    std::printf("\n");
    return turn.status();
  }
  const TurnResult& t = turn.value();
  if (!t.grounded) {
    std::printf("\n      (not backed by a retrieved FAQ entry: escalating)\nlumi> %s",
                t.reply.answer.c_str());
  }
  std::printf("\n");
  for (const auto& call : t.tool_calls) std::printf("      tool call: %s\n", call.c_str());
  for (const auto& g : t.generations) {
    if (!g.tool_result.empty()) std::printf("      tool result: %s\n", g.tool_result.c_str());
  }
  std::printf("      reply: %s\n", t.reply_json.c_str());
  int64_t prompt = 0, cached = 0, generated = 0;
  for (const auto& g : t.generations) {
    prompt += g.prompt_tokens;
    cached += g.cached_tokens;
    generated += static_cast<int64_t>(g.tokens.size());
  }
  std::string retrieved;
  for (const auto& id : t.retrieved_ids) retrieved += (retrieved.empty() ? "" : " ") + id;
  std::printf(
      "      [retrieved: %s | %.0f ms, first token %.0f ms, %lld tokens generated | prompt %lld "
      "tokens, %lld from the radix cache]\n",
      retrieved.empty() ? "(none)" : retrieved.c_str(), t.ms,
      t.generations.empty() ? 0.0 : t.generations[0].first_token_ms,
      static_cast<long long>(generated), static_cast<long long>(prompt),
      static_cast<long long>(cached));
  return OkStatus();
}

Result<std::vector<std::string>> read_questions(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFound("cannot open " + path);
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    if (line[0] == '{') {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_object() && j.contains("question") && j["question"].is_string()) {
        out.push_back(j["question"].get<std::string>());
        continue;
      }
    }
    out.push_back(line);
  }
  return out;
}

struct Rate {
  int64_t hit = 0, total = 0;
  void add(bool ok) {
    hit += ok ? 1 : 0;
    ++total;
  }
  nlohmann::json json() const {
    return {{"correct", hit},
            {"total", total},
            {"rate", total ? static_cast<double>(hit) / static_cast<double>(total) : 0.0}};
  }
};

Status run_eval(FaqBot& bot, const Args& a) {
  STEMMA_ASSIGN_OR_RETURN(std::vector<EvalItem> items, load_eval(a.eval));
  std::ofstream per_item;
  if (!a.eval_out.empty()) {
    per_item.open(a.eval_out);
    if (!per_item) return IoError("cannot write " + a.eval_out);
  }
  std::map<std::string, Rate> m;
  double total_ms = 0;
  int64_t prompt = 0, cached = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    const EvalItem& it = items[i];
    Session s = bot.new_session();
    STEMMA_ASSIGN_OR_RETURN(TurnResult t, bot.ask(s, it.question));
    total_ms += t.ms;
    for (const auto& g : t.generations) {
      prompt += g.prompt_tokens;
      cached += g.cached_tokens;
    }
    const ParsedReply& model = t.generations.back().parsed;  // before the grounding check
    m["retrieval_same_as_training"].add(t.retrieved_ids == it.retrieved_ids);
    m["valid_json"].add(t.valid_json);
    if (it.kind == "faq") {
      const bool cites_gold = t.reply.source_ids.size() == 1 && it.gold_source_id &&
                              t.reply.source_ids[0] == *it.gold_source_id;
      const bool model_cites_gold = model.kind == ParsedReply::Kind::kAnswer &&
                                    model.source_ids.size() == 1 && it.gold_source_id &&
                                    model.source_ids[0] == *it.gold_source_id;
      const bool expected =
          t.reply.source_ids == it.expected_source_ids && t.escalated == it.expected_escalate;
      m["faq_cites_gold"].add(cites_gold);
      m["faq_cites_gold_" + it.phrasing].add(cites_gold);
      m["faq_cites_gold_before_grounding"].add(model_cites_gold);
      m["faq_expected_reply"].add(expected);
      m["faq_expected_reply_" + it.phrasing].add(expected);
      m["faq_escalated"].add(t.escalated);
      m["faq_retriever_found_gold"].add(it.gold_retrieved);
      if (it.gold_retrieved) m["faq_gold_retrieved_cites_gold"].add(cites_gold);
      if (!it.gold_retrieved) m["faq_gold_missed_escalated"].add(t.escalated);
      m["faq_wrong_entry_cited"].add(!t.escalated && !cites_gold);
    } else if (it.kind == "out_of_scope") {
      m["out_of_scope_escalated"].add(t.escalated);
    } else if (it.kind == "tool") {
      bool right = false;
      if (!t.tool_calls.empty()) {
        right = t.tool_calls[0] == it.expected_tool + " " + it.expected_tool_arguments_json;
      }
      m["tool_call_exact"].add(right);
      m["tool_call_exact_" + it.expected_tool].add(right);
      m["tool_called_right_tool"].add(!t.tool_calls.empty() &&
                                      t.tool_calls[0].starts_with(it.expected_tool + " "));
    }
    if (per_item) {
      nlohmann::json j = turn_json(t);
      j["id"] = it.id;
      j["kind"] = it.kind;
      per_item << j.dump() << "\n";
    }
    if ((i + 1) % 25 == 0) {
      std::fprintf(stderr, "eval: %zu/%zu\n", i + 1, items.size());
    }
  }
  nlohmann::json out;
  for (auto& [k, r] : m) out[k] = r.json();
  out["items"] = items.size();
  out["mean_ms_per_question"] = items.empty() ? 0.0 : total_ms / static_cast<double>(items.size());
  out["prompt_tokens"] = prompt;
  out["cached_prompt_tokens"] = cached;
  out["cache_hit_rate"] = prompt ? static_cast<double>(cached) / static_cast<double>(prompt) : 0.0;
  out["constrained"] = bot.options().constrain;
  out["grounding"] = bot.options().grounding;
  out["rerank"] = bot.options().rerank;
  std::printf("%s\n", out.dump(1).c_str());
  std::printf(
      "eval: right FAQ entry cited %lld/%lld (held-out phrasings %lld/%lld, fresh phrasings "
      "%lld/%lld; %.1f%%; %.1f%% before the grounding check), valid JSON %lld/%lld, "
      "out-of-scope escalated %lld/%lld, tool calls exact %lld/%lld\n",
      static_cast<long long>(m["faq_cites_gold"].hit),
      static_cast<long long>(m["faq_cites_gold"].total),
      static_cast<long long>(m["faq_cites_gold_held_out"].hit),
      static_cast<long long>(m["faq_cites_gold_held_out"].total),
      static_cast<long long>(m["faq_cites_gold_fresh"].hit),
      static_cast<long long>(m["faq_cites_gold_fresh"].total),
      100.0 * static_cast<double>(m["faq_cites_gold"].hit) /
          static_cast<double>(std::max<int64_t>(1, m["faq_cites_gold"].total)),
      100.0 * static_cast<double>(m["faq_cites_gold_before_grounding"].hit) /
          static_cast<double>(std::max<int64_t>(1, m["faq_cites_gold_before_grounding"].total)),
      static_cast<long long>(m["valid_json"].hit), static_cast<long long>(m["valid_json"].total),
      static_cast<long long>(m["out_of_scope_escalated"].hit),
      static_cast<long long>(m["out_of_scope_escalated"].total),
      static_cast<long long>(m["tool_call_exact"].hit),
      static_cast<long long>(m["tool_call_exact"].total));
  return OkStatus();
}

int run(int argc, char** argv) {
  Args a;
  int rc = 2;
  if (!parse_args(argc, argv, &a, &rc)) return rc;
  a.bot.model_path = a.model;
  a.bot.faq_path = a.faq;
  a.bot.sessions_path = a.sessions;
  auto created = FaqBot::create(a.bot);
  if (!created.ok()) {
    std::fprintf(stderr, "faq-bot: %s\n", created.status().to_string().c_str());
    return 1;
  }
  FaqBot& bot = *created.value();
  auto fail = [](const Status& s) {
    std::fprintf(stderr, "faq-bot: %s\n", s.to_string().c_str());
    return 1;
  };

  if (!a.eval.empty()) {
    Status s = run_eval(bot, a);
    return s.ok() ? 0 : fail(s);
  }

  Session session = bot.new_session();
  if (a.session > 0) {
    auto loaded = bot.load_session(a.session);
    if (!loaded.ok()) return fail(loaded.status());
    session = std::move(loaded.value());
  }

  std::vector<std::string> questions = a.ask;
  if (!a.questions.empty()) {
    auto q = read_questions(a.questions);
    if (!q.ok()) return fail(q.status());
    questions.insert(questions.end(), q.value().begin(), q.value().end());
  }
  if (!questions.empty()) {
    const bool one_session = !a.ask.empty() || a.multi_turn;
    for (const std::string& q : questions) {
      if (!one_session) session = bot.new_session();
      if (a.json) {
        auto t = bot.ask(session, q);
        if (!t.ok()) return fail(t.status());
        std::printf("%s\n", turn_json(t.value()).dump().c_str());
        std::fflush(stdout);
      } else {
        Status s = ask_streaming(bot, session, q);
        if (!s.ok()) return fail(s);
      }
    }
    if (!a.json) {
      std::printf("\n");
      print_stats(bot.engine());
      if (session.id) std::printf("[session %lld saved]\n", static_cast<long long>(*session.id));
    }
    return 0;
  }

  std::printf("Lumi, the Lumora Home support bot (%s). Ask a question; /stats, /new, /quit.\n",
              a.model.c_str());
  std::string line;
  while (true) {
    std::printf("\n> ");
    std::fflush(stdout);
    if (!std::getline(std::cin, line)) break;
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    if (line == "/quit" || line == "/exit") break;
    if (line == "/stats") {
      print_stats(bot.engine());
      continue;
    }
    if (line == "/new") {
      session = bot.new_session();
      std::printf("(new session)\n");
      continue;
    }
    Status s = ask_streaming(bot, session, line);
    if (!s.ok()) std::fprintf(stderr, "faq-bot: %s\n", s.to_string().c_str());
  }
  if (session.id) std::printf("[session %lld saved]\n", static_cast<long long>(*session.id));
  return 0;
}

}  // namespace
}  // namespace stemma::faqbot

int main(int argc, char** argv) {
  return stemma::faqbot::run(argc, argv);
}
