// The randomized robustness test of the C ABI: thousands of calls over every entry point, in
// random order, with arguments drawn from good values and from misuse: NULL and freed handles,
// handles of the wrong kind, pointers the library never made, garbage struct_size, invalid
// UTF-8, very long strings, garbage option values, NULL output pointers; handles are created
// and freed at random (the engine too, while objects on it still live), callbacks cancel at
// random and call back into the library where they may.
//
// What must hold for every call: no crash (ASan/UBSan builds check the memory side), a status
// that is a stemma_status; STEMMA_INVALID_ARGUMENT whenever a handle, a required pointer, a
// struct_size or a text is bad; a non-empty, valid UTF-8 last error on failure; valid UTF-8 (and
// valid JSON where promised) in every output on success.
//
// STEMMA_FUZZ_SEED and STEMMA_FUZZ_ITERATIONS override the seeds and the number of calls;
// STEMMA_FUZZ_TIMES=1 prints the calls and seconds spent per kind of operation.
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <limits>
#include <random>

#include "tests/capi/capi_test_util.h"

using namespace capi_test;

namespace {

// An independent strict UTF-8 check (the library's own is what is being tested).
bool valid_utf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    size_t n = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    uint32_t cp = n == 1 ? b : n == 2 ? (b & 0x1F) : n == 3 ? (b & 0x0F) : (b & 0x07);
    for (size_t k = 1; k < n; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if ((c >> 6) != 2) return false;
      cp = (cp << 6) | (c & 0x3F);
    }
    const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n;
  }
  return true;
}

