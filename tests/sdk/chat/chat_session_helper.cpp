// A small program the chat-session tests run as a separate process (twice, to show that a
// session survives a restart; or killed while it streams, to show that a crash loses no
// committed turn). Prints one JSON line.
//
//   chat_session_helper STORE new SYSTEM MESSAGE   -> {"id", "reply", "prompt_tokens", ...}
//   chat_session_helper STORE resume ID MESSAGE    -> {"history", "reply", "prompt_tokens", ...}
//   chat_session_helper STORE hang ID MESSAGE      -> prints "streaming" at the first piece, then
//                                                     blocks until killed
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "sdk/chat/chat_session.h"
#include "tests/sdk/program/sdk_test_models.h"

using namespace stemma;

namespace {

int fail(const std::string& what, const Status& s) {
  std::cerr << what << ": " << s.to_string() << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::cerr << "usage: chat_session_helper STORE new|resume|hang SYSTEM|ID MESSAGE\n";
    return 2;
  }
  const std::string store_path = argv[1], cmd = argv[2], arg = argv[3], message = argv[4];
  auto engine = sdktest::open_test_engine();
  if (!engine.ok()) return fail("engine", engine.status());
  auto store = chat::ChatStore::open(store_path);
  if (!store.ok()) return fail("store", store.status());
  Result<std::unique_ptr<chat::ChatSession>> session =
      cmd == "new" ? chat::ChatSession::create(engine->runtime, store->get(), arg)
                   : chat::ChatSession::resume(engine->runtime, **store, std::stoll(arg));
  if (!session.ok()) return fail("session", session.status());
  nlohmann::json out;
  out["history"] = nlohmann::json::parse((*session)->history_json());
  GenerationOptions g;
  g.max_tokens = 120;
  program::TextCallback stream;
  if (cmd == "hang") {
    stream = [](std::string_view) {
      std::printf("streaming\n");
      std::fflush(stdout);
      while (true) pause();  // killed here, in the middle of the reply
      return true;
    };
  }
  auto reply = (*session)->send(message, g, stream);
  if (!reply.ok()) return fail("send", reply.status());
  out["id"] = *(*session)->id();
  out["reply"] = reply->text;
  out["finish"] = finish_reason_name(reply->finish);
  out["prompt_tokens"] = reply->prompt_tokens;
  out["cached_tokens"] = reply->cached_tokens;
  std::cout << out.dump() << "\n";
  return 0;
}
