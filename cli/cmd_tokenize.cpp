// Tokenizer commands:
//   stemma tokenize --model PATH (--text T | --text-file FILE|-) [--no-special]
//                   [--plain-special]                                        -> {"ids": [...]}
//   stemma detokenize --model PATH --tokens 1,2,3 [--skip-special]           -> {"text": "..."}
//   stemma chat-format --model PATH --messages FILE.json|- [--add-generation-prompt]
//                      [--tools FILE.json] [--documents FILE.json] [--vars FILE.json]
//                      [--template FILE.jinja|chatml|llama3|mistral]         -> the prompt
// PATH: a .gguf file (its tokenizer.ggml.* metadata, through the model loader), or a folder /
// tokenizer.json file (HF layout; read without loading any weights). "-" reads standard
// input. Input files and standard input are bounded (kMaxInputFileBytes): more is an error that
// says so, never a partial read.
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/args.h"
#include "cli/json_text.h"
#include "engine/common/read_file.h"
#include "engine/model/model_loader.h"
#include "engine/tokenizer/chat_template/chat_template.h"
#include "engine/tokenizer/hf_tokenizer_json.h"
#include "engine/tokenizer/tokenizer.h"

namespace stemma::cli {
namespace {

Result<TokenizerSpec> load_spec(const std::string& path) {
  if (std::filesystem::path(path).extension() == ".gguf") {
    STEMMA_ASSIGN_OR_RETURN(LoadedModel model, load_model(path));
    if (!model.tokenizer) return NotFound(path + ": the GGUF file carries no tokenizer metadata");
    return std::move(*model.tokenizer);
  }
  return load_hf_tokenizer(path);
}

// The whole of `path` ("-": standard input), at most kMaxInputFileBytes.
Result<std::string> read_text(const std::string& path) {
  if (path != "-") return read_file_bounded(path);
  std::istream* in = &std::cin;
  std::string out;
  char buf[1 << 16];
  while (*in) {
    in->read(buf, sizeof buf);
    out.append(buf, static_cast<size_t>(in->gcount()));
    if (out.size() > kMaxInputFileBytes) {
      return ResourceExhausted("standard input is over " + std::to_string(kMaxInputFileBytes) +
                               " bytes (the input limit)");
    }
  }
  if (in->bad()) return IoError("reading standard input failed");
  return out;
}

Result<nlohmann::ordered_json> read_json(const std::string& path, const char* what) {
  STEMMA_ASSIGN_OR_RETURN(std::string text, read_text(path));
  try {
    return nlohmann::ordered_json::parse(text);
  } catch (const std::exception& e) {
    return InvalidArgument(std::string(what) + " (" + path + "): " + e.what());
  }
}

Result<std::unique_ptr<Tokenizer>> open_tokenizer(const Args& args) {
  STEMMA_ASSIGN_OR_RETURN(std::string path, args.require("model"));
  STEMMA_ASSIGN_OR_RETURN(TokenizerSpec spec, load_spec(path));
  return Tokenizer::create(std::move(spec));
}

int run_tokenize(const Args& args) {
  if (args.has("text") == args.has("text-file")) {
    return fail(InvalidArgument("tokenize needs exactly one of --text and --text-file"));
  }
  auto text = args.has("text") ? args.require("text") : read_text(*args.get("text-file"));
  if (!text.ok()) return fail(text.status());
  auto tok = open_tokenizer(args);
  if (!tok.ok()) return fail(tok.status());
  EncodeOptions options;
  options.add_special = !args.has("no-special");
  options.parse_special = !args.has("plain-special");
  nlohmann::json out;
  out["ids"] = (*tok)->encode(*text, options);
  std::cout << json_text(out) << "\n";
  return 0;
}

int run_detokenize(const Args& args) {
  auto list = args.require("tokens");
  if (!list.ok()) return fail(list.status());
  auto ids = Args::parse_int_list(*list);
  if (!ids.ok()) return fail(ids.status());
  auto tok = open_tokenizer(args);
  if (!tok.ok()) return fail(tok.status());
  DecodeOptions options;
  options.skip_special = args.has("skip-special");
  auto text = (*tok)->decode(*ids, options);
  if (!text.ok()) return fail(text.status());
  nlohmann::json out;
  out["text"] = *text;
  std::cout << json_text(out) << "\n";
  return 0;
}

// The model's template, or a built-in one chosen by the special tokens its vocabulary has.
Result<ChatTemplate> pick_template(const Args& args, const TokenizerSpec& spec) {
  if (auto t = args.get("template")) {
    if (ChatTemplate::builtin_source(*t)) return ChatTemplate::builtin(*t);
    STEMMA_ASSIGN_OR_RETURN(std::string src, read_text(*t));
    return ChatTemplate::parse(src);
  }
  if (!spec.chat_template.empty()) return ChatTemplate::parse(spec.chat_template);
  auto has = [&](const char* token) {
    for (const auto& t : spec.tokens) {
      if (t == token) return true;
    }
    return false;
  };
  if (has("<|start_header_id|>")) return ChatTemplate::builtin("llama3");
  if (has("<|im_start|>")) return ChatTemplate::builtin("chatml");
  if (spec.model == "llama") return ChatTemplate::builtin("mistral");
  return ChatTemplate::builtin("chatml");
}

int run_chat_format(const Args& args) {
  try {
    auto messages_path = args.require("messages");
    if (!messages_path.ok()) return fail(messages_path.status());
    auto path = args.require("model");
    if (!path.ok()) return fail(path.status());
    auto spec = load_spec(*path);
    if (!spec.ok()) return fail(spec.status());
    auto tmpl = pick_template(args, *spec);
    if (!tmpl.ok()) return fail(tmpl.status());
    ChatTemplateInputs in;
    auto messages = read_json(*messages_path, "--messages");
    if (!messages.ok()) return fail(messages.status());
    in.messages = std::move(*messages);
    for (auto [flag, dest] : {std::pair<const char*, nlohmann::ordered_json*>{"tools", &in.tools},
                              {"documents", &in.documents},
                              {"vars", &in.extra}}) {
      if (auto file = args.get(flag)) {
        auto j = read_json(*file, flag);
        if (!j.ok()) return fail(j.status());
        *dest = std::move(*j);
      }
    }
    if (!in.extra.is_object()) return fail(InvalidArgument("--vars must hold a JSON object"));
    in.add_generation_prompt = args.has("add-generation-prompt");
    // The special tokens transformers would pass (bos_token, eos_token, unk_token, ...): only
    // those the tokenizer has.
    in.special_tokens = special_tokens_for_template(*spec);
    auto prompt = tmpl->render(in);
    if (!prompt.ok()) return fail(prompt.status());
    std::cout << *prompt;
    return 0;
  } catch (const std::exception& e) {
    return fail(InvalidArgument(std::string("chat-format: ") + e.what()));
  }
}

STEMMA_CLI_COMMAND(kTokenize, "tokenize", "text -> token ids (JSON) with a model's tokenizer",
                   &run_tokenize, {"no-special", "plain-special"}, {"model", "text", "text-file"});
STEMMA_CLI_COMMAND(kDetokenize, "detokenize", "token ids -> text (JSON)", &run_detokenize,
                   {"skip-special"}, {"model", "tokens"});
STEMMA_CLI_COMMAND(kChatFormat, "chat-format",
                   "render messages (JSON file) with the model's chat template", &run_chat_format,
                   {"add-generation-prompt"},
                   {"documents", "messages", "model", "template", "tools", "vars"});

}  // namespace
}  // namespace stemma::cli
