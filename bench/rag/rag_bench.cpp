// rag_bench: what the SQLite stores cost.
//   rag_bench [--records N] [--queries Q] [--turns T] [--dir DIR]
// RAG: ingests N synthetic FAQ records (one transaction), then times Q searches (top 5) whose
// questions paraphrase a random record, reporting median / p95 latency and recall@1.
// Chat: times T append_turn calls at synchronous=FULL against the NORMAL baseline in the same
// run (the price of power-loss durability). Prints one JSON object.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "sdk/chat/chat_store.h"
#include "sdk/rag/rag_store.h"

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

// A vocabulary of invented words: records draw distinct rare words so each is findable.
std::string word(size_t i) {
  static const char* syllables[] = {"ka",  "lo",  "mi", "ren", "tas", "vu",  "zel", "po",
                                    "dri", "nex", "ul", "bor", "fi",  "gan", "sho", "qui"};
  std::string w;
  do {
    w += syllables[i % 16];
    i /= 16;
  } while (i > 0);
  return w;
}

std::string sentence(std::mt19937& rng, size_t vocab, int words) {
  std::uniform_int_distribution<size_t> pick(0, vocab - 1);
  std::string s;
  for (int i = 0; i < words; ++i) s += (i ? " " : "") + word(pick(rng));
  return s + ".";
}

}  // namespace

int main(int argc, char** argv) {
  size_t records = 5000, queries = 500, turns = 200;
  std::string dir = std::filesystem::temp_directory_path().string();
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--records") records = std::stoul(argv[i + 1]);
    if (flag == "--queries") queries = std::stoul(argv[i + 1]);
    if (flag == "--turns") turns = std::stoul(argv[i + 1]);
    if (flag == "--dir") dir = argv[i + 1];
  }
  const std::string tag = std::to_string(getpid());
  const std::string rag_path = dir + "/rag_bench_" + tag + ".db";
  nlohmann::json out;
  std::mt19937 rng(42);
  const size_t vocab = 4096;

  {
    auto store = stemma::rag::RagStore::open(rag_path);
    if (!store.ok()) {
      std::fprintf(stderr, "%s\n", store.status().to_string().c_str());
      return 1;
    }
    std::vector<stemma::rag::QaRecord> qa(records);
    for (size_t i = 0; i < records; ++i) {
      char id[32];
      std::snprintf(id, sizeof id, "faq-%05zu", i);
      qa[i].id = id;
      qa[i].question = sentence(rng, vocab, 8);
      qa[i].answer = sentence(rng, vocab, 40) + " " + sentence(rng, vocab, 30);
      qa[i].category = word(i % 12);
    }
    auto t0 = Clock::now();
    auto written = (*store)->add_qa_records(qa);
    double ingest_ms = ms_since(t0);
    if (!written.ok()) {
      std::fprintf(stderr, "%s\n", written.status().to_string().c_str());
      return 1;
    }
    std::vector<double> latency;
    size_t correct = 0;
    std::uniform_int_distribution<size_t> pick(0, records - 1);
    for (size_t q = 0; q < queries; ++q) {
      size_t target = pick(rng);
      // A paraphrase: the record's question words shuffled, half dropped, punctuation added.
      std::string question;
      std::vector<std::string> words;
      std::string w;
      for (char c : qa[target].question) {
        if (c == ' ' || c == '.') {
          if (!w.empty()) words.push_back(w);
          w.clear();
        } else {
          w += c;
        }
      }
      std::shuffle(words.begin(), words.end(), rng);
      for (size_t k = 0; k < words.size() / 2 + 1; ++k) question += "\"" + words[k] + "\"?! ";
      auto t1 = Clock::now();
      auto hits = (*store)->search(question);
      latency.push_back(ms_since(t1));
      if (hits.ok() && !hits->empty() && hits->front().doc_id == qa[target].id) ++correct;
    }
    out["rag"] = {{"records", records},
                  {"ingest_ms", ingest_ms},
                  {"ingest_records_per_s", 1000.0 * static_cast<double>(records) / ingest_ms},
                  {"queries", queries},
                  {"search_median_ms", percentile(latency, 0.5)},
                  {"search_p95_ms", percentile(latency, 0.95)},
                  {"recall_at_1", static_cast<double>(correct) / static_cast<double>(queries)}};
  }
  std::filesystem::remove(rag_path);
  std::filesystem::remove(rag_path + "-wal");
  std::filesystem::remove(rag_path + "-shm");

  for (auto durability : {stemma::sqlite::Durability::kNormal, stemma::sqlite::Durability::kFull}) {
    const bool full = durability == stemma::sqlite::Durability::kFull;
    const std::string path = dir + "/chat_bench_" + tag + (full ? "_full" : "_normal") + ".db";
    stemma::chat::ChatStoreOptions options;
    options.durability = durability;
    auto store = stemma::chat::ChatStore::open(path, options);
    if (!store.ok()) return 1;
    auto session = (*store)->create_session();
    if (!session.ok()) return 1;
    std::vector<double> latency;
    const std::string content(600, 'x');  // a typical assistant turn (~150 tokens)
    for (size_t i = 0; i < turns; ++i) {
      auto t0 = Clock::now();
      if (!(*store)->append_turn(*session, i % 2 ? "assistant" : "user", content).ok()) return 1;
      latency.push_back(ms_since(t0));
    }
    auto t0 = Clock::now();
    auto loaded = (*store)->load_session(*session);
    double load_ms = ms_since(t0);
    out["chat"][full ? "full" : "normal"] = {{"append_median_ms", percentile(latency, 0.5)},
                                             {"append_p95_ms", percentile(latency, 0.95)},
                                             {"load_ms", load_ms},
                                             {"turns", loaded.ok() ? loaded->size() : 0}};
    store->reset();
    std::filesystem::remove(path);
    std::filesystem::remove(path + "-wal");
    std::filesystem::remove(path + "-shm");
  }
  out["chat"]["full_over_normal_append_median"] =
      out["chat"]["full"]["append_median_ms"].get<double>() /
      out["chat"]["normal"]["append_median_ms"].get<double>();
  std::printf("%s\n", out.dump(2).c_str());
  return 0;
}
