#include "demos/faq-bot/faq_bot.h"

#include <chrono>
#include <mutex>

#include "demos/faq-bot/fake_tools.h"
#include "demos/faq-bot/reply_scorer.h"
#include "engine/engine_internal.h"
#include "engine/model/model_loader.h"

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

  STEMMA_ASSIGN_OR_RETURN(LoadedModel loaded, load_model(options.model_path));
  if (!loaded.tokenizer) return InvalidArgument(options.model_path + ": carries no tokenizer");
  STEMMA_ASSIGN_OR_RETURN(bot->tokenizer_, Tokenizer::create(*loaded.tokenizer));
  if (loaded.config.max_position > 0) {
    bot->context_length_ = static_cast<int32_t>(loaded.config.max_position);
  }
  STEMMA_ASSIGN_OR_RETURN(bot->constraints_, ReplyConstraints::create(*bot->tokenizer_));

  EngineOptions eo;
  eo.threads = options.threads;
  eo.kv_memory_bytes = options.kv_memory_bytes;
  STEMMA_ASSIGN_OR_RETURN(
      bot->engine_,
      internal::open_engine(std::move(eo),
                            {.model = std::make_shared<const LoadedModel>(std::move(loaded))}));

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

std::vector<int32_t> FaqBot::encode_prompt(const std::vector<Message>& messages) const {
  return tokenizer_->encode(render_chat(messages, /*add_generation_prompt=*/true));
}

Result<std::vector<int32_t>> FaqBot::prompt_tokens(const std::vector<Message>& messages) const {
  std::vector<int32_t> prompt = encode_prompt(messages);
  const int64_t n = static_cast<int64_t>(prompt.size());
  if (n + options_.max_new_tokens > context_length_) {
    return OutOfRange("the conversation has " + std::to_string(n) + " tokens; with " +
                      std::to_string(options_.max_new_tokens) +
                      " for the reply it exceeds the model's context of " +
                      std::to_string(context_length_) + " (start a new session)");
  }
  return prompt;
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
  SamplingOptions probe;
  probe.max_tokens = 1;
  probe.temperature = 0;
  if (options_.constrain) {
    STEMMA_ASSIGN_OR_RETURN(auto compiled, constraints_->get(ids, allow_tool));
    probe.logits_processor = std::make_shared<ConstraintLogitsProcessor>(std::move(compiled));
  }
  STEMMA_ASSIGN_OR_RETURN(RequestOutput first,
                          internal::generate(*engine_, std::move(prompt), probe));
  if (first.finish == FinishReason::kError) return first.error.with_context("generation failed");
  g.first_token_ms = ms_since(t0);
  g.tokens = first.tokens;
  const int32_t tool_open = tokenizer_->token_to_id(kToolCallOpen);
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
  STEMMA_ASSIGN_OR_RETURN(std::vector<double> scores,
                          score_replies(*engine_, *tokenizer_, replies));
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
  SamplingOptions so;
  so.max_tokens = options_.max_new_tokens;
  so.temperature = 0;  // greedy, as the model was evaluated
  if (options_.constrain) {
    // Tool arguments are pinned to the customer's last message (reply_constraint.h).
    std::string_view user_text;
    for (auto it = messages.rbegin(); it != messages.rend(); ++it) {
      if (it->role == "user") {
        user_text = it->content;
        break;
      }
    }
    STEMMA_ASSIGN_OR_RETURN(auto compiled, constraints_->get(allowed_ids, allow_tool, user_text));
    so.logits_processor = std::make_shared<ConstraintLogitsProcessor>(std::move(compiled));
  }
  const EngineStats before = engine_->stats();
  const auto t0 = std::chrono::steady_clock::now();

  // Streaming: the callback runs on the engine's thread; it only decodes and hands text on.
  struct StreamState {
    std::mutex mu;
    StreamDecoder decoder;
    bool first = true;
    double first_ms = 0;
    explicit StreamState(const Tokenizer& t) : decoder(t) {}
  };
  auto stream = std::make_shared<StreamState>(*tokenizer_);
  const int32_t eos = tokenizer_->eos_id();
  StreamCallback cb = [stream, eos, t0, index, &on_text](const StreamEvent& e) {
    std::lock_guard<std::mutex> lock(stream->mu);
    for (int32_t id : e.tokens) {
      if (stream->first) {
        stream->first = false;
        stream->first_ms = ms_since(t0);
      }
      if (id == eos) continue;
      auto piece = stream->decoder.push(id);
      if (piece.ok() && !piece.value().empty() && on_text) on_text(index, piece.value());
    }
    if (e.finish != FinishReason::kNone && on_text) {
      std::string rest = stream->decoder.flush();
      if (!rest.empty()) on_text(index, rest);
    }
  };
  STEMMA_ASSIGN_OR_RETURN(RequestId rid,
                          internal::submit(*engine_, std::move(prompt), std::move(so), cb));
  STEMMA_ASSIGN_OR_RETURN(RequestOutput out, engine_->wait(rid));
  g.ms = ms_since(t0);
  {
    std::lock_guard<std::mutex> lock(stream->mu);
    g.first_token_ms = stream->first_ms;
  }
  if (out.finish == FinishReason::kError) return out.error.with_context("generation failed");
  const EngineStats after = engine_->stats();
  g.cached_tokens = after.cached_tokens - before.cached_tokens;
  g.prefill_tokens = after.prefill_tokens - before.prefill_tokens;
  g.finish = out.finish;
  g.tokens = std::move(out.tokens);
  std::vector<int32_t> text_ids = g.tokens;
  if (!text_ids.empty() && text_ids.back() == eos) text_ids.pop_back();
  STEMMA_ASSIGN_OR_RETURN(g.text, tokenizer_->decode(text_ids));
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
  messages.push_back({"context", context_block(retrieved)});

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
      ToolResult tool = run_fake_tool(parsed.tool_name, parsed.tool_arguments_json);
      r.generations.back().tool_result = tool.result_json;
      messages.push_back({"tool", tool.result_json});
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
