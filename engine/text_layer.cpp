#include "engine/api/text_layer.h"

#include "engine/text_layer_access.h"
#include "engine/tokenizer/chat_template/chat_template.h"

namespace stemma {

struct TextLayer::Impl {
  std::shared_ptr<const Tokenizer> tokenizer;
  std::string template_source;                        // the template as given ("" without one)
  std::shared_ptr<const ChatTemplate> chat_template;  // null unless template_status is OK
  Status template_status;
  std::string bos_text, eos_text;
};

namespace {

std::string token_text(const Tokenizer& tok, int32_t id) {
  if (id < 0 || id >= tok.vocab_size()) return "";
  return tok.id_to_token(id);
}

Status no_template() {
  return FailedPrecondition("the model ships no chat template");
}

}  // namespace

TextLayer::TextLayer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TextLayer::~TextLayer() = default;

std::vector<int32_t> TextLayer::encode(std::string_view text, bool add_special,
                                       bool parse_special) const {
  EncodeOptions o;
  o.add_special = add_special;
  o.parse_special = parse_special;
  return impl_->tokenizer->encode(text, o);
}

std::vector<int32_t> TextLayer::encode_piece(std::string_view text) const {
  return encode(text, /*add_special=*/false, /*parse_special=*/true);
}

std::vector<int32_t> TextLayer::encode_start(std::string_view text) const {
  const Tokenizer& tok = *impl_->tokenizer;
  std::vector<int32_t> ids;
  if (tok.spec().add_bos && tok.bos_id() >= 0) ids.push_back(tok.bos_id());
  std::vector<int32_t> rest = encode_piece(text);
  ids.insert(ids.end(), rest.begin(), rest.end());
  return ids;
}

std::vector<int32_t> TextLayer::encode_prompt(std::string_view rendered) const {
  const std::string& bos = impl_->bos_text;
  if (!bos.empty() && rendered.substr(0, bos.size()) == bos) {
    return encode_piece(rendered);  // the template wrote BOS itself
  }
  return encode_start(rendered);
}

Result<std::string> TextLayer::decode(std::span<const int32_t> ids, bool skip_special) const {
  DecodeOptions o;
  o.skip_special = skip_special;
  return impl_->tokenizer->decode(ids, o);
}

int32_t TextLayer::vocab_size() const {
  return impl_->tokenizer->vocab_size();
}
int32_t TextLayer::bos_id() const {
  return impl_->tokenizer->bos_id();
}
int32_t TextLayer::eos_id() const {
  return impl_->tokenizer->eos_id();
}
bool TextLayer::is_control(int32_t id) const {
  return impl_->tokenizer->is_control(id);
}
int32_t TextLayer::token_to_id(std::string_view token) const {
  return impl_->tokenizer->token_to_id(token);
}
const std::string& TextLayer::bos_text() const {
  return impl_->bos_text;
}
const std::string& TextLayer::eos_text() const {
  return impl_->eos_text;
}

const Status& TextLayer::chat_template_status() const {
  return impl_->template_status;
}

const std::string& TextLayer::chat_template_source() const {
  return impl_->template_source;
}

Result<std::string> TextLayer::render_chat(const nlohmann::ordered_json& messages,
                                           const nlohmann::ordered_json& tools,
                                           bool add_generation_prompt) const {
  STEMMA_RETURN_IF_ERROR(impl_->template_status);
  ChatTemplateInputs in;
  in.messages = messages;
  in.tools = tools;
  in.add_generation_prompt = add_generation_prompt;
  in.bos_token = impl_->bos_text;
  in.eos_token = impl_->eos_text;
  return impl_->chat_template->render(in);
}

Result<std::shared_ptr<const TextLayer>> TextLayer::with_chat_template(
    std::string_view name_or_source) const {
  const std::string source(name_or_source);
  Result<ChatTemplate> t = ChatTemplate::builtin_source(source) != nullptr
                               ? ChatTemplate::builtin(source)
                               : ChatTemplate::parse(source);
  if (!t.ok()) return t.status().with_context("parsing the chat template");
  auto impl = std::make_unique<Impl>(*impl_);
  impl->template_source = source;
  impl->chat_template = std::make_shared<const ChatTemplate>(std::move(t).value());
  impl->template_status = OkStatus();
  return std::shared_ptr<const TextLayer>(new TextLayer(std::move(impl)));
}

namespace internal {

std::shared_ptr<const TextLayer> TextLayerAccess::create(
    std::shared_ptr<const Tokenizer> tokenizer) {
  auto impl = std::make_unique<TextLayer::Impl>();
  const Tokenizer& tok = *tokenizer;
  impl->bos_text = token_text(tok, tok.bos_id());
  impl->eos_text = token_text(tok, tok.eos_id());
  impl->template_source = tok.spec().chat_template;
  if (impl->template_source.empty()) {
    impl->template_status = no_template();
  } else {
    auto parsed = ChatTemplate::parse(impl->template_source);
    if (parsed.ok()) {
      impl->chat_template = std::make_shared<const ChatTemplate>(std::move(parsed).value());
    } else {
      impl->template_status =
          Unsupported("the model's chat template cannot be used: " + parsed.status().message());
    }
  }
  impl->tokenizer = std::move(tokenizer);
  return std::shared_ptr<const TextLayer>(new TextLayer(std::move(impl)));
}

const Tokenizer& TextLayerAccess::tokenizer(const TextLayer& text) {
  return *text.impl_->tokenizer;
}

}  // namespace internal
}  // namespace stemma
