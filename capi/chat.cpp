// stemma_chat_store_* and stemma_chat_*: persisted chat sessions (sdk/chat/chat_store.h,
// sdk/chat/chat_session.h) behind the C ABI.
#include "capi/capi_errors.h"
#include "capi/engine_core.h"
#include "capi/gen_options.h"
#include "capi/handles.h"
#include "sdk/chat/chat_session.h"
#include "sdk/chat/chat_store.h"

using namespace stemma;
using namespace stemma::capi;

struct stemma_chat_store {
  std::shared_ptr<chat::ChatStore> store;
};

// A session keeps the engine and its store alive (ChatSession needs the store to outlive it),
// so freeing the store or engine handle before the session is safe.
struct stemma_chat {
  std::shared_ptr<EngineCore> core;
  std::shared_ptr<chat::ChatStore> store;  // null: not persisted
  std::unique_ptr<chat::ChatSession> session;
};

namespace {

stemma_chat* new_chat(std::shared_ptr<EngineCore> core, std::shared_ptr<chat::ChatStore> store,
                      std::unique_ptr<chat::ChatSession> session) {
  auto* h = new stemma_chat{std::move(core), std::move(store), std::move(session)};
  return register_handle(h, HandleKind::kChat);
}

}  // namespace

extern "C" {

STEMMA_API stemma_status stemma_chat_store_open(const char* path, stemma_chat_store** store_out) {
  return guarded(__func__, [&, api = __func__]() -> Status {
    STEMMA_RETURN_IF_ERROR(check_not_null(api, "store_out", store_out));
    *store_out = nullptr;
    STEMMA_RETURN_IF_ERROR(check_path(api, "path", path));
    STEMMA_ASSIGN_OR_RETURN(auto store, chat::ChatStore::open(path));
    auto* h = new stemma_chat_store{std::shared_ptr<chat::ChatStore>(std::move(store))};
    *store_out = register_handle(h, HandleKind::kChatStore);
    return OkStatus();
  });
}

STEMMA_API void stemma_chat_store_free(stemma_chat_store* store) {
  guarded_void(__func__, [&, api = __func__] {
    if (store != nullptr && unregister_handle(store, HandleKind::kChatStore)) delete store;
  });
}

STEMMA_API stemma_status stemma_chat_new(stemma_engine* engine, stemma_chat_store* store,
                                         const char* system_prompt, stemma_chat** chat_out) {
  return guarded(__func__, [&, api = __func__]() -> Status {
    STEMMA_RETURN_IF_ERROR(check_not_null(api, "chat_out", chat_out));
    *chat_out = nullptr;
    STEMMA_RETURN_IF_ERROR(check_handle(api, "engine", engine, HandleKind::kEngine));
    if (store != nullptr) {
      STEMMA_RETURN_IF_ERROR(check_handle(api, "store", store, HandleKind::kChatStore));
    }
    STEMMA_RETURN_IF_ERROR(check_text(api, "system_prompt", system_prompt, true));
    std::shared_ptr<EngineCore> core = engine->core;
    STEMMA_ASSIGN_OR_RETURN(auto runtime, core->runtime(api));
    std::shared_ptr<chat::ChatStore> s = store ? store->store : nullptr;
    auto session = chat::ChatSession::create(runtime, s.get(), system_prompt ? system_prompt : "");
    if (!session.ok()) return session.status().with_context(api);
    *chat_out = new_chat(core, s, std::move(session).value());
    return OkStatus();
  });
}

STEMMA_API stemma_status stemma_chat_resume(stemma_engine* engine, stemma_chat_store* store,
                                            int64_t session_id, stemma_chat** chat_out) {
  return guarded(__func__, [&, api = __func__]() -> Status {
    STEMMA_RETURN_IF_ERROR(check_not_null(api, "chat_out", chat_out));
    *chat_out = nullptr;
    STEMMA_RETURN_IF_ERROR(check_handle(api, "engine", engine, HandleKind::kEngine));
    STEMMA_RETURN_IF_ERROR(check_handle(api, "store", store, HandleKind::kChatStore));
    std::shared_ptr<EngineCore> core = engine->core;
    STEMMA_ASSIGN_OR_RETURN(auto runtime, core->runtime(api));
    auto session = chat::ChatSession::resume(runtime, *store->store, session_id);
    if (!session.ok()) return session.status().with_context(api);
    *chat_out = new_chat(core, store->store, std::move(session).value());
    return OkStatus();
  });
}

STEMMA_API void stemma_chat_free(stemma_chat* chat) {
  guarded_void(__func__, [&, api = __func__] {
    if (chat != nullptr && unregister_handle(chat, HandleKind::kChat)) delete chat;
  });
}

STEMMA_API stemma_status stemma_chat_id(const stemma_chat* chat, int64_t* session_id_out) {
  return guarded(__func__, [&, api = __func__]() -> Status {
    STEMMA_RETURN_IF_ERROR(check_handle(api, "chat", chat, HandleKind::kChat));
    STEMMA_RETURN_IF_ERROR(check_not_null(api, "session_id_out", session_id_out));
    const auto id = chat->session->id();
    if (!id) {
      return FailedPrecondition(std::string(api) +
                                ": the chat is not persisted (it was made without a store)");
    }
    *session_id_out = *id;
    return OkStatus();
  });
}

STEMMA_API stemma_status stemma_chat_send(stemma_chat* chat, const char* user_message,
                                          const stemma_gen_options* options,
                                          stemma_stream_fn stream, void* user_data,
                                          char** reply_out) {
  return guarded(__func__, [&, api = __func__]() -> Status {
    STEMMA_RETURN_IF_ERROR(check_not_null(api, "reply_out", reply_out));
    *reply_out = nullptr;
    STEMMA_RETURN_IF_ERROR(check_handle(api, "chat", chat, HandleKind::kChat));
    STEMMA_RETURN_IF_ERROR(check_text(api, "user_message", user_message));
    STEMMA_ASSIGN_OR_RETURN(GenerationOptions g, to_generation_options(api, options));
    std::shared_ptr<StreamBridge> bridge;
    if (stream != nullptr) bridge = std::make_shared<StreamBridge>(stream, user_data);
    auto reply = chat->session->send(user_message, g, text_callback(bridge));
    if (!reply.ok()) return reply.status().with_context(api);
    STEMMA_RETURN_IF_ERROR(copy_out(api, "reply_out", c_safe_text(reply->text), reply_out));
    if (reply->finish == FinishReason::kCancelled) {
      return Cancelled(std::string(api) +
                       ": the stream callback cancelled the reply (it is not kept in the history)");
    }
    return OkStatus();
  });
}

STEMMA_API stemma_status stemma_chat_set_history_policy(stemma_chat* chat, int32_t policy) {
  return guarded(__func__, [&, api = __func__]() -> Status {
    STEMMA_RETURN_IF_ERROR(check_handle(api, "chat", chat, HandleKind::kChat));
    if (policy == STEMMA_HISTORY_DROP_OLDEST) {
      chat->session->set_history_policy(chat::HistoryPolicy::kDropOldest);
    } else if (policy == STEMMA_HISTORY_REFUSE) {
      chat->session->set_history_policy(chat::HistoryPolicy::kRefuse);
    } else {
      return InvalidArgument(std::string(api) + ": policy " + std::to_string(policy) +
                             " is not STEMMA_HISTORY_DROP_OLDEST (0) or STEMMA_HISTORY_REFUSE (1)");
    }
    return OkStatus();
  });
}

STEMMA_API stemma_status stemma_chat_history(const stemma_chat* chat, char** messages_json_out) {
  return guarded(__func__, [&, api = __func__]() -> Status {
    STEMMA_RETURN_IF_ERROR(check_not_null(api, "messages_json_out", messages_json_out));
    *messages_json_out = nullptr;
    STEMMA_RETURN_IF_ERROR(check_handle(api, "chat", chat, HandleKind::kChat));
    return copy_out(api, "messages_json_out", chat->session->history_json(), messages_json_out);
  });
}

}  // extern "C"
