// ProgramState: SGLang's frontend in C++. A state is a growing token sequence (and its text) that
// a program extends with text, role blocks, generations (`gen`) and choices (`select`), and that
// can be forked into states sharing its prefix.
//
//   auto rt = program::Runtime::create(engine);
//   auto s = program::ProgramState::create(*rt);
//   s->message("system", "You are terse.");
//   s->message("user", "Name a colour.");
//   s->role_begin("assistant");
//   s->gen("colour", {.max_tokens = 8});
//   s->role_end();
//   auto colour = s->get("colour");      // waits for the gen
//
// Semantics (docs/sdk.md):
// - Tokens are kept incrementally: appended text is encoded on its own and concatenated;
//   generated tokens are kept as generated. So every gen's prompt is exactly the previous
//   prompt plus new tokens, and the engine's radix cache serves all of the earlier part.
//   The first text of a state gets BOS as the model says.
// - Operations are queued and run in order, asynchronously, on a thread of the state's own
//   (held only while it has work): append/message/role_begin/role_end/gen/select return at
//   once. get/text/tokens/wait/fork block until the queued operations are done. Different
//   states run concurrently, so the engine batches their requests.
// - The queueing calls return an error only for what is wrong at once (a role block misused,
//   an empty choice list, a role the chat template cannot split). Errors while running (a bad
//   regex, the context full, a cancelled stream) are kept: later queued operations are
//   skipped, and wait() returns the error (and clears it, so the state can go on).
// - Thread-safety: one state may be used from several threads; calls are ordered as they
//   arrive. Stream callbacks run on the engine's thread and must not call into the state.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/api/status.h"
#include "sdk/program/gen_options.h"
#include "sdk/program/generate.h"
#include "sdk/program/runtime.h"
#include "sdk/program/strand.h"

namespace stemma::program {

// What a gen or select stored under its name.
struct Variable {
  std::string value;
  FinishReason finish = FinishReason::kNone;  // gen: why it ended; select: kStopToken
  int64_t prompt_tokens = 0;  // prompt tokens of its request(s) (select: summed over choices)
  int64_t cached_tokens = 0;  // of those, served from the radix cache
  int64_t generated_tokens = 0;
  std::vector<double> choice_scores;  // select: total log-probability of each choice
};

class ProgramState {
 public:
  // A new, empty state (it keeps `runtime` alive; the engine must outlive both).
  static std::unique_ptr<ProgramState> create(std::shared_ptr<Runtime> runtime);
  // Waits for the queued operations.
  ~ProgramState();
  ProgramState(const ProgramState&) = delete;
  ProgramState& operator=(const ProgramState&) = delete;

  // ---- queued operations (return at once) ----
  // Appends plain text (special-token text such as "<|im_start|>" is recognised).
  Status append(std::string text);
  // A whole message in the model's chat template: role block prefix + content + suffix.
  Status message(std::string role, std::string content);
  // Opens / closes a role block around content written by later operations (typically
  // role_begin("assistant"), gen(...), role_end()). Blocks do not nest.
  Status role_begin(std::string role);
  Status role_end();
  // Generates into variable `name` ("" = not stored) and appends the output to the state.
  Status gen(std::string name, GenerationOptions options = {}, TextCallback stream = {});
  // Appends the most likely of `choices` (by the total model log-probability of its tokens
  // after the state), and stores it in `name`. One request per choice, all sharing the state
  // as their prefix.
  Status select(std::string name, std::vector<std::string> choices);

  // ---- blocking ----
  // Waits; the first error of the queued operations (cleared), or OK.
  Status wait();
  // Waits; the value of `name`. NotFound if it was never set (or the pending error, when an
  // error skipped the operation that would have set it).
  Result<std::string> get(const std::string& name);
  Result<Variable> variable(const std::string& name);
  // Waits; all variables by name.
  std::map<std::string, Variable> variables();
  // Waits; the state's text (without BOS) and its tokens (with BOS).
  std::string text();
  std::vector<int32_t> tokens();
  // Waits, then makes `n` new states that start as copies of this one (text, tokens,
  // variables, an open role block). Their requests share this state's tokens as their prefix,
  // so the prefix is computed once. Fails with the pending error if there is one.
  Result<std::vector<std::unique_ptr<ProgramState>>> fork(size_t n);

  const std::shared_ptr<Runtime>& runtime() const { return runtime_; }

 private:
  explicit ProgramState(std::shared_ptr<Runtime> runtime) : runtime_(std::move(runtime)) {}

  // Queues `op`; it runs unless an earlier error is pending.
  void post(std::function<Status()> op);
  void append_now(const std::string& text);
  Status gen_now(const std::string& name, const GenerationOptions& options,
                 const TextCallback& stream);
  Status select_now(const std::string& name, const std::vector<std::string>& choices);

  std::shared_ptr<Runtime> runtime_;

  // Queue side (caller threads): the role block open after the operations queued so far.
  std::mutex queue_mu_;
  std::optional<std::string> open_role_;

  // Run side (the strand), read by blocking calls after a drain.
  mutable std::mutex mu_;
  std::vector<int32_t> tokens_;
  std::string text_;
  std::map<std::string, Variable> vars_;
  Status error_;

  Strand strand_;  // last: destroyed (drained) first
};

// Waits for every state; the first error among them (each state's error is cleared).
Status join(std::span<ProgramState* const> states);
Status join(const std::vector<std::unique_ptr<ProgramState>>& states);

}  // namespace stemma::program
