// The handle registry (capi/handles.*) on its own: a handle made for an address that a freed
// handle had is a different value, and the dead one is refused (issue 15 item 13).
#include "capi/handles.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <set>

using namespace stemma;
using namespace stemma::capi;

namespace {

struct Object {
  int value = 0;
};

}  // namespace

TEST_CASE("a handle whose address was reused by a new object is refused") {
  static Object slot;  // the same memory, handed out again: what malloc does after a free
  Object* first = register_handle(&slot, HandleKind::kChat);
  Object* dead = first;
  REQUIRE(unregister_handle(first, HandleKind::kChat));
  CHECK(first == &slot);  // unregistering gives the object's address back
  Object* second = register_handle(&slot, HandleKind::kChat);
  CHECK(second != dead);
  // The dead handle is not the new object's, for any call and for free.
  Object* probe = dead;
  const Status s = check_handle("stemma_chat_send", "chat", probe, HandleKind::kChat);
  CHECK(s.code() == StatusCode::kInvalidArgument);
  CHECK(s.message().find("is not a live stemma_chat") != std::string::npos);
  CHECK(probe == dead);  // unchanged on failure
  probe = dead;
  CHECK_FALSE(unregister_handle(probe, HandleKind::kChat));
  probe = dead;
  CHECK_FALSE(is_live_handle(probe, HandleKind::kChat));
  // The live handle resolves to the object; the raw address is not a handle.
  Object* live = second;
  REQUIRE(check_handle("f", "chat", live, HandleKind::kChat).ok());
  CHECK(live == &slot);
  Object* raw = &slot;
  CHECK_FALSE(check_handle("f", "chat", raw, HandleKind::kChat).ok());
  // Kind checks still hold.
  Object* other = second;
  const Status k = check_handle("f", "rag", other, HandleKind::kRag);
  CHECK(k.message() == "f: rag is a stemma_chat, not a stemma_rag");
  REQUIRE(unregister_handle(second, HandleKind::kChat));
}

TEST_CASE("an address made and freed over and over gets a new handle each time") {
  static Object slot;
  std::set<uintptr_t> seen;
  for (int i = 0; i < 5000; ++i) {
    Object* h = register_handle(&slot, HandleKind::kEngine);
    CHECK(seen.insert(reinterpret_cast<uintptr_t>(h)).second);
    // The tag lives above the address bits: the object is found again from the handle.
    Object* resolved = h;
    REQUIRE(check_handle("f", "engine", resolved, HandleKind::kEngine).ok());
    CHECK(resolved == &slot);
    REQUIRE(unregister_handle(h, HandleKind::kEngine));
  }
  CHECK(seen.size() == 5000);
}
