// stemma_chat_store_* / stemma_chat_*: replies are what the chat template and generate give,
// sessions persist in a file and resume after the handles are gone, cancellation keeps the
// history unchanged, and misuse is refused.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/capi/capi_test_util.h"

using namespace capi_test;

namespace {

std::string temp_path(const std::string& name) {
  const auto dir = std::filesystem::path(STEMMA_BUILD_DIR) / "capi_chat_test";
  std::filesystem::create_directories(dir);
  const auto path = dir / name;
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::filesystem::remove(path.string() + suffix);
  }
  return path.string();
}

nlohmann::json history(stemma_chat* chat) {
  CString h;
  REQUIRE(stemma_chat_history(chat, h.out()) == STEMMA_OK);
  return h.json();
}

// The reply stemma_generate gives for `messages` rendered by the model's template.
std::string reference_reply(const nlohmann::json& messages, int32_t max_tokens) {
  CString prompt, text;
  REQUIRE(stemma_chat_format(engine(), messages.dump().c_str(), nullptr, 1, prompt.out()) ==
          STEMMA_OK);
  stemma_gen_options o = gen_options(max_tokens);
  REQUIRE(stemma_generate(engine(), prompt.p, &o, nullptr, nullptr, text.out(), nullptr) ==
          STEMMA_OK);
  return text.str();
}

}  // namespace

TEST_CASE("a persisted chat: replies as the template renders it, resumed from the file") {
  const std::string path = temp_path("chats.db");
  const std::string system = faq_system_prompt();
  const std::vector<std::string> questions = {"How do I reset my Lumora Hub?",
                                              "And how long does the battery last?"};
  stemma_gen_options o = gen_options(80);
  int64_t id = 0;
  nlohmann::json expected = nlohmann::json::array({{{"role", "system"}, {"content", system}}});
  {
    stemma_chat_store* store = nullptr;
    REQUIRE(stemma_chat_store_open(path.c_str(), &store) == STEMMA_OK);
    stemma_chat* chat = nullptr;
    REQUIRE(stemma_chat_new(engine(), store, system.c_str(), &chat) == STEMMA_OK);
    REQUIRE(stemma_chat_id(chat, &id) == STEMMA_OK);
    CHECK(id > 0);
    stemma_chat_store_free(store);  // the chat keeps the store open
    expected.push_back({{"role", "user"}, {"content", questions[0]}});
    const std::string want = reference_reply(expected, 80);
    CString reply;
    REQUIRE(stemma_chat_send(chat, questions[0].c_str(), &o, nullptr, nullptr, reply.out()) ==
            STEMMA_OK);
    CHECK(reply.str() == want);
    expected.push_back({{"role", "assistant"}, {"content", want}});
    CHECK(history(chat) == expected);
    stemma_chat_free(chat);
  }
  // Another store handle on the same file (as after a restart) resumes the session.
  stemma_chat_store* store = nullptr;
  REQUIRE(stemma_chat_store_open(path.c_str(), &store) == STEMMA_OK);
  stemma_chat* chat = nullptr;
  REQUIRE(stemma_chat_resume(engine(), store, id, &chat) == STEMMA_OK);
  CHECK(history(chat) == expected);
  expected.push_back({{"role", "user"}, {"content", questions[1]}});
  const std::string want = reference_reply(expected, 80);
  CString reply;
  REQUIRE(stemma_chat_send(chat, questions[1].c_str(), &o, nullptr, nullptr, reply.out()) ==
          STEMMA_OK);
  CHECK(reply.str() == want);
  expected.push_back({{"role", "assistant"}, {"content", want}});
  CHECK(history(chat) == expected);
  stemma_chat_free(chat);

  CHECK(stemma_chat_resume(engine(), store, id + 1000, &chat) == STEMMA_NOT_FOUND);
  CHECK(chat == nullptr);
  stemma_chat_store_free(store);
}

