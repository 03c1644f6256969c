// The FAQ bot, built on the SDK: retrieval (sdk/rag's FaqRetriever) -> the conversation with a
// `context` message (sdk/rag's context_block, rendered by the model's chat template through
// sdk/program's Runtime) -> the model's first token decides between a tool call and a reply ->
// a reply is chosen among the retrieved entries by the model's likelihood of each (sdk/program's
// select) and the retrieval ranking (reply_ranker.h), a tool call is generated under the
// reply/tool-call constraint (a regex the engine compiles) and run through sdk/agent Tools ->
// reply. With rerank off: constrained greedy generation -> grounding check -> reply. Sessions
// persist in sdk/chat's ChatStore.
//
//   auto bot = FaqBot::create({.model_path = "models/stemma-faq.gguf",
//                              .faq_path = "demos/faq-bot/data/faq.json"});
//   Session s = (*bot)->new_session();
//   auto turn = (*bot)->ask(s, "How do I reset my hub?", on_text);
//
// A session's messages only ever grow (earlier turns, their context blocks and tool messages
// stay as they were), as in training, so each turn's prompt extends the previous one and the
// engine's radix cache serves the whole earlier conversation, and the system prompt is shared
// by every session.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "demos/faq-bot/faq_data.h"
#include "demos/faq-bot/faq_prompt.h"
#include "demos/faq-bot/reply.h"
#include "demos/faq-bot/reply_constraint.h"
#include "demos/faq-bot/reply_ranker.h"
#include "engine/api/engine.h"
#include "sdk/agent/tool.h"
#include "sdk/chat/chat_store.h"
#include "sdk/program/runtime.h"
#include "sdk/rag/faq_retriever.h"

namespace stemma::faqbot {

using rag::FaqRetriever;
using rag::ScoredEntry;

struct FaqBotOptions {
  std::string model_path;
  std::string faq_path;
  std::vector<FaqEntry> faq;  // used instead of faq_path when not empty
  int32_t threads = 0;        // engine threads (0: one per hardware thread)
  // Where the model runs (auto: the GPU when the build has CUDA and GPU `device` answers, else
  // the CPU; cuda where there is none is an error). engine().model_info().backend says which.
  Backend backend = Backend::kAuto;
  int32_t device = 0;
  int32_t max_new_tokens = 200;
  bool constrain = true;  // generate under the reply/tool-call automaton
  bool grounding = true;  // replace ungrounded answers by the escalation
  bool tools = true;      // run tool calls (else a tool call ends the turn)
  // Choose replies by likelihood + retrieval rank (reply_ranker.h) instead of greedy decoding.
  bool rerank = true;
  RankPolicy rank_policy;
  int64_t kv_memory_bytes = int64_t{128} << 20;
  std::string sessions_path;  // a ChatStore file to persist sessions in ("" = none)
};

struct Session {
  std::vector<Message> messages;      // system first; append-only
  std::optional<chat::SessionId> id;  // in the ChatStore, when one is open
};

// One generation (assistant turn) within a user turn.
struct Generation {
  std::string text;  // what the model wrote (without <|im_end|>)
  std::vector<int32_t> tokens;
  FinishReason finish = FinishReason::kNone;
  ParsedReply parsed;
  int64_t prompt_tokens = 0;
  int64_t cached_tokens = 0;   // prompt tokens the radix cache served
  int64_t prefill_tokens = 0;  // prompt tokens computed
  double ms = 0;
  double first_token_ms = 0;
  std::string tool_result;  // the tool message that followed, if it was a tool call
  // Set when the reply was chosen by ranking (then `text` is the chosen reply, not sampled;
  // `tokens` holds the one token the model was asked for to tell a reply from a tool call).
  std::optional<RankedReply> ranked;
};

struct TurnResult {
  std::string question;
  std::vector<std::string> retrieved_ids;
  std::vector<Generation> generations;  // 1, or 2 when a tool was called
  ParsedReply reply;        // the final reply shown to the user (after the grounding check)
  std::string reply_json;   // the same, as trained-format JSON
  bool valid_json = false;  // every generation parsed (reply schema or tool call)
  bool grounded = true;     // false: the model's answer failed the check and was replaced
  bool escalated = false;
  std::vector<std::string> tool_calls;  // "name arguments_json"
  double ms = 0;
};

// Receives reply text as it streams: raw model text in pieces, with the index of the generation
// within the turn (0, then 1 for the reply after a tool call). Runs on the engine's thread.
using TextCallback = std::function<void(int generation, std::string_view piece)>;

class FaqBot {
 public:
  static Result<std::unique_ptr<FaqBot>> create(FaqBotOptions options);
  ~FaqBot();

  Session new_session();
  // Resumes a persisted session (needs sessions_path).
  Result<Session> load_session(chat::SessionId id);

  // Answers one user message in `session` (appending to it).
  Result<TurnResult> ask(Session& session, std::string_view question,
                         const TextCallback& on_text = {});

  // The trained prompt for `messages` (+ the assistant generation prompt), as text and as
  // token ids (the model's chat template, through the SDK's Runtime).
  Result<std::string> render_prompt(const std::vector<Message>& messages,
                                    bool add_generation_prompt = true) const;
  std::vector<int32_t> encode_prompt(const std::vector<Message>& messages) const;

  const FaqRetriever& retriever() const { return *retriever_; }
  const TextLayer& text() const { return runtime_->text(); }
  const std::shared_ptr<program::Runtime>& runtime() const { return runtime_; }
  Engine& engine() { return *engine_; }
  const FaqBotOptions& options() const { return options_; }
  chat::ChatStore* store() { return store_.get(); }

 private:
  FaqBot() = default;
  Result<std::vector<int32_t>> prompt_tokens(const std::vector<Message>& messages) const;
  // The options of one assistant turn: greedy, under the reply/tool-call constraint (unless
  // constrain is off), every token sampled (no jump-forward: the model was trained on its own
  // tokenization of the fixed text).
  GenerationOptions turn_options(int32_t max_tokens, const std::vector<std::string>& allowed_ids,
                                 bool allow_tool, std::string_view user_text) const;
  Result<Generation> generate(const std::vector<Message>& messages,
                              const std::vector<std::string>& allowed_ids, bool allow_tool,
                              int index, const TextCallback& on_text);
  // The ranked reply, or a Generation without `ranked` when the model starts a tool call.
  Result<Generation> rank(const std::vector<Message>& messages,
                          const std::vector<ScoredEntry>& retrieved, bool allow_tool,
                          const TextCallback& on_text);
  // Runs a tool call through the registered sdk/agent tools.
  std::string run_tool(const ParsedReply& call) const;
  Status persist(Session& session, size_t from_message);

  FaqBotOptions options_;
  std::unique_ptr<Engine> engine_;
  std::shared_ptr<program::Runtime> runtime_;  // declared after the engine: destroyed first
  std::unique_ptr<FaqRetriever> retriever_;
  std::vector<agent::Tool> tools_;
  std::unique_ptr<chat::ChatStore> store_;
};

}  // namespace stemma::faqbot
