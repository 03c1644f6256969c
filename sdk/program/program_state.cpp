#include "sdk/program/program_state.h"

#include "engine/api/constraint_text.h"

namespace stemma::program {
namespace {

Status not_empty(const std::string& what, const std::string& value) {
  if (value.empty()) return InvalidArgument(what + " is empty");
  return OkStatus();
}

}  // namespace

std::unique_ptr<ProgramState> ProgramState::create(std::shared_ptr<Runtime> runtime) {
  return std::unique_ptr<ProgramState>(new ProgramState(std::move(runtime)));
}

ProgramState::~ProgramState() {
  strand_.drain();
}

void ProgramState::post(std::function<Status()> op) {
  strand_.post([this, op = std::move(op)] {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!error_.ok()) return;  // an earlier operation failed: skip until wait() reports it
    }
    Status s = op();
    if (!s.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      if (error_.ok()) error_ = std::move(s);
    }
  });
}

void ProgramState::append_now(const std::string& text) {
  if (text.empty()) return;
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<int32_t> ids =
      tokens_.empty() ? runtime_->encode_start(text) : runtime_->encode(text);
  tokens_.insert(tokens_.end(), ids.begin(), ids.end());
  text_ += text;
}

Status ProgramState::append(std::string text) {
  post([this, text = std::move(text)] {
    append_now(text);
    return OkStatus();
  });
  return OkStatus();
}

Status ProgramState::message(std::string role, std::string content) {
  STEMMA_RETURN_IF_ERROR(not_empty("message: the role", role));
  STEMMA_ASSIGN_OR_RETURN(const RoleBlocks* blocks, runtime_->role_blocks());
  STEMMA_ASSIGN_OR_RETURN(RoleBlock b, blocks->block(role));
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    if (open_role_) {
      return FailedPrecondition("message(\"" + role + "\"): the " + *open_role_ +
                                " block is still open; call role_end() first");
    }
  }
  return append(b.prefix + content + b.suffix);
}

Status ProgramState::role_begin(std::string role) {
  STEMMA_RETURN_IF_ERROR(not_empty("role_begin: the role", role));
  STEMMA_ASSIGN_OR_RETURN(const RoleBlocks* blocks, runtime_->role_blocks());
  STEMMA_ASSIGN_OR_RETURN(RoleBlock b, blocks->generation_block(role));
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    if (open_role_) {
      return FailedPrecondition("role_begin(\"" + role + "\"): the " + *open_role_ +
                                " block is still open (blocks do not nest); call role_end() "
                                "first");
    }
    open_role_ = role;
  }
  return append(std::move(b.prefix));
}

Status ProgramState::role_end() {
  std::string role;
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    if (!open_role_) return FailedPrecondition("role_end(): no role block is open");
    role = *open_role_;
    open_role_.reset();
  }
  STEMMA_ASSIGN_OR_RETURN(const RoleBlocks* blocks, runtime_->role_blocks());
  STEMMA_ASSIGN_OR_RETURN(RoleBlock b, blocks->generation_block(role));
  return append(std::move(b.suffix));
}

Status ProgramState::gen(std::string name, GenerationOptions options, TextCallback stream) {
  if (options.max_tokens < 1) {
    return InvalidArgument("gen(\"" + name + "\"): max_tokens must be at least 1");
  }
  post([this, name = std::move(name), options = std::move(options), stream = std::move(stream)] {
    return gen_now(name, options, stream);
  });
  return OkStatus();
}

Status ProgramState::gen_now(const std::string& name, const GenerationOptions& options,
                             const TextCallback& stream) {
  std::vector<int32_t> prompt;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (tokens_.empty()) tokens_ = runtime_->encode_start("");
    prompt = tokens_;
  }
  if (prompt.empty()) {
    return FailedPrecondition("gen(\"" + name +
                              "\"): the state is empty and the model has no BOS token to start "
                              "from; append some text first");
  }
  auto g = generate(*runtime_, std::move(prompt), options, stream);
  if (!g.ok()) return g.status().with_context("gen(\"" + name + "\")");
  std::lock_guard<std::mutex> lock(mu_);
  tokens_.insert(tokens_.end(), g->tokens.begin(), g->tokens.end());
  text_ += g->text;
  if (!name.empty()) {
    Variable v;
    v.value = g->text;
    v.finish = g->finish;
    v.prompt_tokens = g->prompt_tokens;
    v.cached_tokens = g->cached_tokens;
    v.generated_tokens = g->generated_tokens;
    vars_[name] = std::move(v);
  }
  if (g->finish == FinishReason::kCancelled) {
    return Cancelled("gen(\"" + name + "\"): cancelled by the stream callback");
  }
  return OkStatus();
}

Status ProgramState::select(std::string name, std::vector<std::string> choices) {
  if (choices.empty()) return InvalidArgument("select(\"" + name + "\"): no choices");
  for (size_t i = 0; i < choices.size(); ++i) {
    if (choices[i].empty()) {
      return InvalidArgument("select(\"" + name + "\"): choice " + std::to_string(i) + " is empty");
    }
  }
  post([this, name = std::move(name), choices = std::move(choices)] {
    return select_now(name, choices);
  });
  return OkStatus();
}

