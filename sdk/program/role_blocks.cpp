#include "sdk/program/role_blocks.h"

#include <optional>
#include <utility>
#include <vector>

namespace stemma::program {
namespace {

using ojson = nlohmann::ordered_json;

// Contents no template writes on its own, without whitespace (templates that trim content keep
// them intact).
constexpr const char* kSentinel1 = "STEMMA-CONTENT-1f6e0c";
constexpr const char* kSentinel2 = "STEMMA-CONTENT-92ab47";

ojson msg(const std::string& role, const std::string& content) {
  return ojson{{"role", role}, {"content", content}};
}

ojson with(ojson base, ojson m) {
  base.push_back(std::move(m));
  return base;
}

bool starts_with(const std::string& s, const std::string& p) {
  return s.size() >= p.size() && s.compare(0, p.size(), p) == 0;
}

// Splits `text` at the one occurrence of `sentinel`.
Result<RoleBlock> split(const std::string& text, const std::string& sentinel,
                        const std::string& role) {
  const size_t at = text.find(sentinel);
  if (at == std::string::npos) {
    return Unsupported("chat template: the " + role +
                       " message's content does not appear in its own block (the template "
                       "merges it into another message or drops it), so the template cannot be "
                       "split into role blocks");
  }
  if (text.find(sentinel, at + 1) != std::string::npos) {
    return Unsupported("chat template: the " + role +
                       " message's content is written twice, so the template cannot be split "
                       "into role blocks");
  }
  return RoleBlock{text.substr(0, at), text.substr(at + sentinel.size())};
}

}  // namespace

RoleBlocks::RoleBlocks(ChatRenderer renderer, std::string bos_text)
    : renderer_(std::move(renderer)), bos_token_(std::move(bos_text)) {
  find_tail();
}

Result<std::string> RoleBlocks::render(const ojson& messages, bool add_generation_prompt,
                                       const std::string& what) const {
  auto out = renderer_(messages, add_generation_prompt);
  if (!out.ok()) return out.status().with_context("chat template: rendering " + what);
  return out;
}

Result<std::string> RoleBlocks::delta(const ojson& base, const std::string& role,
                                      const std::string& content) const {
  STEMMA_ASSIGN_OR_RETURN(std::string before,
                          render(base, false, std::to_string(base.size()) + " messages"));
  STEMMA_ASSIGN_OR_RETURN(
      std::string after,
      render(with(base, msg(role, content)), false,
             std::to_string(base.size()) + " messages followed by a " + role + " message"));
  before = strip_tail(std::move(before));
  after = strip_tail(std::move(after));
  if (!starts_with(after, before)) {
    return Unsupported("chat template: adding a " + role + " message after " +
                       std::to_string(base.size()) +
                       " messages changes the text rendered for them (not append-only)");
  }
  return after.substr(before.size());
}

std::string RoleBlocks::strip_tail(std::string text) const {
  if (!tail_.empty() && text.size() >= tail_.size() &&
      text.compare(text.size() - tail_.size(), tail_.size(), tail_) == 0) {
    text.resize(text.size() - tail_.size());
  }
  return text;
}

void RoleBlocks::find_tail() {
  // Some templates append the generation prompt whatever add_generation_prompt says (the
  // original Llama 3 template). That fixed tail is what render([]) writes, at the end of every
  // rendering; it is taken off before comparing renderings, and it is the generation prompt.
  auto empty = render(ojson::array(), false, "no messages");
  if (!empty.ok() || empty->empty()) return;
  for (const ojson& conv : {ojson::array({msg("user", "Hello")}),
                            ojson::array({msg("user", "Hello"), msg("assistant", "Hi")})}) {
    auto plain = render(conv, false, "a conversation");
    auto prompted = render(conv, true, "a conversation with add_generation_prompt");
    if (!plain.ok() || !prompted.ok() || *plain != *prompted || plain->size() < empty->size() ||
        plain->compare(plain->size() - empty->size(), empty->size(), *empty) != 0) {
      return;
    }
  }
  tail_ = *empty;
}

Result<RoleBlock> RoleBlocks::derive(const std::string& role) const {
  const ojson none = ojson::array();
  if (role == "system") {
    // The system message opens the conversation: render it alone, drop a leading BOS text, then
    // check that a user message after it is just the user block appended.
    STEMMA_ASSIGN_OR_RETURN(std::string alone, render(ojson::array({msg("system", kSentinel1)}),
                                                      false, "a system message"));
    alone = strip_tail(std::move(alone));
    std::string lead;
    auto empty = render(none, false, "no messages");
    if (empty.ok() && tail_.empty() && starts_with(alone, *empty)) lead = *empty;
    if (lead.empty() && !bos_token_.empty() && starts_with(alone, bos_token_)) lead = bos_token_;
    STEMMA_ASSIGN_OR_RETURN(RoleBlock b, split(alone.substr(lead.size()), kSentinel1, role));
    STEMMA_ASSIGN_OR_RETURN(RoleBlock user, block("user"));
    auto both = render(ojson::array({msg("system", kSentinel1), msg("user", kSentinel2)}), false,
                       "a system and a user message");
    if (!both.ok() || strip_tail(*both) != alone + user.prefix + kSentinel2 + user.suffix) {
      return Unsupported(
          "chat template: a system message followed by a user message is not rendered as the "
          "system block followed by the user block (the template merges the system prompt into "
          "the first user turn), so the template cannot be split into role blocks");
    }
    return b;
  }
  // Any other role: the text its message adds after several histories. Histories the template
  // rewrites when a message follows (e.g. dropping the reasoning of an earlier answer) say
  // nothing about the block and are skipped; all others must agree on one block.
  // Mid-conversation histories first; for a user message, the start of a conversation (after
  // a system prompt, or nothing) only when every such history is rewritten by the template.
  std::vector<std::vector<ojson>> tiers;
  if (role == "user") {
    tiers = {{ojson::array({msg("user", "Hello"), msg("assistant", "Hi")}),
              ojson::array({msg("user", "Hello"), msg("assistant", "Hi"), msg("user", "Thanks"),
                            msg("assistant", "Sure")})},
             {ojson::array({msg("system", "Be brief.")}), none}};
  } else {
    tiers = {{ojson::array({msg("user", "Hello")}),
              ojson::array({msg("user", "Hello"), msg("assistant", "Hi"), msg("user", "Thanks")})}};
  }
  std::optional<RoleBlock> found;
  Status first_error;
  const char* sentinels[] = {kSentinel1, kSentinel2};
  for (const auto& bases : tiers) {
    for (size_t i = 0; i < bases.size(); ++i) {
      const std::string sentinel = sentinels[i % 2];
      auto d = delta(bases[i], role, sentinel);
      if (!d.ok()) {
        if (first_error.ok()) first_error = d.status();
        continue;
      }
      std::string text = *d;
      if (bases[i].empty() && !bos_token_.empty() && starts_with(text, bos_token_)) {
        text.erase(0, bos_token_.size());  // the first message carries BOS in some templates
      }
      if (!found) {
        STEMMA_ASSIGN_OR_RETURN(RoleBlock b, split(text, sentinel, role));
        found = std::move(b);
      } else if (text != found->prefix + sentinel + found->suffix) {
        return Unsupported("chat template: a " + role +
                           " message is rendered differently at different places in the "
                           "conversation, so the template cannot be split into role blocks");
      }
    }
    if (found) break;
  }
  if (!found) {
    return Status(first_error.code(),
                  first_error.message() + ", so the template cannot be split into role blocks");
  }
  return *found;
}

Result<RoleBlock> RoleBlocks::block(const std::string& role) const {
  if (role.empty()) return InvalidArgument("role block: the role is empty");
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(role);
    if (it != cache_.end()) return it->second;
  }
  // Derived outside the lock: the system block asks for the user block.
  Result<RoleBlock> derived = derive(role);
  if (!derived.ok()) {
    derived = derived.status().with_context("role \"" + role + "\"");
  }
  std::lock_guard<std::mutex> lock(mu_);
  return cache_.emplace(role, std::move(derived)).first->second;
}

Result<std::string> RoleBlocks::generation_prompt() const {
  if (!tail_.empty()) return tail_;
  const ojson base = ojson::array({msg("user", "Hello")});
  STEMMA_ASSIGN_OR_RETURN(std::string plain, render(base, false, "a user message"));
  STEMMA_ASSIGN_OR_RETURN(std::string prompted,
                          render(base, true, "a user message with add_generation_prompt"));
  if (!starts_with(prompted, plain)) {
    return Unsupported(
        "chat template: add_generation_prompt changes the text before it, so the generation "
        "prompt cannot be split off");
  }
  return prompted.substr(plain.size());
}

Result<RoleBlock> RoleBlocks::generation_block(const std::string& role) const {
  STEMMA_ASSIGN_OR_RETURN(RoleBlock b, block(role));
  if (role == "assistant") {
    STEMMA_ASSIGN_OR_RETURN(std::string g, generation_prompt());
    if (!g.empty()) b.prefix = std::move(g);
  }
  return b;
}

}  // namespace stemma::program
