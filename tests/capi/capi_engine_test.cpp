// stemma_engine_* and the text functions (tokenize, detokenize, chat_format) against the demo
// model's HF files: tokenizer.json / tokenizer_config.json and HF's greedy replies, and the eval
// prompts rendered by tools/train/faq_format.py.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/capi/capi_test_util.h"

using namespace capi_test;

namespace {

nlohmann::json hf_file(const std::string& name) {
  std::ifstream in(std::string(STEMMA_FIXTURES_DIR) + "/faq-model/" + name);
  return nlohmann::json::parse(in);
}

int32_t hf_token_id(const std::string& content) {
  const nlohmann::json tokenizer = hf_file("tokenizer.json");  // outlives the loop
  for (const auto& t : tokenizer.at("added_tokens")) {
    if (t.at("content") == content) return t.at("id").get<int32_t>();
  }
  return -1;
}

std::vector<int32_t> tokenize(const std::string& text, int32_t add_special) {
  int32_t* ids = nullptr;
  size_t n = 0;
  REQUIRE(stemma_tokenize(engine(), text.c_str(), add_special, &ids, &n) == STEMMA_OK);
  std::vector<int32_t> out(ids, ids + n);
  stemma_tokens_free(ids);
  return out;
}

}  // namespace

TEST_CASE("the *_init functions write only the caller's struct_size, else the library's") {
  // A caller's struct followed by bytes that are not its own: init must never touch them.
  struct Guarded {
    stemma_gen_options o;
    unsigned char after[32];
  };
  for (size_t preset : {sizeof(stemma_gen_options), size_t{0}, size_t{3}, size_t{1} << 40}) {
    Guarded g;
    std::memset(&g, 0xAB, sizeof g);
    g.o.struct_size = preset;
    stemma_gen_options_init(&g.o);
    CHECK(g.o.struct_size == sizeof(stemma_gen_options));  // only v1 exists: all map to it
    CHECK(g.o.max_tokens == 128);
    CHECK(g.o.jump_forward == 1);
    for (unsigned char c : g.after) CHECK(c == 0xAB);
  }
  stemma_agent_options a;
  STEMMA_STRUCT_INIT(&a);
  stemma_agent_options_init(&a);
  CHECK(a.tool_choice == STEMMA_TOOL_CHOICE_AUTO);
  CHECK(a.max_steps == 8);
}

TEST_CASE("opening: options are checked and errors name the file") {
  stemma_engine* e = nullptr;
  stemma_engine_options o;
  stemma_engine_options_init(&o);
  CHECK(o.struct_size == sizeof o);
  CHECK(o.radix_cache == 1);
  CHECK(stemma_engine_open(&o, &e) == STEMMA_INVALID_ARGUMENT);  // no model_path
  CHECK(last_error() == "stemma_engine_open: options->model_path is NULL");
  o.model_path = kModel.c_str();
  for (size_t size : {size_t{0}, size_t{8}, sizeof o - 1, sizeof o + 1, size_t{1} << 40}) {
    o.struct_size = size;
    CHECK(stemma_engine_open(&o, &e) == STEMMA_INVALID_ARGUMENT);
    CHECK(last_error().find("options->struct_size is " + std::to_string(size)) !=
          std::string::npos);
  }
  o.struct_size = sizeof o;
  o.threads = -1;
  CHECK(stemma_engine_open(&o, &e) == STEMMA_INVALID_ARGUMENT);
  CHECK(last_error().find("threads is -1") != std::string::npos);
  o.threads = 1;
  o.radix_cache = 2;
  CHECK(stemma_engine_open(&o, &e) == STEMMA_INVALID_ARGUMENT);
  o.radix_cache = 1;
  o.kv_memory_bytes = 100;  // holds no page
  CHECK(stemma_engine_open(&o, &e) == STEMMA_INVALID_ARGUMENT);
  CHECK(last_error().find("kv_memory_bytes 100") != std::string::npos);
  CHECK(e == nullptr);

  const std::string missing = std::string(STEMMA_BUILD_DIR) + "/no-such-model.gguf";
  o.kv_memory_bytes = 0;
  o.model_path = missing.c_str();
  CHECK(stemma_engine_open(&o, &e) != STEMMA_OK);
  CHECK(last_error().find(missing) != std::string::npos);
  // A file that is not a model: refused by name, never a crash.
  const std::string junk = std::string(STEMMA_BUILD_DIR) + "/capi_engine_test_junk.gguf";
  std::ofstream(junk) << "GGUF but not really";
  o.model_path = junk.c_str();
  const stemma_status s = stemma_engine_open(&o, &e);
  CHECK((s == STEMMA_CORRUPT_DATA || s == STEMMA_INVALID_ARGUMENT || s == STEMMA_UNSUPPORTED));
  CHECK(last_error().find(junk) != std::string::npos);
  std::filesystem::remove(junk);
}

