#include "sdk/chat/chat_session.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "sdk/program/generate.h"

namespace stemma::chat {

Result<std::unique_ptr<ChatSession>> ChatSession::create(std::shared_ptr<program::Runtime> runtime,
                                                         ChatStore* store,
                                                         std::string system_prompt,
                                                         std::string_view metadata_json) {
  if (!runtime) return InvalidArgument("chat session: no runtime");
  if (!runtime->has_chat_template()) {
    return FailedPrecondition(
        "chat session: the model ships no chat template; set RuntimeOptions::chat_template");
  }
  std::unique_ptr<ChatSession> s(new ChatSession(std::move(runtime), store));
  if (store != nullptr) {
    STEMMA_ASSIGN_OR_RETURN(SessionId id, store->create_session(metadata_json));
    s->id_ = id;
    if (!system_prompt.empty()) {
      STEMMA_RETURN_IF_ERROR(store->append_turn(id, "system", system_prompt).status());
    }
  }
  if (!system_prompt.empty()) s->history_.push_back({"system", std::move(system_prompt)});
  return s;
}

Result<std::unique_ptr<ChatSession>> ChatSession::resume(std::shared_ptr<program::Runtime> runtime,
                                                         ChatStore& store, SessionId id) {
  if (!runtime) return InvalidArgument("chat session: no runtime");
  if (!runtime->has_chat_template()) {
    return FailedPrecondition(
        "chat session: the model ships no chat template; set RuntimeOptions::chat_template");
  }
  STEMMA_ASSIGN_OR_RETURN(std::vector<ChatTurn> turns, store.load_session(id));
  std::unique_ptr<ChatSession> s(new ChatSession(std::move(runtime), &store));
  s->id_ = id;
  for (ChatTurn& t : turns) s->history_.push_back({std::move(t.role), std::move(t.content)});
  return s;
}

void ChatSession::set_history_policy(HistoryPolicy policy) {
  std::lock_guard<std::mutex> lock(mu_);
  policy_ = policy;
}

std::vector<program::Message> ChatSession::conversation(
    const std::vector<program::Message>& all) const {
  std::vector<program::Message> out;
  size_t i = 0;
  if (!all.empty() && all[0].role == "system") out.push_back(all[i++]);
  for (i += dropped_; i < all.size(); ++i) {
    // A user turn followed by another user turn got no reply: leave it out.
    if (all[i].role == "user" && i + 1 < all.size() && all[i + 1].role == "user") continue;
    out.push_back(all[i]);
  }
  return out;
}

Result<ChatReply> ChatSession::send(std::string_view user_text, const GenerationOptions& options,
                                    const program::TextCallback& stream) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<program::Message> messages = history_;
  messages.push_back({"user", std::string(user_text)});
  const size_t first = !messages.empty() && messages[0].role == "system" ? 1 : 0;
  STEMMA_ASSIGN_OR_RETURN(std::vector<int32_t> prompt, prompt_.prompt(conversation(messages)));
  // Too long for the context with room for the reply: leave out the oldest turns (whole
  // exchanges: the kept part starts with a user turn) until the prompt takes half the context.
  const auto ctx = static_cast<int64_t>(runtime_->context_length());
  const int64_t reply_room = std::min<int64_t>(std::max(options.max_tokens, 1), ctx / 2);
  const size_t dropped_before = dropped_;
  if (policy_ == HistoryPolicy::kDropOldest &&
      static_cast<int64_t>(prompt.size()) + reply_room > ctx) {
    while (static_cast<int64_t>(prompt.size()) > ctx / 2) {
      size_t next = first + dropped_ + 1;
      while (next < messages.size() && messages[next].role != "user") ++next;
      if (next >= messages.size()) break;  // the new message alone is left
      dropped_ = next - first;
      STEMMA_ASSIGN_OR_RETURN(prompt, prompt_.prompt(conversation(messages)));
    }
  }
  const bool extended = prompt_.extended();
  // The options are checked before the user's turn is stored: a request the engine would refuse
  // leaves no turn behind (and drops no older turn).
  if (Status st = runtime_->engine().check(options, prompt.size()); !st.ok()) {
    dropped_ = dropped_before;  // nothing was sent
    return st;
  }
  // The user's turn is committed before generating: a crash while generating keeps it.
  if (store_ != nullptr && id_) {
    STEMMA_RETURN_IF_ERROR(store_->append_turn(*id_, "user", user_text).status());
  }
  history_ = std::move(messages);
  STEMMA_ASSIGN_OR_RETURN(program::Generated g,
                          program::generate(*runtime_, std::move(prompt), options, stream));
  ChatReply r;
  r.text = g.text;
  r.finish = g.finish;
  r.prompt_tokens = g.prompt_tokens;
  r.cached_tokens = g.cached_tokens;
  r.generated_tokens = g.generated_tokens;
  r.prompt_extended = extended;
  r.dropped_turns = static_cast<int64_t>(dropped_);
  if (g.finish == FinishReason::kCancelled) return r;
  if (store_ != nullptr && id_) {
    nlohmann::ordered_json extras = {{"finish", finish_reason_name(g.finish)},
                                     {"prompt_tokens", g.prompt_tokens},
                                     {"generated_tokens", g.generated_tokens}};
    STEMMA_RETURN_IF_ERROR(store_->append_turn(*id_, "assistant", g.text, extras.dump()).status());
  }
  history_.push_back({"assistant", g.text});
  prompt_.set_reply(std::move(g.text), std::move(g.tokens));
  return r;
}

std::vector<program::Message> ChatSession::history() const {
  std::lock_guard<std::mutex> lock(mu_);
  return history_;
}

std::string ChatSession::history_json() const {
  std::lock_guard<std::mutex> lock(mu_);
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const auto& m : history_) out.push_back({{"role", m.role}, {"content", m.content}});
  return out.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace stemma::chat
