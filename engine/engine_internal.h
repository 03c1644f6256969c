// What tests, benchmarks and the CLI reach behind the public API (engine/api/): an engine over a
// ready executor, weights or tokenizer; requests with a compiled constraint or the pipeline's
// test hooks (SamplingOptions); the engine's constraint compiler; its tokenizer and KV shape.
// Not for the SDK, the C ABI or applications: CMake gives this header only to the
// stemma_engine_internal target.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/api/engine.h"
#include "engine/backend/model_executor.h"
#include "engine/constrain/compiled_constraint.h"
#include "engine/constrain/json_schema.h"
#include "engine/model/model_loader.h"
#include "engine/sample/sampling_options.h"
#include "engine/tokenizer/tokenizer.h"

namespace stemma {

// The model, when it does not come from EngineOptions::model_path: the first of these that is
// set is used.
struct EngineParts {
  std::shared_ptr<ModelExecutor> executor;   // a ready executor (its kv_shape sizes the cache)
  std::shared_ptr<const LoadedModel> model;  // loaded or generated weights (CPU backend)
  // Text out, stop strings, constraints and jump-forward use the model's tokenizer (from its
  // GGUF / tokenizer.json); this one, when set, is used instead (e.g. with a bare executor).
  std::shared_ptr<const Tokenizer> tokenizer;
  // false: a cancel waits for the step in flight to end instead of interrupting it (the
  // baseline of bench/engine/cancel_latency.cpp).
  bool step_interrupt = true;
};

namespace internal {

// Engine::open with parts of the model given.
Result<std::unique_ptr<Engine>> open_engine(EngineOptions options, EngineParts parts);

// Engine::submit for options the engine runs as given: the constraint already compiled (or
// none), the hooks of SamplingOptions. Validated and capped as submit does.
Result<RequestId> submit(Engine& engine, std::vector<int32_t> prompt, SamplingOptions options,
                         StreamCallback on_event = {}, bool keep_output = true);
Result<RequestOutput> generate(Engine& engine, std::vector<int32_t> prompt,
                               SamplingOptions options);

// The constraints submit compiles, against this engine's vocabulary (its token index is built
// once, on first use), cached by source text. FailedPrecondition without a tokenizer;
// InvalidArgument / Unsupported name what is wrong with the pattern or schema.
Result<std::shared_ptr<const constrain::CompiledConstraint>> compile_regex(Engine& engine,
                                                                           std::string_view regex);
Result<std::shared_ptr<const constrain::CompiledConstraint>> compile_json_schema(
    Engine& engine, std::string_view schema_json, const constrain::JsonSchemaOptions& options = {});
// Exactly one of the strings; non-empty, duplicates allowed.
Result<std::shared_ptr<const constrain::CompiledConstraint>> compile_choices(
    Engine& engine, const std::vector<std::string>& choices);

// nullptr when the engine has no tokenizer.
const Tokenizer* tokenizer(const Engine& engine);
const Tokenizer& tokenizer(const TextLayer& text);
const ModelConfig& config(const Engine& engine);
const KvCacheShape& kv_shape(const Engine& engine);

}  // namespace internal
}  // namespace stemma
