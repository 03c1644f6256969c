#include "demos/faq-bot/faq_bot.h"

#include <chrono>
#include <mutex>

#include "demos/faq-bot/fake_tools.h"
#include "demos/faq-bot/reply_scorer.h"
#include "sdk/program/generate.h"
#include "sdk/rag/context_message.h"

namespace stemma::faqbot {
namespace {

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

FaqBot::~FaqBot() = default;

Result<std::unique_ptr<FaqBot>> FaqBot::create(FaqBotOptions options) {
  std::unique_ptr<FaqBot> bot(new FaqBot());
  std::vector<FaqEntry> faq = std::move(options.faq);
  if (faq.empty()) {
    if (options.faq_path.empty()) return InvalidArgument("FaqBotOptions: set faq or faq_path");
    STEMMA_ASSIGN_OR_RETURN(faq, load_faq(options.faq_path));
  }
  STEMMA_ASSIGN_OR_RETURN(bot->retriever_, FaqRetriever::create(std::move(faq)));

  EngineOptions eo;
  eo.model_path = options.model_path;
  eo.threads = options.threads;
  eo.backend = options.backend;
  eo.device = options.device;
  eo.kv_memory_bytes = options.kv_memory_bytes;
  STEMMA_ASSIGN_OR_RETURN(bot->engine_, Engine::open(std::move(eo)));
  auto runtime = program::Runtime::create(*bot->engine_);
  if (!runtime.ok()) return runtime.status().with_context(options.model_path);
  bot->runtime_ = std::move(runtime).value();
  if (!bot->runtime_->has_chat_template()) {
    return InvalidArgument(options.model_path + ": carries no chat template");
  }
  bot->tools_ = fake_tools();

  if (!options.sessions_path.empty()) {
    STEMMA_ASSIGN_OR_RETURN(bot->store_, chat::ChatStore::open(options.sessions_path));
  }
  bot->options_ = std::move(options);
  return bot;
}

Session FaqBot::new_session() {
  Session s;
  s.messages.push_back({"system", kSystemPrompt});
  return s;
}

Result<Session> FaqBot::load_session(chat::SessionId id) {
  if (!store_) return FailedPrecondition("no session store is open (set sessions_path)");
  STEMMA_ASSIGN_OR_RETURN(std::vector<chat::ChatTurn> turns, store_->load_session(id));
  Session s;
  s.id = id;
  for (auto& t : turns) s.messages.push_back({t.role, t.content});
  if (s.messages.empty() || s.messages[0].role != "system") {
    s.messages.insert(s.messages.begin(), {"system", kSystemPrompt});
  }
  return s;
}

Result<std::string> FaqBot::render_prompt(const std::vector<Message>& messages,
                                          bool add_generation_prompt) const {
  return runtime_->render_chat(messages, nullptr, add_generation_prompt);
}

std::vector<int32_t> FaqBot::encode_prompt(const std::vector<Message>& messages) const {
  auto text = render_prompt(messages, /*add_generation_prompt=*/true);
  return text.ok() ? runtime_->encode_prompt(*text) : std::vector<int32_t>{};
}

Result<std::vector<int32_t>> FaqBot::prompt_tokens(const std::vector<Message>& messages) const {
  STEMMA_ASSIGN_OR_RETURN(std::string text, render_prompt(messages, true));
  std::vector<int32_t> prompt = runtime_->encode_prompt(text);
  const int64_t n = static_cast<int64_t>(prompt.size());
  const int64_t context = runtime_->context_length();
  if (n + options_.max_new_tokens > context) {
    return OutOfRange("the conversation has " + std::to_string(n) + " tokens; with " +
                      std::to_string(options_.max_new_tokens) +
                      " for the reply it exceeds the model's context of " +
                      std::to_string(context) + " (start a new session)");
  }
  return prompt;
}

GenerationOptions FaqBot::turn_options(int32_t max_tokens,
                                       const std::vector<std::string>& allowed_ids, bool allow_tool,
                                       std::string_view user_text) const {
  GenerationOptions o;
  o.max_tokens = max_tokens;
  o.temperature = 0;  // greedy, as the model was evaluated
  o.jump_forward = false;
  if (options_.constrain) o.regex = reply_regex(allowed_ids, allow_tool, user_text);
  return o;
}

std::string FaqBot::run_tool(const ParsedReply& call) const {
  for (const agent::Tool& t : tools_) {
    if (t.name != call.tool_name) continue;
    auto result = t.fn(call.tool_arguments_json);
    return result.ok() ? *result : result.status().message();
  }
  return run_fake_tool(call.tool_name, call.tool_arguments_json).result_json;  // unknown tool
}

Result<Generation> FaqBot::rank(const std::vector<Message>& messages,
                                const std::vector<ScoredEntry>& retrieved, bool allow_tool,
                                const TextCallback& on_text) {
  Generation g;
  STEMMA_ASSIGN_OR_RETURN(std::vector<int32_t> prompt, prompt_tokens(messages));
  g.prompt_tokens = static_cast<int64_t>(prompt.size());
  std::vector<std::string> ids;
  for (const ScoredEntry& s : retrieved) ids.push_back(s.entry->id);
  const auto t0 = std::chrono::steady_clock::now();

  // One constrained greedy token: <tool_call> or the reply's first token. It also puts the
  // prompt in the radix cache, so the scoring requests below compute only their replies.
  const GenerationOptions probe = turn_options(1, ids, allow_tool, {});
  STEMMA_ASSIGN_OR_RETURN(RequestOutput first, engine_->generate(std::move(prompt), probe));
  if (first.finish == FinishReason::kError) return first.error.with_context("generation failed");
  g.first_token_ms = ms_since(t0);
  g.tokens = first.tokens;
  const int32_t tool_open = runtime_->text().token_to_id(kToolCallOpen);
  if (!first.tokens.empty() && first.tokens[0] == tool_open && tool_open >= 0) {
    return g;  // a tool call: the caller generates it
  }

  RankedReply ranked;
  std::vector<ReplyToScore> replies;
  for (const ScoredEntry& s : retrieved) {
    ranked.ids.push_back(s.entry->id);
    ranked.bm25.push_back(s.bm25);
    replies.push_back({messages, reply_json(s.entry->answer, {s.entry->id}, false)});
  }
  replies.push_back({messages, reply_json(kEscalateAnswer, {}, true)});
  STEMMA_ASSIGN_OR_RETURN(std::vector<double> scores, score_replies(runtime_, replies));
  ranked.escalate_logprob = scores.back();
  scores.pop_back();
  ranked.logprobs = scores;
  ranked.chosen =
      choose_reply(ranked.logprobs, ranked.escalate_logprob, ranked.bm25, options_.rank_policy);
  g.text =
      ranked.chosen >= 0 ? replies[static_cast<size_t>(ranked.chosen)].reply : replies.back().reply;
  g.parsed = parse_reply(g.text);
  g.finish = FinishReason::kStopToken;
  g.ranked = std::move(ranked);
  g.ms = ms_since(t0);
  // The prompt's figures (the probe's); the scoring requests each reuse the whole prompt from
  // the cache and compute only their reply's tokens.
  g.cached_tokens = first.cached_tokens;
  g.prefill_tokens = g.prompt_tokens - first.cached_tokens;
  if (on_text) on_text(0, g.text);
  return g;
}

Result<Generation> FaqBot::generate(const std::vector<Message>& messages,
                                    const std::vector<std::string>& allowed_ids, bool allow_tool,
                                    int index, const TextCallback& on_text) {
  Generation g;
  STEMMA_ASSIGN_OR_RETURN(std::vector<int32_t> prompt, prompt_tokens(messages));
  g.prompt_tokens = static_cast<int64_t>(prompt.size());
  // Tool arguments are pinned to the customer's last message (reply_constraint.h).
  std::string_view user_text;
  for (auto it = messages.rbegin(); it != messages.rend(); ++it) {
    if (it->role == "user") {
      user_text = it->content;
      break;
    }
  }
  const GenerationOptions o =
      turn_options(options_.max_new_tokens, allowed_ids, allow_tool, user_text);
  const auto t0 = std::chrono::steady_clock::now();
  // Streaming: the callback runs on the engine's thread; it only hands the text on.
  struct StreamState {
    std::mutex mu;
    bool first = true;
    double first_ms = 0;
  };
  auto stream = std::make_shared<StreamState>();
  program::TextCallback cb = [stream, t0, index, &on_text](std::string_view piece) {
    std::lock_guard<std::mutex> lock(stream->mu);
    if (stream->first) {
      stream->first = false;
      stream->first_ms = ms_since(t0);
    }
    if (on_text) on_text(index, piece);
    return true;
  };
  STEMMA_ASSIGN_OR_RETURN(program::Generated out,
                          program::generate(*runtime_, std::move(prompt), o, cb));
  g.ms = ms_since(t0);
  {
    std::lock_guard<std::mutex> lock(stream->mu);
    g.first_token_ms = stream->first_ms;
  }
  g.cached_tokens = out.cached_tokens;
  g.prefill_tokens = out.prompt_tokens - out.cached_tokens;
  g.finish = out.finish;
  g.tokens = std::move(out.tokens);
  g.text = std::move(out.text);
  g.parsed = parse_reply(g.text);
  return g;
}

Result<TurnResult> FaqBot::ask(Session& session, std::string_view question,
                               const TextCallback& on_text) {
  const auto t0 = std::chrono::steady_clock::now();
  if (session.messages.empty()) session.messages.push_back({"system", kSystemPrompt});
  const size_t first_new = session.messages.size();
  TurnResult r;
  r.question = std::string(question);
  STEMMA_ASSIGN_OR_RETURN(std::vector<ScoredEntry> scored, retriever_->search_scored(question));
  std::vector<const FaqEntry*> retrieved;
  for (const ScoredEntry& s : scored) retrieved.push_back(s.entry);
  for (const FaqEntry* e : retrieved) r.retrieved_ids.push_back(e->id);

  std::vector<Message> messages = session.messages;
  messages.push_back({"user", std::string(question)});
  messages.push_back({std::string(rag::kContextRole), rag::context_block(retrieved)});

  r.valid_json = true;
  bool after_tool = false;
  for (int step = 0; step < 2; ++step) {
    const bool allow_tool = options_.tools && step == 0;
    Generation g;
    if (options_.rerank && step == 0) {
      STEMMA_ASSIGN_OR_RETURN(g, rank(messages, scored, allow_tool, on_text));
    }
    if (!g.ranked) {  // no ranking, a tool call, or the reply after a tool call
      STEMMA_ASSIGN_OR_RETURN(g, generate(messages, r.retrieved_ids, allow_tool, step, on_text));
    }
    if (g.parsed.kind == ParsedReply::Kind::kInvalid) r.valid_json = false;
    messages.push_back({"assistant", g.text});
    const ParsedReply parsed = g.parsed;
    r.generations.push_back(std::move(g));
    if (parsed.kind == ParsedReply::Kind::kToolCall && options_.tools && step == 0) {
      r.tool_calls.push_back(parsed.tool_name + " " + parsed.tool_arguments_json);
      const std::string result = run_tool(parsed);
      r.generations.back().tool_result = result;
      messages.push_back({"tool", result});
      after_tool = true;
      continue;
    }
    r.reply = parsed;
    break;
  }

  // Grounding: an answer not backed by a retrieved entry (or a turn that never produced a
  // reply) becomes the escalation. Answers after a tool call are backed by the tool result.
  bool ok = r.reply.kind == ParsedReply::Kind::kAnswer;
  if (ok && options_.grounding && !after_tool) ok = is_grounded(r.reply, retrieved);
  if (!ok) {
    r.grounded = false;
    ParsedReply esc;
    esc.kind = ParsedReply::Kind::kAnswer;
    esc.answer = kEscalateAnswer;
    esc.escalate = true;
    r.reply = esc;
    // The history keeps what the customer was told, so later turns follow on from it.
    messages.back() = {"assistant", reply_json(esc.answer, {}, true)};
  }
  r.reply_json = reply_json(r.reply.answer, r.reply.source_ids, r.reply.escalate);
  r.escalated = r.reply.escalate;
  session.messages = std::move(messages);
  if (store_) STEMMA_RETURN_IF_ERROR(persist(session, first_new));
  r.ms = ms_since(t0);
  return r;
}

Status FaqBot::persist(Session& session, size_t from_message) {
  if (!session.id) {
    STEMMA_ASSIGN_OR_RETURN(session.id, store_->create_session("{\"app\": \"faq-bot\"}"));
    from_message = 0;
  }
  for (size_t i = from_message; i < session.messages.size(); ++i) {
    const Message& m = session.messages[i];
    STEMMA_RETURN_IF_ERROR(store_->append_turn(*session.id, m.role, m.content).status());
  }
  return OkStatus();
}

}  // namespace stemma::faqbot