TEST_CASE("backend: cuda without CUDA is refused naming it; auto says it fell back to the CPU") {
  stemma_engine_options o;
  stemma_engine_options_init(&o);
  CHECK(o.backend == STEMMA_BACKEND_AUTO);
  CHECK(o.device == 0);
  CHECK(o.gpu_kv_memory_bytes == 0);
  CHECK(o.shared_prefix_attention == 1);
  o.model_path = kModel.c_str();
  o.threads = 1;
  o.kv_memory_bytes = int64_t{16} << 20;
  stemma_engine* e = nullptr;
  o.backend = 7;
  CHECK(stemma_engine_open(&o, &e) == STEMMA_INVALID_ARGUMENT);
  CHECK(last_error().find("options->backend is 7") != std::string::npos);
  o.backend = STEMMA_BACKEND_CUDA;
  o.device = -1;
  CHECK(stemma_engine_open(&o, &e) == STEMMA_INVALID_ARGUMENT);
  CHECK(last_error().find("options->device is -1") != std::string::npos);
  o.device = 0;
  o.shared_prefix_attention = 2;
  CHECK(stemma_engine_open(&o, &e) == STEMMA_INVALID_ARGUMENT);
  CHECK(last_error().find("shared_prefix_attention is 2") != std::string::npos);
  o.shared_prefix_attention = 1;
  // This machine has no GPU: not compiled in (Unsupported), or no usable device.
  const stemma_status s = stemma_engine_open(&o, &e);
  CHECK((s == STEMMA_UNSUPPORTED || s == STEMMA_FAILED_PRECONDITION));
  CHECK(e == nullptr);
  CHECK(last_error().find("cuda") != std::string::npos);
  if (s == STEMMA_UNSUPPORTED) CHECK(last_error().find("no CUDA backend") != std::string::npos);

  for (int32_t backend : {STEMMA_BACKEND_AUTO, STEMMA_BACKEND_CPU}) {
    o.backend = backend;
    REQUIRE(stemma_engine_open(&o, &e) == STEMMA_OK);
    CString info;
    REQUIRE(stemma_engine_model_info(e, info.out()) == STEMMA_OK);
    const auto j = info.json();
    CHECK(j.at("backend") == "cpu");
    const std::string note = j.at("backend_note").get<std::string>();
    if (backend == STEMMA_BACKEND_AUTO) {
      CHECK(note.rfind("auto: ", 0) == 0);
      CHECK(note.find("running on the CPU") != std::string::npos);
    } else {
      CHECK(note.empty());
    }
    stemma_engine_free(e);
    e = nullptr;
  }
}

TEST_CASE("a stemma_engine_options of the first release's size still opens, on the defaults") {
  // A caller built against the first header: its struct ends at radix_cache; whatever follows
  // in memory is not the library's to read.
  struct V1Caller {
    stemma_engine_options o;
    unsigned char after[32];
  };
  V1Caller c;
  std::memset(&c, 0xAB, sizeof c);
  const size_t v1_size = offsetof(stemma_engine_options, radix_cache) + sizeof(int32_t);
  c.o.struct_size = v1_size;
  stemma_engine_options_init(&c.o);
  CHECK(c.o.struct_size == v1_size);
  CHECK(c.o.radix_cache == 1);
  CHECK(c.o.backend == static_cast<int32_t>(0xABABABAB));  // past its size: untouched
  c.o.model_path = kModel.c_str();
  c.o.threads = 1;
  c.o.kv_memory_bytes = int64_t{16} << 20;
  stemma_engine* e = nullptr;
  REQUIRE_MESSAGE(stemma_engine_open(&c.o, &e) == STEMMA_OK, last_error());
  CString info;
  REQUIRE(stemma_engine_model_info(e, info.out()) == STEMMA_OK);
  CHECK(info.json().at("backend") == "cpu");  // auto, the default
  stemma_engine_free(e);
}

TEST_CASE("model_info describes the model as its HF files do") {
  CString info;
  REQUIRE(stemma_engine_model_info(engine(), info.out()) == STEMMA_OK);
  const auto j = info.json();
  CHECK(j.at("architecture") == "llama");
  CHECK(j.at("vocab_size").get<size_t>() ==
        hf_file("tokenizer.json").at("model").at("vocab").size());
  CHECK(j.at("context_length") == hf_file("tokenizer_config.json").at("model_max_length"));
  CHECK(j.at("has_tokenizer") == true);
  CHECK(j.at("has_chat_template") == true);
}

