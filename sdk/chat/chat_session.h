// ChatSession: a multi-turn conversation with a model, optionally persisted in a ChatStore.
//
//   auto chat = chat::ChatSession::create(runtime, store.get(), "You are terse.");
//   auto reply = (*chat)->send("Hello!");                     // reply->text
//   chat::SessionId id = *(*chat)->id();
//   ... later, in another process ...
//   auto again = chat::ChatSession::resume(runtime, *store, id);
//
// Each send renders the whole conversation with the model's chat template and generates the
// reply. Prompts are kept append-only (program::ConversationPrompt): turn k+1's tokens are
// turn k's prompt, the reply's tokens as generated, and the new text, so the radix cache serves
// the whole earlier conversation; a resumed session encodes its history once, and reuses what
// the cache still holds of it.
//
// History: a user turn that got no reply (the callback cancelled, generation failed, or the
// process died) is left out of later prompts. When the conversation outgrows the context, the
// oldest turns are left out (HistoryPolicy::kDropOldest, the default) or send() is OUT_OF_RANGE
// (kRefuse).
//
// Persistence: the system prompt is turn 0; the user's message is stored before generating
// (a crash while generating keeps it), the reply once it is complete (a cancelled or failed
// generation stores nothing for it). Each store write is one committed transaction.
//
// Threads: calls on one session are serialized; the store may be shared by many sessions.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/api/status.h"
#include "sdk/chat/chat_store.h"
#include "sdk/program/conversation_prompt.h"
#include "sdk/program/gen_options.h"
#include "sdk/program/runtime.h"

namespace stemma::chat {

// What send() does when the conversation no longer fits the model's context (issue 15 item 15).
enum class HistoryPolicy {
  // The oldest turns after the system prompt are left out of the prompt (the store keeps them),
  // down to half the context, so later turns extend the prompt again. The default.
  kDropOldest,
  // OUT_OF_RANGE: the caller must start a new session.
  kRefuse,
};

struct ChatReply {
  std::string text;
  FinishReason finish = FinishReason::kNone;  // kCancelled: the stream callback cancelled
  int64_t prompt_tokens = 0;
  int64_t cached_tokens = 0;  // of the prompt, served from the radix cache
  int64_t generated_tokens = 0;
  bool prompt_extended = false;  // the prompt extended the previous turn's token for token
  int64_t dropped_turns = 0;     // history turns left out of the prompt (HistoryPolicy)
};

class ChatSession {
 public:
  // A new conversation. With a store, a new session is created there (metadata_json: "" or a
  // JSON object) and the system prompt (if any) is stored as its first turn. `store` must
  // outlive the session.
  static Result<std::unique_ptr<ChatSession>> create(std::shared_ptr<program::Runtime> runtime,
                                                     ChatStore* store, std::string system_prompt,
                                                     std::string_view metadata_json = "");
  // Resumes session `id` of `store` (its turns become the history).
  static Result<std::unique_ptr<ChatSession>> resume(std::shared_ptr<program::Runtime> runtime,
                                                     ChatStore& store, SessionId id);

  // Adds the user's message, generates the assistant's reply and returns it. With
  // finish == kCancelled the text is what was generated before the callback cancelled (not kept
  // in the history).
  Result<ChatReply> send(std::string_view user_text, const GenerationOptions& options = {},
                         const program::TextCallback& stream = {});

  void set_history_policy(HistoryPolicy policy);

  // Every turn, as stored (a user turn that got no reply, cancelled or cut by a crash, stays
  // here; the prompt leaves it out, so the model never sees two user turns in a row).
  std::vector<program::Message> history() const;
  // [{"role": "...", "content": "..."}, ...]
  std::string history_json() const;
  // The session's id in its store; nullopt when not persisted.
  std::optional<SessionId> id() const { return id_; }

 private:
  ChatSession(std::shared_ptr<program::Runtime> runtime, ChatStore* store)
      : runtime_(runtime), store_(store), prompt_(std::move(runtime)) {}

  std::shared_ptr<program::Runtime> runtime_;
  ChatStore* store_;
  std::optional<SessionId> id_;
  mutable std::mutex mu_;
  std::vector<program::Message> history_;
  program::ConversationPrompt prompt_;
  HistoryPolicy policy_ = HistoryPolicy::kDropOldest;
  size_t dropped_ = 0;  // turns after the system prompt left out of the prompt

  // The messages the model sees: the system prompt, then `all` from the dropped_-th turn after
  // it, without user turns that got no reply.
  std::vector<program::Message> conversation(const std::vector<program::Message>& all) const;
};

}  // namespace stemma::chat
