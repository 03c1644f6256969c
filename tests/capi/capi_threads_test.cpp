// Threads against the C ABI (issue 15): engines opened and freed from several threads at once,
// generations on one engine from many threads while another frees it, and handle misuse (NULL,
// freed, wrong-kind handles) racing with handles being made and freed. Meant for
// ThreadSanitizer (scripts/test_tsan.sh) as much as for the plain and ASan builds: every call
// must return, with a status in range, and the registry must never hand a dead handle through.
#include <atomic>
#include <thread>
#include <vector>

#include "tests/capi/capi_test_util.h"

using namespace capi_test;

namespace {

stemma_engine* open_engine() {
  stemma_engine_options o;
  stemma_engine_options_init(&o);
  o.model_path = kModel.c_str();
  o.threads = 1;
  o.kv_memory_bytes = int64_t{16} << 20;
  stemma_engine* e = nullptr;
  const stemma_status s = stemma_engine_open(&o, &e);
  if (s != STEMMA_OK) return nullptr;
  return e;
}

stemma_gen_options short_gen() {
  stemma_gen_options g;
  stemma_gen_options_init(&g);
  g.max_tokens = 2;
  return g;
}

}  // namespace

TEST_CASE("engines open, generate and close on several threads at once") {
  std::atomic<int> opened{0}, generated{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&] {
      for (int round = 0; round < 2; ++round) {
        stemma_engine* e = open_engine();
        if (e == nullptr) continue;
        opened.fetch_add(1);
        const stemma_gen_options g = short_gen();
        char* text = nullptr;
        if (stemma_generate(e, "How do I reset my hub?", &g, nullptr, nullptr, &text, nullptr) ==
            STEMMA_OK) {
          generated.fetch_add(1);
        }
        stemma_string_free(text);
        stemma_engine_free(e);
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(opened.load() == 6);
  CHECK(generated.load() == 6);
}

TEST_CASE("freeing an engine while other threads generate on it cancels them cleanly") {
  stemma_engine* e = open_engine();
  REQUIRE(e != nullptr);
  std::atomic<int> done{0}, bad_status{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&] {
      stemma_gen_options g = short_gen();
      g.max_tokens = 64;
      char* text = nullptr;
      const stemma_status s =
          stemma_generate(e, "Tell me about the hub.", &g, nullptr, nullptr, &text, nullptr);
      // OK (finished first), CANCELLED (the free cancelled it) or INVALID_ARGUMENT (the handle
      // was already gone when the call checked it).
      if (s != STEMMA_OK && s != STEMMA_CANCELLED && s != STEMMA_INVALID_ARGUMENT)
        bad_status.fetch_add(1);
      stemma_string_free(text);
      done.fetch_add(1);
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  stemma_engine_free(e);
  for (auto& t : threads) t.join();
  CHECK(done.load() == 3);
  CHECK(bad_status.load() == 0);
}

TEST_CASE("handle misuse races with handles being made and freed") {
  stemma_engine* e = engine();
  std::atomic<bool> stop{false};
  std::atomic<int> accepted_bad{0};
  // Makers: programs and RAG stores appear and disappear.
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&] {
      while (!stop.load()) {
        stemma_program* p = nullptr;
        if (stemma_program_new(e, &p) == STEMMA_OK) {
          (void)stemma_program_append(p, "hello");
          stemma_program_free(p);
          stemma_program_free(p);  // a double free is refused, not a crash
        }
        stemma_rag* r = nullptr;
        if (stemma_rag_open(":memory:", &r) == STEMMA_OK) stemma_rag_free(r);
      }
    });
  }
  // Misusers: NULL, a pointer never made, and handles of the wrong kind.
  threads.emplace_back([&] {
    int bogus = 0;
    for (int i = 0; i < 2000; ++i) {
      if (stemma_program_append(nullptr, "x") != STEMMA_INVALID_ARGUMENT) accepted_bad++;
      if (stemma_program_append(reinterpret_cast<stemma_program*>(&bogus), "x") !=
          STEMMA_INVALID_ARGUMENT)
        accepted_bad++;
      if (stemma_rag_search(reinterpret_cast<stemma_rag*>(e), "q", 1, nullptr) !=
          STEMMA_INVALID_ARGUMENT)
        accepted_bad++;
      stemma_engine_stats st;
      stemma_engine_stats_init(&st);
      if (stemma_engine_stats_get(e, &st) != STEMMA_OK) accepted_bad++;
    }
    stop = true;
  });
  for (auto& t : threads) t.join();
  CHECK(accepted_bad.load() == 0);
}