TEST_CASE("tokenize and detokenize agree with HF's tokenizer on HF's own replies") {
  const auto cases = hf_cases(14);
  REQUIRE(cases.size() >= 15);
  for (const auto& c : cases) {
    CAPTURE(c.id);
    // HF generated these ids and decoded them into `output`: the same text back, and the
    // text encodes to the same ids (the model writes the tokenizer's own segmentation).
    CString text;
    REQUIRE(stemma_detokenize(engine(), c.output_ids.data(), c.output_ids.size(), text.out()) ==
            STEMMA_OK);
    CHECK(text.str() == c.output);
    CHECK(tokenize(c.output, 0) == c.output_ids);
  }
  // add_special follows tokenizer_config.json: BOS first, no EOS; special tokens in the text
  // are the tokens of tokenizer.json.
  const int32_t bos = hf_token_id(hf_file("tokenizer_config.json").at("bos_token"));
  const auto with_bos = tokenize("<|im_start|>user\nhi<|im_end|>", 1);
  REQUIRE(with_bos.size() >= 4);
  CHECK(with_bos.front() == bos);
  CHECK(with_bos[1] == hf_token_id("<|im_start|>"));
  CHECK(with_bos.back() == hf_token_id("<|im_end|>"));
  CHECK(tokenize("<|im_start|>user\nhi<|im_end|>", 0) ==
        std::vector<int32_t>(with_bos.begin() + 1, with_bos.end()));
  CHECK(tokenize("", 0).empty());
}

TEST_CASE("tokenize / detokenize refuse bad input by name") {
  int32_t* ids = nullptr;
  size_t n = 7;
  CHECK(stemma_tokenize(engine(), "x", 2, &ids, &n) == STEMMA_INVALID_ARGUMENT);
  CHECK(last_error() == "stemma_tokenize: add_special is 2; must be 0 or 1");
  CHECK(ids == nullptr);
  CHECK(n == 0);
  CHECK(stemma_tokenize(engine(), "x", 1, nullptr, &n) == STEMMA_INVALID_ARGUMENT);
  CHECK(stemma_tokenize(engine(), "x", 1, &ids, nullptr) == STEMMA_INVALID_ARGUMENT);
  const int32_t bad[] = {5, 100000, 6};
  CString text;
  CHECK(stemma_detokenize(engine(), bad, 3, text.out()) == STEMMA_OUT_OF_RANGE);
  CHECK(last_error().find("tokens[1] = 100000") != std::string::npos);
  CHECK(stemma_detokenize(engine(), nullptr, 2, text.out()) == STEMMA_INVALID_ARGUMENT);
  REQUIRE(stemma_detokenize(engine(), nullptr, 0, text.out()) == STEMMA_OK);
  CHECK(text.str().empty());
}

TEST_CASE("chat_format renders eval prompts byte for byte as faq_format.py did") {
  const auto cases = hf_cases(30);
  REQUIRE(cases.size() >= 8);
  for (const auto& c : cases) {
    CAPTURE(c.id);
    const auto messages = split_chatml(c.prompt);
    REQUIRE(messages.size() >= 3);
    CString text;
    REQUIRE(stemma_chat_format(engine(), messages.dump().c_str(), nullptr, 1, text.out()) ==
            STEMMA_OK);
    CHECK(text.str() == c.prompt);
  }
  CString text;
  CHECK(stemma_chat_format(engine(), "[{\"role\": 1}]", nullptr, 1, text.out()) ==
        STEMMA_INVALID_ARGUMENT);
  CHECK(last_error() == "stemma_chat_format: messages_json[0] has no string \"role\"");
  CHECK(stemma_chat_format(engine(), "[{\"role\": \"user\", \"content\": \"x\"", nullptr, 1,
                           text.out()) == STEMMA_INVALID_ARGUMENT);
  CHECK(last_error().find("messages_json is not valid JSON (byte") != std::string::npos);
  CHECK(stemma_chat_format(engine(), "{}", nullptr, 0, text.out()) == STEMMA_INVALID_ARGUMENT);
  CHECK(stemma_chat_format(engine(), "[]", "{\"a\": 1}", 0, text.out()) == STEMMA_INVALID_ARGUMENT);
  CHECK(stemma_chat_format(engine(), "[]", nullptr, 3, text.out()) == STEMMA_INVALID_ARGUMENT);
}