TEST_CASE("a cancelled reply is returned but not kept; an unpersisted chat has no id") {
  stemma_chat* chat = nullptr;
  REQUIRE(stemma_chat_new(engine(), nullptr, nullptr, &chat) == STEMMA_OK);
  int64_t id = -1;
  CHECK(stemma_chat_id(chat, &id) == STEMMA_FAILED_PRECONDITION);
  CHECK(id == -1);
  int pieces = 0;
  auto cancel_at_two = [](void* user, const char*, size_t) -> int32_t {
    return ++*static_cast<int*>(user) >= 2;
  };
  stemma_gen_options o = gen_options(60);
  CString reply;
  CHECK(stemma_chat_send(chat, "How do I reset my Lumora Hub?", &o, cancel_at_two, &pieces,
                         reply.out()) == STEMMA_CANCELLED);
  CHECK(pieces == 2);
  CHECK(!reply.str().empty());
  // The user's message stays, the cancelled reply does not.
  const auto h = history(chat);
  CHECK(h.size() == 1);
  CHECK(h.at(0).at("role") == "user");
  stemma_chat_free(chat);
}

TEST_CASE("chat misuse and foreign files are refused; the file is left as it was") {
  stemma_chat* chat = nullptr;
  CString reply;
  CHECK(stemma_chat_send(nullptr, "hi", nullptr, nullptr, nullptr, reply.out()) ==
        STEMMA_INVALID_ARGUMENT);
  CHECK(stemma_chat_new(engine(), nullptr, "\xFF", &chat) == STEMMA_INVALID_ARGUMENT);
  CHECK(last_error() == "stemma_chat_new: system_prompt is not valid UTF-8 (byte 0 of 1)");
  CHECK(stemma_chat_resume(engine(), nullptr, 1, &chat) == STEMMA_INVALID_ARGUMENT);
  REQUIRE(stemma_chat_new(engine(), nullptr, nullptr, &chat) == STEMMA_OK);
  stemma_gen_options o = gen_options(8);
  o.struct_size = 1;
  CHECK(stemma_chat_send(chat, "hi", &o, nullptr, nullptr, reply.out()) == STEMMA_INVALID_ARGUMENT);
  CHECK(stemma_chat_send(chat, "hi\xC3", nullptr, nullptr, nullptr, reply.out()) ==
        STEMMA_INVALID_ARGUMENT);
  CHECK(history(chat).empty());  // nothing was sent
  stemma_chat_free(chat);

  const std::string path = temp_path("not-a-database.db");
  const std::string content = "these are my notes, not a database\n";
  std::ofstream(path) << content;
  stemma_chat_store* store = nullptr;
  CHECK(stemma_chat_store_open(path.c_str(), &store) == STEMMA_CORRUPT_DATA);
  CHECK(last_error().find(path) != std::string::npos);
  CHECK(store == nullptr);
  std::ifstream in(path);
  std::stringstream bytes;
  bytes << in.rdbuf();
  CHECK(bytes.str() == content);
}

TEST_CASE("a chat that outgrows the context drops its oldest turns, or is refused by choice") {
  // Issue 15 item 15: such a chat was OUT_OF_RANGE forever and the C ABI could not trim it.
  stemma_chat* chat = nullptr;
  REQUIRE(stemma_chat_new(engine(), nullptr, "Be brief.", &chat) == STEMMA_OK);
  CHECK(stemma_chat_set_history_policy(chat, 7) == STEMMA_INVALID_ARGUMENT);
  CHECK(last_error().find("policy 7") != std::string::npos);
  CHECK(stemma_chat_set_history_policy(nullptr, STEMMA_HISTORY_REFUSE) == STEMMA_INVALID_ARGUMENT);
  REQUIRE(stemma_chat_set_history_policy(chat, STEMMA_HISTORY_REFUSE) == STEMMA_OK);
  std::string long_message;
  for (int i = 0; i < 70; ++i) long_message += "My hub blinks blue after the update. ";
  stemma_gen_options o = gen_options(4);
  stemma_status last = STEMMA_OK;
  int sent = 0;
  for (; sent < 10; ++sent) {  // the 2,048-token context holds a few of these
    CString reply;
    last = stemma_chat_send(chat, long_message.c_str(), &o, nullptr, nullptr, reply.out());
    if (last != STEMMA_OK) break;
  }
  CHECK(last == STEMMA_OUT_OF_RANGE);
  CHECK(sent >= 2);
  const size_t turns = history(chat).size();
  REQUIRE(stemma_chat_set_history_policy(chat, STEMMA_HISTORY_DROP_OLDEST) == STEMMA_OK);
  for (int i = 0; i < 2; ++i) {
    CString reply;
    REQUIRE(stemma_chat_send(chat, long_message.c_str(), &o, nullptr, nullptr, reply.out()) ==
            STEMMA_OK);
  }
  CHECK(history(chat).size() == turns + 4);  // every turn is kept in the history
  stemma_chat_free(chat);
}