Status ProgramState::select_now(const std::string& name, const std::vector<std::string>& choices) {
  const std::string where = "select(\"" + name + "\")";
  std::vector<int32_t> prefix;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (tokens_.empty()) tokens_ = runtime_->encode_start("");
    prefix = tokens_;
  }
  if (prefix.empty()) {
    return FailedPrecondition(where +
                              ": the state is empty and the model has no BOS token to score "
                              "the first choice token after; append some text first");
  }
  Engine& engine = runtime_->engine();
  // One request per choice: prefix + choice, scoring the choice's tokens from the prompt
  // log-probabilities. All are submitted before any is awaited, so they batch and the prefix
  // is computed once.
  std::vector<std::vector<int32_t>> choice_tokens;
  std::vector<RequestId> ids;
  Status failed;
  for (const std::string& c : choices) {
    choice_tokens.push_back(runtime_->encode(c));
    std::vector<int32_t> prompt = prefix;
    prompt.insert(prompt.end(), choice_tokens.back().begin(), choice_tokens.back().end());
    if (static_cast<int64_t>(prompt.size()) + 1 > runtime_->context_length()) {
      failed = OutOfRange(where + ": the state plus choice \"" + c +
                          "\" does not fit the model's context of " +
                          std::to_string(runtime_->context_length()) + " tokens");
      break;
    }
    GenerationOptions so;
    so.max_tokens = 1;
    so.temperature = 0;
    so.prompt_logprobs_from = static_cast<int32_t>(prefix.size());
    auto id = engine.submit(std::move(prompt), std::move(so));
    if (!id.ok()) {
      failed = id.status().with_context(where);
      break;
    }
    ids.push_back(*id);
  }
  std::vector<std::vector<float>> logprobs;
  Variable v;
  for (RequestId id : ids) {
    auto out = engine.wait(id);
    if (!out.ok()) {
      if (failed.ok()) failed = out.status().with_context(where);
      continue;
    }
    if (out->finish == FinishReason::kError && failed.ok()) {
      failed = out->error.with_context(where + ": scoring failed");
    }
    v.prompt_tokens += static_cast<int64_t>(prefix.size() + choice_tokens[logprobs.size()].size());
    v.cached_tokens += out->cached_tokens;
    logprobs.push_back(std::move(out->prompt_logprobs));
  }
  STEMMA_RETURN_IF_ERROR(failed);
  for (size_t i = 0; i < logprobs.size(); ++i) {
    if (logprobs[i].size() != choice_tokens[i].size()) {
      return Internal(where + ": the engine returned " + std::to_string(logprobs[i].size()) +
                      " prompt log-probabilities for a choice of " +
                      std::to_string(choice_tokens[i].size()) + " tokens");
    }
  }
  STEMMA_ASSIGN_OR_RETURN(ChoiceScores scores, score_choices(logprobs, ChoiceRule::kTotal));
  v.value = choices[scores.best];
  v.finish = FinishReason::kStopToken;
  v.choice_scores = scores.scores;
  std::lock_guard<std::mutex> lock(mu_);
  const auto& best = choice_tokens[scores.best];
  tokens_.insert(tokens_.end(), best.begin(), best.end());
  text_ += v.value;
  if (!name.empty()) vars_[name] = std::move(v);
  return OkStatus();
}

Status ProgramState::wait() {
  strand_.drain();
  std::lock_guard<std::mutex> lock(mu_);
  Status s = std::move(error_);
  error_ = OkStatus();
  return s;
}

Result<Variable> ProgramState::variable(const std::string& name) {
  strand_.drain();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = vars_.find(name);
  if (it != vars_.end()) return it->second;
  if (!error_.ok()) return error_;
  return NotFound("variable \"" + name + "\" was never set");
}

Result<std::string> ProgramState::get(const std::string& name) {
  STEMMA_ASSIGN_OR_RETURN(Variable v, variable(name));
  return v.value;
}

std::map<std::string, Variable> ProgramState::variables() {
  strand_.drain();
  std::lock_guard<std::mutex> lock(mu_);
  return vars_;
}

std::string ProgramState::text() {
  strand_.drain();
  std::lock_guard<std::mutex> lock(mu_);
  return text_;
}

std::vector<int32_t> ProgramState::tokens() {
  strand_.drain();
  std::lock_guard<std::mutex> lock(mu_);
  return tokens_;
}

Result<std::vector<std::unique_ptr<ProgramState>>> ProgramState::fork(size_t n) {
  strand_.drain();
  std::optional<std::string> open;
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    open = open_role_;
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (!error_.ok()) return error_;
  std::vector<std::unique_ptr<ProgramState>> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    std::unique_ptr<ProgramState> s = create(runtime_);
    s->tokens_ = tokens_;
    s->text_ = text_;
    s->vars_ = vars_;
    s->open_role_ = open;
    out.push_back(std::move(s));
  }
  return out;
}

Status join(std::span<ProgramState* const> states) {
  Status first;
  for (ProgramState* s : states) {
    if (s == nullptr) continue;
    Status e = s->wait();
    if (first.ok() && !e.ok()) first = std::move(e);
  }
  return first;
}

Status join(const std::vector<std::unique_ptr<ProgramState>>& states) {
  std::vector<ProgramState*> raw;
  raw.reserve(states.size());
  for (const auto& s : states) raw.push_back(s.get());
  return join(std::span<ProgramState* const>(raw));
}

}  // namespace stemma::program
