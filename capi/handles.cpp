#include "capi/handles.h"

#include <cstdint>
#include <cstdio>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>

namespace stemma::capi {
namespace {

struct Entry {
  HandleKind kind;
  uint64_t tag;
};

struct Registry {
  std::shared_mutex mu;
  std::unordered_map<uintptr_t, Entry> live;  // by object address
  uint64_t next_tag = 0;
};

constexpr int kTagShift = 48;
constexpr uint64_t kTagCount = 0x7fff;  // tags 1..32767 in bits 48..62
constexpr uintptr_t kAddressMask = (uintptr_t{1} << kTagShift) - 1;

static_assert(sizeof(uintptr_t) == 8, "handles carry a tag in bits 48..62 of 64-bit pointers");

// Never destroyed: handles may be checked from other libraries' static destructors at exit.
Registry& registry() {
  static Registry* r = new Registry();
  return *r;
}

// The entry of a live handle: a tagged one (object below 2^48, tag in bits 48..62) or an
// untagged one (object above 2^48, tag 0); end() when there is none or the tag is stale.
std::unordered_map<uintptr_t, Entry>::iterator find_live(Registry& r, const void* handle) {
  const auto v = reinterpret_cast<uintptr_t>(handle);
  const uint64_t tag = (v >> 63) == 0 ? (v >> kTagShift) : 0;
  if (tag != 0) {
    auto it = r.live.find(v & kAddressMask);
    if (it != r.live.end() && it->second.tag == tag) return it;
  }
  auto it = r.live.find(v);
  if (it != r.live.end() && it->second.tag == 0) return it;
  return r.live.end();
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

const void* register_handle_raw(const void* object, HandleKind kind) {
  const auto addr = reinterpret_cast<uintptr_t>(object);
  Registry& r = registry();
  std::unique_lock lock(r.mu);
  uint64_t tag = 0;
  if ((addr >> kTagShift) == 0) tag = 1 + (r.next_tag++ % kTagCount);
  r.live[addr] = Entry{kind, tag};
  return reinterpret_cast<const void*>(addr | static_cast<uintptr_t>(tag << kTagShift));
}

const void* unregister_handle_raw(const void* handle, HandleKind kind) {
  if (handle == nullptr) return nullptr;
  Registry& r = registry();
  std::unique_lock lock(r.mu);
  auto it = find_live(r, handle);
  if (it == r.live.end() || it->second.kind != kind) return nullptr;
  const auto object = reinterpret_cast<const void*>(it->first);
  r.live.erase(it);
  return object;
}

const void* live_object(const void* handle, HandleKind kind) {
  if (handle == nullptr) return nullptr;
  Registry& r = registry();
  std::shared_lock lock(r.mu);
  auto it = find_live(r, handle);
  if (it == r.live.end() || it->second.kind != kind) return nullptr;
  return reinterpret_cast<const void*>(it->first);
}

Status check_handle_raw(const char* function, const char* arg, const void* handle, HandleKind kind,
                        const void** object) {
  const std::string where = std::string(function) + ": " + arg;
  if (handle == nullptr) return InvalidArgument(where + " is NULL");
  Registry& r = registry();
  std::shared_lock lock(r.mu);
  auto it = find_live(r, handle);
  if (it == r.live.end()) {
    return InvalidArgument(where + " (" + pointer_text(handle) + ") is not a live " +
                           handle_kind_name(kind) + " (already freed, or never created)");
  }
  if (it->second.kind != kind) {
    return InvalidArgument(where + " is a " + std::string(handle_kind_name(it->second.kind)) +
                           ", not a " + handle_kind_name(kind));
  }
  *object = reinterpret_cast<const void*>(it->first);
  return OkStatus();
}

}  // namespace stemma::capi