TEST_CASE("stats: struct_size is honoured and counts follow the work done") {
  stemma_engine_stats before;
  stemma_engine_stats_init(&before);
  REQUIRE(stemma_engine_stats_get(engine(), &before) == STEMMA_OK);
  CHECK(before.pages_total > 0);
  const auto c = hf_cases(14).at(0);
  stemma_gen_options g = gen_options(static_cast<int32_t>(c.output_ids.size()) + 1);
  CString text;
  REQUIRE(stemma_generate(engine(), c.prompt.c_str(), &g, nullptr, nullptr, text.out(), nullptr) ==
          STEMMA_OK);
  stemma_engine_stats after;
  stemma_engine_stats_init(&after);
  REQUIRE(stemma_engine_stats_get(engine(), &after) == STEMMA_OK);
  // HF's reply and the EOS after it.
  CHECK(after.generated_tokens - before.generated_tokens ==
        static_cast<int64_t>(c.output_ids.size()) + 1);
  CHECK(after.running == 0);
  CHECK(after.queued == 0);
  for (size_t size : {size_t{0}, sizeof after - 4, sizeof after + 8}) {
    after.struct_size = size;
    CHECK(stemma_engine_stats_get(engine(), &after) == STEMMA_INVALID_ARGUMENT);
    CHECK(last_error().find("stats->struct_size is " + std::to_string(size)) != std::string::npos);
  }
  CHECK(stemma_engine_stats_get(engine(), nullptr) == STEMMA_INVALID_ARGUMENT);
}

TEST_CASE("freeing an engine cancels a generation running on another thread") {
  stemma_engine_options o;
  stemma_engine_options_init(&o);
  o.model_path = kModel.c_str();
  o.threads = 1;
  stemma_engine* e = nullptr;
  REQUIRE(stemma_engine_open(&o, &e) == STEMMA_OK);
  struct Shared {
    std::atomic<int> pieces{0};
    std::atomic<bool> freed{false};
  } shared;
  stemma_status status = STEMMA_OK;
  stemma_finish_reason finish = STEMMA_FINISH_NONE;
  std::string text;
  std::thread worker([&] {
    stemma_gen_options g = gen_options(1000);
    g.regex = "(ab)+";  // never ends on its own before max_tokens
    g.jump_forward = 0;
    CString out;
    auto cb = [](void* user, const char*, size_t) -> int32_t {
      auto* s = static_cast<Shared*>(user);
      s->pieces++;
      // Hold the engine thread until the engine handle is gone (bounded, for a test only).
      for (int i = 0; i < 2000 && !s->freed.load(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      return 0;
    };
    status = stemma_generate(e, "Say ab:", &g, cb, &shared, out.out(), &finish);
    text = out.str();
  });
  while (shared.pieces.load() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  stemma_engine_free(e);
  shared.freed = true;
  worker.join();
  CHECK(status == STEMMA_CANCELLED);
  CHECK(finish == STEMMA_FINISH_CANCELLED);
  CHECK(text.size() < 2000);
  CHECK(text.rfind("ab", 0) == 0);
}

TEST_CASE("freeing an engine during a long prefill cancels it without waiting for the step") {
  // Issue 15 item 11: the cancel interrupts the prefill step in flight (engine_cancel_test
  // checks that by counters; bench/engine/cancel_latency measures it). Here the C ABI's cancel
  // path: the call returns CANCELLED with no text, well before the prompt could be prefilled.
  stemma_engine_options o;
  stemma_engine_options_init(&o);
  o.model_path = kModel.c_str();
  o.threads = 1;
  o.max_batch_tokens = 2048;
  stemma_engine* e = nullptr;
  REQUIRE(stemma_engine_open(&o, &e) == STEMMA_OK);
  std::string prompt;
  for (int i = 0; i < 130; ++i) prompt += "The quick brown fox jumps over the lazy dog. ";
  int32_t* ids = nullptr;
  size_t count = 0;
  REQUIRE(stemma_tokenize(e, prompt.c_str(), 1, &ids, &count) == STEMMA_OK);
  stemma_tokens_free(ids);
  REQUIRE(count > 1000);
  REQUIRE(count < 2000);
  std::atomic<int> pieces{0};
  stemma_status status = STEMMA_OK;
  stemma_finish_reason finish = STEMMA_FINISH_NONE;
  std::string text;
  std::thread worker([&] {
    stemma_gen_options g = gen_options(8);
    CString out;
    auto cb = [](void* user, const char*, size_t) -> int32_t {
      static_cast<std::atomic<int>*>(user)->fetch_add(1);
      return 0;
    };
    status = stemma_generate(e, prompt.c_str(), &g, cb, &pieces, out.out(), &finish);
    text = out.str();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the prefill is under way
  const auto freed = std::chrono::steady_clock::now();
  stemma_engine_free(e);
  worker.join();
  const double waited =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - freed).count();
  CHECK(status == STEMMA_CANCELLED);
  CHECK(finish == STEMMA_FINISH_CANCELLED);
  CHECK(pieces.load() == 0);
  CHECK(text.empty());
  // Generous: a prefill of this prompt on one thread takes seconds (more under sanitizers);
  // an interrupted one returns in milliseconds.
  CHECK(waited < 1.0);
}