void append_utf8(std::string* s, uint32_t cp) {
  if (cp < 0x80) {
    *s += static_cast<char>(cp);
  } else if (cp < 0x800) {
    *s += static_cast<char>(0xC0 | (cp >> 6));
    *s += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    *s += static_cast<char>(0xE0 | (cp >> 12));
    *s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *s += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    *s += static_cast<char>(0xF0 | (cp >> 18));
    *s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    *s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *s += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

struct Rng {
  std::mt19937_64 g;
  explicit Rng(uint64_t seed) : g(seed) {}
  size_t below(size_t n) { return n == 0 ? 0 : static_cast<size_t>(g() % n); }
  bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(g) < p; }
  template <typename T>
  const T& pick(const std::vector<T>& v) {
    return v[below(v.size())];
  }
};

// A text argument: what to pass and whether the library must refuse it.
struct Text {
  std::string s;
  bool null = false;
  bool bad = false;  // NULL where not allowed, or invalid UTF-8
  const char* c() const { return null ? nullptr : s.c_str(); }
};

const std::vector<std::string> kWords = {
    "reset", "Lumora", "Hub", "<|im_start|>", "<|im_end|>", "<tool_call>", "{\"a\": 1}",
    "[",     "\"",     "\\",  "日本語",       "🙂",       "é",           "  ",
    "\n",    "NEAR(",  "AND", "OR",           "*",          "-x",          "'; DROP TABLE x;--"};

std::string valid_text(Rng& r, size_t max_words) {
  std::string s;
  const size_t n = r.below(max_words + 1);
  for (size_t i = 0; i < n; ++i) {
    if (r.chance(0.7)) {
      s += r.pick(kWords);
    } else {
      // A random code point (surrogates skipped).
      uint32_t cp = static_cast<uint32_t>(r.below(0x10FFFF - 0x800)) + 1;
      if (cp >= 0xD800 && cp <= 0xDFFF) cp = 'x';
      append_utf8(&s, cp);
    }
    s += ' ';
  }
  return s;
}

std::string corrupt(Rng& r, std::string s) {
  static const std::vector<std::string> bad = {
      "\x80", "\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xFF", "\xE2\x82", "\xC3"};
  const size_t at = r.below(s.size() + 1);
  s.insert(at, r.pick(bad));
  // A truncated sequence stays invalid only if no continuation bytes follow it by chance:
  // follow it with ASCII so the insertion is ill-formed on its own.
  s.insert(at + 4 <= s.size() ? at + 4 : s.size(), "#");
  return s;
}

Text random_text(Rng& r, bool nullable, bool allow_long, size_t words = 8) {
  Text t;
  const size_t k = r.below(100);
  if (k < 8) {
    t.null = true;
    t.bad = !nullable;
  } else if (k < 20) {
    t.s = corrupt(r, valid_text(r, words));
    t.bad = true;
  } else if (k < 24 && allow_long) {
    for (size_t i = 0; i < 3000; ++i) t.s += r.pick(kWords);  // tens of KB
  } else if (k < 28) {
    t.s = "";
  } else {
    t.s = valid_text(r, words);
  }
  if (!t.null && !valid_utf8(t.s)) t.bad = true;
  return t;
}

// Live handles by kind, and freed ones (their pointer values are passed back on purpose).
struct Handles {
  std::vector<stemma_engine*> engines;
  std::vector<stemma_program*> programs;
  std::vector<stemma_chat_store*> stores;
  std::vector<stemma_chat*> chats;
  std::vector<stemma_rag*> rags;
  std::vector<stemma_agent*> agents;
  std::vector<void*> dead;

  std::vector<void*> all_live() const {
    std::vector<void*> v;
    for (auto* h : engines) v.push_back(h);
    for (auto* h : programs) v.push_back(h);
    for (auto* h : stores) v.push_back(h);
    for (auto* h : chats) v.push_back(h);
    for (auto* h : rags) v.push_back(h);
    for (auto* h : agents) v.push_back(h);
    return v;
  }
};

// A handle argument: mostly a live one of the right kind; else NULL, freed, another kind, or a
// pointer the library never made.
template <typename H>
H* pick_handle(Rng& r, const std::vector<H*>& live, const Handles& all, bool* bad) {
  const size_t k = r.below(100);
  if (k < 75 && !live.empty()) {
    *bad = false;
    return live[r.below(live.size())];
  }
  *bad = true;
  if (k < 82) return nullptr;
  if (k < 88 && !all.dead.empty()) {
    // A freed pointer, unless the allocator has since handed the same address to a new handle
    // (then it is live again, and the registry rightly accepts it).
    void* p = r.pick(all.dead);
    const auto live_now = all.all_live();
    if (std::find(live_now.begin(), live_now.end(), p) == live_now.end()) {
      return static_cast<H*>(p);
    }
    return nullptr;
  }
  if (k < 94) {
    auto others = all.all_live();
    std::erase_if(others, [&](void* p) {
      return std::find(live.begin(), live.end(), static_cast<H*>(p)) != live.end();
    });
    if (!others.empty()) return static_cast<H*>(r.pick(others));
  }
  static int never_made = 0;
  return reinterpret_cast<H*>(reinterpret_cast<char*>(&never_made) + 8 * r.below(4));
}

// Callbacks: collect nothing, cancel at random. They do not call into the library (the header
// says they must not).
struct StreamState {
  std::mt19937 g{1};
  std::mutex mu;
};
StreamState g_stream;
int32_t random_stream(void*, const char* piece, size_t length) {
  std::lock_guard<std::mutex> lock(g_stream.mu);
  if (piece == nullptr || !valid_utf8(std::string(piece, length))) {
    FAIL("stream piece is not valid UTF-8");
  }
  return g_stream.g() % 8 == 0;  // cancel now and then
}

const std::vector<std::string> kRegexes = {"(yes|no)", "[a-z]{1,4}", "(", "a**", "\\d+", ""};
const std::vector<std::string> kSchemas = {R"({"type": "boolean"})",
                                           R"({"type": "string", "maxLength": 3})",
                                           "{",
                                           "[]",
                                           R"({"type": "number", "multipleOf": 2})",
                                           R"({"enum": ["a", "b"]})"};

// gen options: NULL, defaults, or a struct with random fields; *bad says whether struct_size
// or a text in it is bad (numbers out of range make the call fail, but need not be
// INVALID_ARGUMENT... they are, by the engine's checks, except where a constraint is
// unsupported).
struct GenArgs {
  stemma_gen_options o{};
  std::vector<Text> stops;
  std::vector<const char*> stop_ptrs;
  Text regex, schema;
  bool null = false;
  bool bad = false;
  const stemma_gen_options* ptr() const { return null ? nullptr : &o; }
};

void random_gen(Rng& r, GenArgs* a) {
  a->bad = false;
  a->null = r.chance(0.15);
  stemma_gen_options_init(&a->o);
  a->o.max_tokens = 1 + static_cast<int32_t>(r.below(4));
  if (a->null) return;
  if (r.chance(0.1)) {
    const size_t sizes[] = {0,
                            1,
                            sizeof(stemma_gen_options) - 8,
                            sizeof(stemma_gen_options) + 8,
                            size_t{1} << 40,
                            std::numeric_limits<size_t>::max()};
    a->o.struct_size = sizes[r.below(6)];
    a->bad = true;
  }
  if (r.chance(0.1)) {
    const float odd[] = {std::nanf(""), -1.0f, 0.0f, 2.0f, INFINITY, 1e30f};
    switch (r.below(5)) {
      case 0:
        a->o.temperature = odd[r.below(6)];
        break;
      case 1:
        a->o.top_p = odd[r.below(6)];
        break;
      case 2:
        a->o.min_p = odd[r.below(6)];
        break;
      case 3:
        a->o.repetition_penalty = odd[r.below(6)];
        break;
      default:
        a->o.max_tokens = static_cast<int32_t>(r.below(3)) - 1;
        break;
    }
  }
  if (r.chance(0.2)) a->o.temperature = 0.8f, a->o.seed = r.g();
  if (r.chance(0.15)) {
    const size_t n = 1 + r.below(3);
    a->stops.clear();
    for (size_t i = 0; i < n; ++i) a->stops.push_back(random_text(r, false, false, 2));
    a->stop_ptrs.clear();
    for (auto& t : a->stops) {
      a->stop_ptrs.push_back(t.c());
      a->bad = a->bad || t.bad;
    }
    a->o.stop = a->stop_ptrs.data();
    a->o.num_stop = n;
    if (r.chance(0.1)) {
      a->o.stop = nullptr;  // NULL with num_stop > 0
      a->bad = true;
    }
  }
  if (r.chance(0.1)) {
    a->regex = {r.pick(kRegexes)};
    if (r.chance(0.2)) a->regex = {corrupt(r, a->regex.s), false, true};
    a->o.regex = a->regex.c();
    a->bad = a->bad || a->regex.bad;
  } else if (r.chance(0.1)) {
    a->schema = {r.pick(kSchemas)};
    a->o.json_schema = a->schema.c();
  }
  if (r.chance(0.05)) {
    a->o.jump_forward = 2 + static_cast<int32_t>(r.below(5));
  }
}

class Fuzzer {
 public:
  explicit Fuzzer(uint64_t seed) : r_(seed) {}
  ~Fuzzer() { release_all(); }

  void run(size_t iterations) {
    open_engine();
    for (size_t i = 0; i < iterations; ++i) {
      const size_t op = r_.below(ops().size());
      const auto t0 = std::chrono::steady_clock::now();
      ops()[op].second();
      times_[ops()[op].first] +=
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      ++counts_[ops()[op].first];
    }
    release_all();
    for (const auto& [name, n] : counts_) calls_ += n;
    if (std::getenv("STEMMA_FUZZ_TIMES"))
      for (const auto& [name, t] : times_) printf("%s %zu %.2f\n", name.c_str(), counts_[name], t);
  }
  size_t calls() const { return calls_; }
  size_t refused() const { return refused_; }

 private:
  using Op = std::pair<const char*, std::function<void()>>;

  // The checks every call's status gets.
  void expect(const char* function, stemma_status s, bool bad) {
    const std::string fn = function;
    CAPTURE(fn);
    CHECK(s >= STEMMA_OK);
    CHECK(s <= STEMMA_INTERNAL);
    if (bad) {
      CHECK_MESSAGE(s == STEMMA_INVALID_ARGUMENT,
                    "got " << std::string(stemma_status_name(s)) << ": "
                           << std::string(s == STEMMA_OK ? "" : stemma_last_error()));
    }
    if (s != STEMMA_OK) {
      ++refused_;
      const std::string e = stemma_last_error();
      CHECK(!e.empty());
      CHECK(valid_utf8(e));
      CHECK(s != STEMMA_INTERNAL);  // misuse is never a bug report
    }
  }
  void expect_text(const CString& out, stemma_status s, bool json = false) {
    if (s != STEMMA_OK) return;
    REQUIRE(out.p != nullptr);
    CHECK(valid_utf8(out.str()));
    if (json) CHECK(nlohmann::json::accept(out.str()));
  }

  void open_engine() {
    stemma_engine_options o;
    stemma_engine_options_init(&o);
    o.model_path = kModel.c_str();
    o.threads = 1;
    o.kv_memory_bytes = int64_t{32} << 20;  // small: engines are opened again and again
    stemma_engine* e = nullptr;
    REQUIRE(stemma_engine_open(&o, &e) == STEMMA_OK);
    h_.engines.push_back(e);
  }

  template <typename H>
  void forget(std::vector<H*>& v, H* h) {
    auto it = std::find(v.begin(), v.end(), h);
    if (it != v.end()) {
      v.erase(it);
      h_.dead.push_back(h);
    }
  }

  void release_all() {
    for (auto* p : h_.programs) stemma_program_free(p);
    for (auto* p : h_.chats) stemma_chat_free(p);
    for (auto* p : h_.agents) stemma_agent_free(p);
    for (auto* p : h_.stores) stemma_chat_store_free(p);
    for (auto* p : h_.rags) stemma_rag_free(p);
    for (auto* p : h_.engines) stemma_engine_free(p);
    h_ = Handles{};
  }

  const std::vector<Op>& ops();

  Rng r_;
  Handles h_;
  std::map<std::string, size_t> counts_;
  std::map<std::string, double> times_;
  size_t calls_ = 0;
  size_t refused_ = 0;
  std::vector<Op> ops_;
};

const std::vector<Fuzzer::Op>& Fuzzer::ops() {
  if (!ops_.empty()) return ops_;
  auto engine_arg = [this](bool* bad) { return pick_handle(r_, h_.engines, h_, bad); };
  ops_ = {
      {"status_name",
       [this] { CHECK(valid_utf8(stemma_status_name(static_cast<int32_t>(r_.g())))); }},
      {"engine_open_bad",
       [this] {
         stemma_engine_options o;
         stemma_engine_options_init(&o);
         Text path = random_text(r_, false, false, 2);
         o.model_path = path.c();
         // A path is bytes: only NULL or empty is refused as such (a path that is not UTF-8
         // names no file here, and the message quoting it must still be UTF-8).
         bool bad = path.null || path.s.empty();
         if (r_.chance(0.3)) {
           o.struct_size = r_.below(2) ? 0 : sizeof o + 8 * (1 + r_.below(4));
           bad = true;
         }
         stemma_engine* e = nullptr;
         const stemma_status s =
             stemma_engine_open(r_.chance(0.1) ? nullptr : &o, r_.chance(0.1) ? nullptr : &e);
         // A random path names no model: never OK.
         CHECK(s != STEMMA_OK);
         expect("stemma_engine_open", s, bad);
       }},
      {"engine_reopen",
       [this] {
         if (h_.engines.size() < 2 && r_.chance(0.1)) open_engine();
       }},
      {"engine_free",
       [this] {
         // Now and then the engine goes while programs, chats and agents on it still live.
         if (h_.engines.size() > 1 || r_.chance(0.02)) {
           stemma_engine* e = r_.pick(h_.engines);
           stemma_engine_free(e);
           forget(h_.engines, e);
           if (h_.engines.empty()) open_engine();
         }
       }},
      {"engine_stats",
       [this, engine_arg] {
         bool bad = false;
         stemma_engine* e = engine_arg(&bad);
         stemma_engine_stats st;
         stemma_engine_stats_init(&st);
         if (r_.chance(0.2)) {
           st.struct_size = r_.below(sizeof st * 2);
           bad = bad || st.struct_size != sizeof st;
         }
         const bool null_out = r_.chance(0.1);
         expect("stemma_engine_stats_get", stemma_engine_stats_get(e, null_out ? nullptr : &st),
                bad || null_out);
       }},
      {"model_info",
       [this, engine_arg] {
         bool bad = false;
         stemma_engine* e = engine_arg(&bad);
         CString out;
         const bool null_out = r_.chance(0.1);
         const stemma_status s = stemma_engine_model_info(e, null_out ? nullptr : out.out());
         expect("stemma_engine_model_info", s, bad || null_out);
         expect_text(out, s, true);
       }},
      {"tokenize",
       [this, engine_arg] {
         bool bad = false;
         stemma_engine* e = engine_arg(&bad);
         Text t = random_text(r_, false, true);
         int32_t flag = r_.chance(0.1) ? static_cast<int32_t>(r_.below(5)) - 1 : 1;
         int32_t* ids = nullptr;
         size_t n = 0;
         const bool null_out = r_.chance(0.05);
         const stemma_status s = stemma_tokenize(e, t.c(), flag, null_out ? nullptr : &ids, &n);
         expect("stemma_tokenize", s, bad || t.bad || null_out || (flag != 0 && flag != 1));
         if (s == STEMMA_OK) {
           CHECK(ids != nullptr);
           // Round trip through detokenize.
           CString text;
           CHECK(stemma_detokenize(e, ids, n, text.out()) == STEMMA_OK);
           CHECK(valid_utf8(text.str()));
         }
         stemma_tokens_free(ids);
       }},
      {"detokenize",
       [this, engine_arg] {
         bool bad = false;
         stemma_engine* e = engine_arg(&bad);
         std::vector<int32_t> ids(r_.below(40));
         for (auto& id : ids)
           id = static_cast<int32_t>(r_.below(5000)) - (r_.chance(0.05) ? 9000 : 0);
         const bool null_ids = !ids.empty() && r_.chance(0.1);
         CString out;
         const stemma_status s =
             stemma_detokenize(e, null_ids ? nullptr : ids.data(), ids.size(), out.out());
         expect("stemma_detokenize", s, bad || null_ids);
         expect_text(out, s);
       }},
      {"chat_format",
       [this, engine_arg] {
         bool bad = false;
         stemma_engine* e = engine_arg(&bad);
         Text messages;
         if (r_.chance(0.6)) {
           nlohmann::json m = nlohmann::json::array();
           for (size_t i = 0; i < r_.below(4); ++i) {
             m.push_back(
                 {{"role", r_.pick(std::vector<std::string>{"system", "user", "assistant"})},
                  {"content", valid_text(r_, 5)}});
           }
           messages.s = m.dump();
         } else {
           messages = random_text(r_, false, true);
         }
         Text tools = random_text(r_, true, false, 2);
         CString out;
         const stemma_status s = stemma_chat_format(e, messages.c(), tools.c(),
                                                    static_cast<int32_t>(r_.below(2)), out.out());
         expect("stemma_chat_format", s, bad || messages.bad || tools.bad);
         expect_text(out, s);
       }},
      {"generate",
       [this, engine_arg] {
         bool bad = false;
         stemma_engine* e = engine_arg(&bad);
         Text prompt = random_text(r_, false, r_.chance(0.2));
         GenArgs g;
         random_gen(r_, &g);
         CString out;
         stemma_finish_reason finish = -1;
         const bool null_out = r_.chance(0.05);
         const stemma_status s = stemma_generate(
             e, prompt.c(), g.ptr(), r_.chance(0.5) ? random_stream : nullptr, nullptr,
             null_out ? nullptr : out.out(), r_.chance(0.5) ? &finish : nullptr);
         expect("stemma_generate", s, bad || prompt.bad || g.bad || null_out);
         expect_text(out, s);
         if (s == STEMMA_CANCELLED) CHECK(out.p != nullptr);  // the text so far
       }},
      {"program_new",
       [this, engine_arg] {
         bool bad = false;
         stemma_engine* e = engine_arg(&bad);
         stemma_program* p = nullptr;
         const stemma_status s = stemma_program_new(e, &p);
         expect("stemma_program_new", s, bad);
         if (s == STEMMA_OK) h_.programs.push_back(p);
       }},
      {"program_free",
       [this] {
         bool bad = false;
         stemma_program* p = pick_handle(r_, h_.programs, h_, &bad);
         stemma_program_free(p);  // any pointer: ignored unless it is a live program
         if (!bad) forget(h_.programs, p);
       }},
      {"program_ops",
       [this] {
         bool bad = false;
         stemma_program* p = pick_handle(r_, h_.programs, h_, &bad);
         Text a = random_text(r_, false, r_.chance(0.1), 4);
         Text b = random_text(r_, false, false, 4);
         CString out;
         switch (r_.below(9)) {
           case 0:
             expect("append", stemma_program_append(p, a.c()), bad || a.bad);
             break;
           case 1:
             expect("message", stemma_program_message(p, a.c(), b.c()), bad || a.bad || b.bad);
             break;
           case 2:
             expect("role_begin", stemma_program_role_begin(p, a.c()), bad || a.bad);
             break;
           case 3:
             expect("role_end", stemma_program_role_end(p), bad);
             break;
           case 4: {
             GenArgs g;
             random_gen(r_, &g);
             expect("gen",
                    stemma_program_gen(p, a.c(), g.ptr(), r_.chance(0.5) ? random_stream : nullptr,
                                       nullptr),
                    bad || a.bad || g.bad);
             break;
           }
           case 5: {
             const char* choices[] = {b.c(), "yes", "no"};
             const size_t n = r_.below(4);
             const bool bad_choices = n > 0 && b.bad;
             expect("select", stemma_program_select(p, a.c(), choices, n),
                    bad || a.bad || bad_choices || n == 0);
             break;
           }
           case 6: {
             const stemma_status s = stemma_program_get(p, a.c(), out.out());
             expect("get", s, bad || a.bad);
             expect_text(out, s);
             break;
           }
           case 7: {
             const stemma_status s = stemma_program_text(p, out.out());
             expect("text", s, bad);
             expect_text(out, s);
             break;
           }
           default:
             expect("wait", stemma_program_wait(p), bad);
             break;
         }
       }},
      {"program_fork_join",
       [this] {
         bool bad = false;
         stemma_program* p = pick_handle(r_, h_.programs, h_, &bad);
         const size_t n = r_.below(3);
         stemma_program* forks[2] = {};
         const stemma_status s = stemma_program_fork(p, n, forks);
         expect("stemma_program_fork", s, bad || n == 0);
         if (s == STEMMA_OK) {
           for (size_t i = 0; i < n; ++i) h_.programs.push_back(forks[i]);
         }
         bool jbad = false;
         std::vector<stemma_program*> group;
         for (size_t i = 0; i < r_.below(4); ++i) {
           bool b = false;
           group.push_back(pick_handle(r_, h_.programs, h_, &b));
           jbad = jbad || b;
         }
         expect("stemma_program_join", stemma_program_join(group.data(), group.size()), jbad);
       }},
      {"program_run_batch",
       [this, engine_arg] {
         bool bad = false;
         stemma_engine* e = engine_arg(&bad);
         auto fn = [](void* user, size_t index, stemma_program* p) -> stemma_status {
           auto* rng = static_cast<std::mt19937_64*>(user);
           (void)index;
           stemma_status s = stemma_program_append(p, "Q: reset? A:");
           stemma_gen_options o;
           stemma_gen_options_init(&o);
           o.max_tokens = 2;
           if (s == STEMMA_OK) s = stemma_program_gen(p, "a", &o, nullptr, nullptr);
           stemma_program_free(p);  // borrowed: must be ignored
           if ((*rng)() % 5 == 0) return STEMMA_NOT_FOUND;
           return s;
         };
         std::mt19937_64 rng(r_.g());
         const bool null_fn = r_.chance(0.1);
         const stemma_status s =
             stemma_program_run_batch(e, r_.below(4), r_.below(3), null_fn ? nullptr : +fn, &rng);
         expect("stemma_program_run_batch", s, bad || null_fn);
       }},
      {"chat_store",
       [this] {
         if (r_.chance(0.5) && !h_.stores.empty()) {
           stemma_chat_store* s = r_.pick(h_.stores);
           stemma_chat_store_free(s);
           forget(h_.stores, s);
           return;
         }
         // Random paths must not be created all over the file system: :memory:, NULL or empty
         // (a path is bytes: any other would be opened).
         const size_t k = r_.below(10);
         Text path = k < 7   ? Text{":memory:"}
                     : k < 9 ? Text{"", false, true}
                             : Text{"", true, true};
         stemma_chat_store* s = nullptr;
         const stemma_status st = stemma_chat_store_open(path.c(), &s);
         expect("stemma_chat_store_open", st, path.bad);
         if (st == STEMMA_OK) h_.stores.push_back(s);
       }},
      {"chat_new_resume",
       [this, engine_arg] {
         bool bad = false, sbad = false;
         stemma_engine* e = engine_arg(&bad);
         stemma_chat_store* store = pick_handle(r_, h_.stores, h_, &sbad);
         if (store == nullptr) sbad = false;  // NULL: a chat that is not persisted
         stemma_chat* c = nullptr;
         stemma_status s;
         if (r_.chance(0.7)) {
           Text system = random_text(r_, true, false, 4);
           s = stemma_chat_new(e, store, system.c(), &c);
           expect("stemma_chat_new", s, bad || sbad || system.bad);
         } else {
           s = stemma_chat_resume(e, store, static_cast<int64_t>(r_.below(5)) - 1, &c);
           expect("stemma_chat_resume", s, bad || sbad || store == nullptr);
         }
         if (s == STEMMA_OK) h_.chats.push_back(c);
       }},
      {"chat_ops",
       [this] {
         bool bad = false;
         stemma_chat* c = pick_handle(r_, h_.chats, h_, &bad);
         CString out;
         switch (r_.below(4)) {
           case 0: {
             Text msg = random_text(r_, false, false, 5);
             GenArgs g;
             random_gen(r_, &g);
             const stemma_status s = stemma_chat_send(
                 c, msg.c(), g.ptr(), r_.chance(0.5) ? random_stream : nullptr, nullptr, out.out());
             expect("stemma_chat_send", s, bad || msg.bad || g.bad);
             expect_text(out, s);
             break;
           }
           case 1: {
             const stemma_status s = stemma_chat_history(c, out.out());
             expect("stemma_chat_history", s, bad);
             expect_text(out, s, true);
             break;
           }
           case 2: {
             int64_t id = 0;
             const bool null_out = r_.chance(0.2);
             expect("stemma_chat_id", stemma_chat_id(c, null_out ? nullptr : &id), bad || null_out);
             break;
           }
           default:
             stemma_chat_free(c);
             if (!bad) forget(h_.chats, c);
         }
       }},
      {"rag",
       [this, engine_arg] {
         if (h_.rags.empty() || r_.chance(0.05)) {
           stemma_rag* rag = nullptr;
           REQUIRE(stemma_rag_open(":memory:", &rag) == STEMMA_OK);
           h_.rags.push_back(rag);
         }
         bool bad = false;
         stemma_rag* rag = pick_handle(r_, h_.rags, h_, &bad);
         CString out, sources;
         switch (r_.below(5)) {
           case 0: {
             Text id = random_text(r_, false, false, 1), title = random_text(r_, true, false, 3);
             Text text = random_text(r_, false, true, 30);
             const int32_t format = static_cast<int32_t>(r_.below(3));
             int64_t chunks = 0;
             const stemma_status s =
                 stemma_rag_add_document(rag, id.c(), title.c(), text.c(), format, &chunks);
             expect("stemma_rag_add_document", s,
                    bad || id.bad || title.bad || text.bad || format == 2);
             break;
           }
           case 1: {
             Text entries;
             if (r_.chance(0.6)) {
               nlohmann::json j = nlohmann::json::array();
               for (size_t i = 0; i < r_.below(3); ++i) {
                 j.push_back({{"id", "faq-" + std::to_string(r_.below(50))},
                              {"question", valid_text(r_, 6)},
                              {"answer", valid_text(r_, 12)}});
               }
               entries.s = j.dump();
             } else {
               entries = random_text(r_, false, false, 6);
             }
             expect("stemma_rag_add_faq", stemma_rag_add_faq(rag, entries.c(), nullptr),
                    bad || entries.bad);
             break;
           }
           case 2: {
             Text q = random_text(r_, false, true, 6);
             const size_t k = r_.below(4);
             const stemma_status s = stemma_rag_search(rag, q.c(), k, out.out());
             expect("stemma_rag_search", s, bad || q.bad || k == 0);
             expect_text(out, s, true);
             break;
           }
           case 3: {
             bool ebad = false;
             stemma_engine* e = engine_arg(&ebad);
             Text q = random_text(r_, false, false, 6);
             GenArgs g;
             random_gen(r_, &g);
             const size_t k = r_.below(3);
             const stemma_status s = stemma_rag_answer(
                 rag, e, q.c(), k, g.ptr(), r_.chance(0.5) ? random_stream : nullptr, nullptr,
                 out.out(), r_.chance(0.5) ? sources.out() : nullptr);
             expect("stemma_rag_answer", s, bad || ebad || q.bad || g.bad || k == 0);
             expect_text(out, s);
             break;
           }
           default:
             stemma_rag_free(rag);
             if (!bad) forget(h_.rags, rag);
         }
       }},
      {"agent",
       [this, engine_arg] {
         if (h_.agents.empty() || r_.chance(0.1)) {
           bool bad = false;
           stemma_engine* e = engine_arg(&bad);
           stemma_agent_options o;
           stemma_agent_options_init(&o);
           o.max_steps = 1 + static_cast<int32_t>(r_.below(2));
           o.max_tokens = 1 + static_cast<int32_t>(r_.below(6));
           Text system = random_text(r_, true, false, 4);
           o.system_prompt = system.c();
           bool obad = system.bad;
           if (r_.chance(0.1)) {
             o.struct_size = r_.below(100);
             obad = obad || o.struct_size != sizeof o;
           }
           if (r_.chance(0.05)) o.max_steps = 0, obad = true;
           stemma_agent* a = nullptr;
           const stemma_status s = stemma_agent_new(e, &o, &a);
           expect("stemma_agent_new", s, bad || obad);
           if (s == STEMMA_OK) h_.agents.push_back(a);
           return;
         }
         bool bad = false;
         stemma_agent* a = pick_handle(r_, h_.agents, h_, &bad);
         switch (r_.below(3)) {
           case 0: {
             static int tool_counter = 0;
             const std::string name = "tool_" + std::to_string(tool_counter++);
             Text n = r_.chance(0.85) ? Text{name} : random_text(r_, false, false, 1);
             const bool schema_ok = r_.chance(0.8);
             const char* schema =
                 schema_ok ? R"({"type": "object", "properties": {"x": {"type": "string"}}})"
                           : "not a schema";
             auto tool = [](void* user, const char* args,
                            stemma_tool_result* result) -> stemma_status {
               // Tools may call the library: set a result, try a stale one, re-enter the agent.
               auto* agent = static_cast<stemma_agent*>(user);
               if (!nlohmann::json::accept(args)) return STEMMA_INTERNAL;
               char* answer = nullptr;
               const stemma_status again = stemma_agent_run(agent, "nested", &answer, nullptr);
               stemma_string_free(answer);
               if (again != STEMMA_FAILED_PRECONDITION) return STEMMA_INTERNAL;
               return stemma_tool_result_set(result, "{\"ok\": true}");
             };
             const stemma_status s = stemma_agent_add_tool(a, n.c(), nullptr, schema, tool, a);
             expect("stemma_agent_add_tool", s, bad || n.bad);
             if (!bad && !n.bad && n.s == name && schema_ok) CHECK(s == STEMMA_OK);
             break;
           }
           case 1: {
             Text task = random_text(r_, false, false, 6);
             CString answer, trace;
             const stemma_status s = stemma_agent_run(a, task.c(), answer.out(),
                                                      r_.chance(0.5) ? trace.out() : nullptr);
             expect("stemma_agent_run", s, bad || task.bad);
             expect_text(answer, s);
             if (trace.p != nullptr) CHECK(nlohmann::json::accept(trace.str()));
             break;
           }
           default:
             stemma_agent_free(a);
             if (!bad) forget(h_.agents, a);
         }
       }},
      {"tool_result_stale",
       [this] {
         bool bad = true;
         auto* p = pick_handle(r_, std::vector<stemma_tool_result*>{}, h_, &bad);
         expect("stemma_tool_result_set", stemma_tool_result_set(p, "x"), true);
       }},
      {"free_any",
       [this] {
         // Every free function with pointers of every kind: only a live handle of its own kind
         // is freed.
         auto all = h_.all_live();
         if (all.empty()) return;
         void* p = r_.pick(all);
         stemma_rag_free(static_cast<stemma_rag*>(p));
         stemma_chat_free(static_cast<stemma_chat*>(p));
         stemma_agent_free(static_cast<stemma_agent*>(p));
         forget(h_.rags, static_cast<stemma_rag*>(p));
         forget(h_.chats, static_cast<stemma_chat*>(p));
         forget(h_.agents, static_cast<stemma_agent*>(p));
         stemma_string_free(nullptr);
         stemma_tokens_free(nullptr);
       }},
  };
  return ops_;
}

std::vector<uint64_t> seeds() {
  if (const char* s = std::getenv("STEMMA_FUZZ_SEED")) return {std::strtoull(s, nullptr, 10)};
  return {1, 2, 3};
}

size_t iterations() {
  if (const char* s = std::getenv("STEMMA_FUZZ_ITERATIONS")) return std::strtoull(s, nullptr, 10);
  return 2000;
}

}  // namespace

TEST_CASE("random calls over every entry point never crash and refuse misuse with status codes") {
  for (uint64_t seed : seeds()) {
    CAPTURE(seed);
    Fuzzer f(seed);
    f.run(iterations());
    MESSAGE("seed " << seed << ": " << f.calls() << " calls, " << f.refused() << " refused");
    CHECK(f.refused() > f.calls() / 10);  // misuse was really exercised
  }
}
