#include "capi/handles.h"

#include <cstdio>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>

namespace stemma::capi {
namespace {

struct Registry {
  std::shared_mutex mu;
  std::unordered_map<const void*, HandleKind> live;
};

// Never destroyed: handles may be checked from other libraries' static destructors at exit.
Registry& registry() {
  static Registry* r = new Registry();
  return *r;
}

std::string pointer_text(const void* p) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%p", p);
  return buf;
}

}  // namespace

const char* handle_kind_name(HandleKind kind) {
  switch (kind) {
    case HandleKind::kEngine:
      return "stemma_engine";
    case HandleKind::kProgram:
      return "stemma_program";
    case HandleKind::kChatStore:
      return "stemma_chat_store";
    case HandleKind::kChat:
      return "stemma_chat";
    case HandleKind::kRag:
      return "stemma_rag";
    case HandleKind::kAgent:
      return "stemma_agent";
    case HandleKind::kToolResult:
      return "stemma_tool_result";
  }
  return "handle";
}

void register_handle(const void* handle, HandleKind kind) {
  Registry& r = registry();
  std::unique_lock lock(r.mu);
  r.live[handle] = kind;
}

bool unregister_handle(const void* handle, HandleKind kind) {
  Registry& r = registry();
  std::unique_lock lock(r.mu);
  auto it = r.live.find(handle);
  if (it == r.live.end() || it->second != kind) return false;
  r.live.erase(it);
  return true;
}

bool is_live_handle(const void* handle, HandleKind kind) {
  Registry& r = registry();
  std::shared_lock lock(r.mu);
  auto it = r.live.find(handle);
  return it != r.live.end() && it->second == kind;
}

Status check_handle(const char* function, const char* arg, const void* handle, HandleKind kind) {
  const std::string where = std::string(function) + ": " + arg;
  if (handle == nullptr) return InvalidArgument(where + " is NULL");
  Registry& r = registry();
  std::shared_lock lock(r.mu);
  auto it = r.live.find(handle);
  if (it == r.live.end()) {
    return InvalidArgument(where + " (" + pointer_text(handle) + ") is not a live " +
                           handle_kind_name(kind) + " (already freed, or never created)");
  }
  if (it->second != kind) {
    return InvalidArgument(where + " is a " + std::string(handle_kind_name(it->second)) +
                           ", not a " + handle_kind_name(kind));
  }
  return OkStatus();
}

}  // namespace stemma::capi
