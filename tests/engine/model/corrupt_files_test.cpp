// Bad GGUF and safetensors files are refused with an error naming the problem — never a crash
// (this test runs under ASan/UBSan in CI).
#include <doctest/doctest.h>

#include <cstring>
#include <functional>

#include "engine/model/gguf_loader.h"
#include "engine/model/gguf_reader.h"
#include "engine/model/gguf_writer.h"
#include "engine/model/model_loader.h"
#include "engine/model/safetensors.h"
#include "tests/engine/model/test_files.h"

namespace stemma {
namespace {

// Builds GGUF bytes field by field so each test can break exactly one thing.
struct Raw {
  std::vector<uint8_t> b;
  Raw& u32(uint32_t v) { return put(&v, 4); }
  Raw& u64(uint64_t v) { return put(&v, 8); }
  Raw& u8(uint8_t v) { return put(&v, 1); }
  Raw& str(const std::string& s) {
    u64(s.size());
    return put(s.data(), s.size());
  }
  Raw& put(const void* p, size_t n) {
    size_t old = b.size();
    b.resize(old + n);
    if (n) std::memcpy(b.data() + old, p, n);
    return *this;
  }
  Raw& pad_to(size_t align) {
    while (b.size() % align) b.push_back(0);
    return *this;
  }
  Raw& zeros(size_t n) {
    b.resize(b.size() + n, 0);
    return *this;
  }
};

struct TensorSpec {
  std::string name = "w";
  std::vector<uint64_t> ne = {32, 2};  // GGUF order: ne[0] innermost
  uint32_t type = 0;
  uint64_t offset = 0;
};

struct FileSpec {
  uint32_t magic = 0x46554747;
  uint32_t version = 3;
  std::optional<uint64_t> n_tensors, n_kv;  // override the real counts
  std::vector<std::function<void(Raw&)>> kvs = {
      [](Raw& r) { r.str("general.architecture").u32(8).str("llama"); },
      [](Raw& r) { r.str("general.alignment").u32(4).u32(32); }};
  std::vector<TensorSpec> tensors = {TensorSpec{}};
  size_t data_bytes = 256;
};

std::vector<uint8_t> build(const FileSpec& s) {
  Raw r;
  r.u32(s.magic).u32(s.version);
  r.u64(s.n_tensors.value_or(s.tensors.size())).u64(s.n_kv.value_or(s.kvs.size()));
  for (const auto& kv : s.kvs) kv(r);
  for (const auto& t : s.tensors) {
    r.str(t.name).u32(static_cast<uint32_t>(t.ne.size()));
    for (auto d : t.ne) r.u64(d);
    r.u32(t.type).u64(t.offset);
  }
  r.pad_to(32).zeros(s.data_bytes);
  return r.b;
}

// The parse must fail and its message must contain `needle`.
void expect_refused(const std::vector<uint8_t>& bytes, const std::string& needle) {
  auto g = GgufFile::parse(bytes.data(), bytes.size(), "bad.gguf");
  REQUIRE_FALSE(g.ok());
  CHECK(g.status().code() == StatusCode::kCorruptData);
  const std::string& m = g.status().message();
  CHECK_MESSAGE(m.find(needle) != std::string::npos, "message: " << m << " | wanted: " << needle);
  CHECK(m.find("offset") != std::string::npos);
}

TEST_CASE("the base file of these tests is valid") {
  auto bytes = build(FileSpec{});
  auto g = GgufFile::parse(bytes.data(), bytes.size(), "ok.gguf");
  REQUIRE_MESSAGE(g.ok(), g.status().to_string());
  CHECK(g->tensors().size() == 1);
  CHECK(g->tensors()[0].shape == std::vector<int64_t>{2, 32});
}

TEST_CASE("every truncation of a valid GGUF file is refused") {
  auto bytes = build(FileSpec{});
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    std::vector<uint8_t> part(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(cut));
    auto g = GgufFile::parse(part.data(), part.size(), "cut.gguf");
    REQUIRE_FALSE(g.ok());
    const std::string& m = g.status().message();
    bool named =
        m.find("truncated") != std::string::npos || m.find("past the end") != std::string::npos ||
        m.find("ends before") != std::string::npos || m.find("file can hold") != std::string::npos;
    CHECK_MESSAGE(named, "cut at " << cut << ": " << m);
  }
  expect_refused(std::vector<uint8_t>(bytes.begin(), bytes.begin() + 6),
                 "truncated while reading version");
  expect_refused(std::vector<uint8_t>(bytes.begin(), bytes.begin() + 60),
                 "truncated while reading");
  expect_refused(std::vector<uint8_t>(bytes.end() - 10, bytes.end()), "bad magic");
}

TEST_CASE("header problems: magic, version, counts") {
  FileSpec s;
  s.magic = 0x4c4c5546;  // "FULL"
  expect_refused(build(s), "bad magic 'FULL'");
  s = FileSpec{};
  s.version = 4;
  expect_refused(build(s), "unsupported GGUF version 4");
  s.version = 1;
  expect_refused(build(s), "version 1 is not supported");
  s.version = 0x03000000;  // a big-endian file
  expect_refused(build(s), "big-endian");
  s = FileSpec{};
  s.n_tensors = uint64_t{1} << 62;
  expect_refused(build(s), "tensor count 4611686018427387904");
  s = FileSpec{};
  s.n_kv = ~uint64_t{0};
  expect_refused(build(s), "metadata count 18446744073709551615");
  s = FileSpec{};
  s.n_kv = 3;  // one more than present: runs into the tensor infos and then the end
  auto g = GgufFile::parse(build(s).data(), build(s).size(), "x");
  CHECK_FALSE(g.ok());
}

TEST_CASE("metadata problems: strings, arrays, types, alignment, duplicates") {
  FileSpec s;
  s.kvs.push_back([](Raw& r) { r.u64(uint64_t{1} << 40); });  // key length past the end
  expect_refused(build(s), "length 1099511627776 of metadata key runs past the end");

  s = FileSpec{};
  s.kvs.push_back([](Raw& r) { r.str("k").u32(8).u64(1000000); });  // string value too long
  expect_refused(build(s), "string value of 'k' runs past the end");

  s = FileSpec{};
  s.kvs.push_back([](Raw& r) { r.str("arr").u32(9).u32(4).u64(uint64_t{1} << 60); });
  expect_refused(build(s), "array 'arr' length 1152921504606846976");

  s = FileSpec{};
  s.kvs.push_back(
      [](Raw& r) { r.str("arr").u32(9).u32(4).u64(1000); });  // fits the limit, not the file
  expect_refused(build(s), "array 'arr' length 1000 runs past the end");

  s = FileSpec{};
  s.kvs.push_back([](Raw& r) { r.str("arr").u32(9).u32(77).u64(1); });
  expect_refused(build(s), "unknown element type 77");

  s = FileSpec{};
  s.kvs.push_back([](Raw& r) {
    r.str("deep").u32(9);
    for (int i = 0; i < 12; ++i) r.u32(9).u64(1);  // an array of one array of one array ...
    r.u32(0).u64(0);
  });
  expect_refused(build(s), "nested deeper than 8");

  s = FileSpec{};
  s.kvs.push_back([](Raw& r) { r.str("x").u32(99).u32(0); });
  expect_refused(build(s), "'x' has unknown value type 99");

  s = FileSpec{};
  s.kvs.push_back([](Raw& r) { r.str("flag").u32(7).u8(2); });
  expect_refused(build(s), "bool value 2 of 'flag'");

  s = FileSpec{};
  s.kvs[1] = [](Raw& r) { r.str("general.alignment").u32(4).u32(24); };
  expect_refused(build(s), "general.alignment 24 is not a power of two");

  s = FileSpec{};
  s.kvs[1] = [](Raw& r) { r.str("general.alignment").u32(8).str("32"); };
  expect_refused(build(s), "general.alignment has type string");

  s = FileSpec{};
  s.kvs.push_back([](Raw& r) { r.str("general.architecture").u32(8).str("qwen2"); });
  expect_refused(build(s), "duplicate metadata key 'general.architecture'");
}

TEST_CASE("tensor info problems") {
  FileSpec s;
  s.tensors[0].offset = uint64_t{1} << 20;
  expect_refused(build(s), "tensor 'w' data [1048576, +256) is past the end of the data section");

  s = FileSpec{};
  s.tensors[0].offset = ~uint64_t{0} - 31;  // aligned, and offset + size overflows 64 bits
  expect_refused(build(s), "past the end of the data section");

  s = FileSpec{};
  s.tensors[0].ne = {uint64_t{1} << 39, uint64_t{1} << 39};
  expect_refused(build(s), "tensor 'w' element count overflows");

  s = FileSpec{};
  s.tensors[0].ne = {32, ~uint64_t{0}};  // -1 as int64
  expect_refused(build(s), "tensor 'w' dimension -1 is negative or too large");

  s = FileSpec{};
  s.tensors[0].ne = {32, 0};
  expect_refused(build(s), "tensor 'w' has a zero dimension");

  s = FileSpec{};
  s.tensors[0].ne = {32, 1, 1, 1, 2};
  expect_refused(build(s), "tensor 'w' has 5 dimensions");

  s = FileSpec{};
  s.tensors[0].type = 13;
  expect_refused(build(s), "ggml type 13 (q5_k), which is not supported");
  s.tensors[0].type = 1000;
  expect_refused(build(s), "ggml type 1000 (unknown)");

  s = FileSpec{};
  s.tensors[0].offset = 4;
  expect_refused(build(s), "tensor 'w' data offset 4 is misaligned (alignment 32)");

  s = FileSpec{};
  s.tensors.push_back(TensorSpec{"w", {32}, 0, 0});
  expect_refused(build(s), "duplicate tensor name 'w'");

  s = FileSpec{};
  s.tensors.push_back(TensorSpec{"v", {32}, 0, 224});  // overlaps w's [0, 256)
  s.data_bytes = 512;
  expect_refused(build(s), "tensor 'v' overlaps tensor 'w'");

  s = FileSpec{};
  s.tensors[0].type = 8;  // q8_0 rows of 33 elements
  s.tensors[0].ne = {33, 2};
  expect_refused(build(s), "rows of 33 elements are not whole q8_0 blocks");

  s = FileSpec{};
  s.tensors[0].name = std::string(1, 'w');
  s.n_tensors = 1;
  s.data_bytes = 100;  // file ends inside the tensor's data
  expect_refused(build(s), "past the end of the data section");
}

TEST_CASE("a GGUF of an unknown architecture or missing tensors is refused by name") {
  testing::TempDir dir;
  GgufWriter w;
  w.set_string("general.architecture", "gpt2");
  REQUIRE(w.write_file(dir.file("a.gguf")).ok());
  auto m = load_model(dir.file("a.gguf"));
  REQUIRE_FALSE(m.ok());
  CHECK(m.status().message().find("architecture 'gpt2'") != std::string::npos);

  GgufWriter v;
  v.set_string("general.architecture", "qwen2");
  for (auto [k, val] :
       std::vector<std::pair<std::string, uint32_t>>{{"qwen2.embedding_length", 64},
                                                     {"qwen2.block_count", 1},
                                                     {"qwen2.feed_forward_length", 128},
                                                     {"qwen2.attention.head_count", 4},
                                                     {"qwen2.attention.head_count_kv", 2}}) {
    v.set_u32(k, val);
  }
  std::vector<uint8_t> emb(50 * 64 * 4, 0);
  REQUIRE(
      v.add_tensor_bytes("token_embd.weight", DType::kF32, {50, 64}, emb.data(), emb.size()).ok());
  REQUIRE(v.write_file(dir.file("b.gguf")).ok());
  m = load_model(dir.file("b.gguf"));
  REQUIRE_FALSE(m.ok());
  CHECK(m.status().message().find("missing tensor 'blk.0.attn_q.weight'") != std::string::npos);
  CHECK(m.status().message().find("missing tensor 'blk.0.attn_q.bias'") != std::string::npos);

  GgufWriter u;
  u.set_string("general.architecture", "llama");
  REQUIRE(u.write_file(dir.file("c.gguf")).ok());
  m = load_model(dir.file("c.gguf"));
  REQUIRE_FALSE(m.ok());
  CHECK(m.status().message().find("llama.embedding_length") != std::string::npos);

  testing::write_text(dir.file("d.gguf"), "not a gguf file at all");
  m = load_model(dir.file("d.gguf"));
  REQUIRE_FALSE(m.ok());
  CHECK(m.status().message().find("bad magic") != std::string::npos);
}

// --- safetensors -------------------------------------------------------------------------

void expect_st_refused(const std::vector<uint8_t>& bytes, const std::string& needle) {
  auto r = parse_safetensors(bytes.data(), bytes.size(), "bad.safetensors");
  REQUIRE_FALSE(r.ok());
  CHECK_MESSAGE(r.status().message().find(needle) != std::string::npos,
                "message: " << r.status().message() << " | wanted: " << needle);
}

std::vector<uint8_t> st_with_header(const std::string& header, size_t data_bytes) {
  Raw r;
  r.u64(header.size()).put(header.data(), header.size()).zeros(data_bytes);
  return r.b;
}

TEST_CASE("bad safetensors files are refused by name") {
  auto good = testing::safetensors_image({{"a", "F32", {2, 3}, std::vector<uint8_t>(24, 1)}});
  REQUIRE(parse_safetensors(good.data(), good.size(), "ok").ok());
  for (size_t cut = 0; cut < good.size(); ++cut) {
    auto r = parse_safetensors(good.data(), cut, "cut");
    CHECK_FALSE(r.ok());
  }
  expect_st_refused(std::vector<uint8_t>(good.begin(), good.begin() + 5), "too short");
  Raw big;
  big.u64(uint64_t{1} << 62).zeros(16);
  expect_st_refused(big.b, "header length 4611686018427387904 exceeds");
  Raw past;
  past.u64(4000).zeros(16);
  expect_st_refused(past.b, "header length 4000 is past the end");
  expect_st_refused(st_with_header("{\"a\": [1, 2", 0), "not valid JSON");
  expect_st_refused(st_with_header("[1, 2]", 0), "not an object");
  expect_st_refused(st_with_header(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 4),
                    "data_offsets end 8 is past the data area (4 bytes)");
  expect_st_refused(
      st_with_header(R"({"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,16]}})", 32),
      "holds 16 bytes but dtype F32 and shape 6 elements need 24");
  expect_st_refused(
      st_with_header(R"({"a":{"dtype":"I64","shape":[2],"data_offsets":[0,16]}})", 32),
      "tensor 'a' has dtype I64");
  expect_st_refused(
      st_with_header(R"({"a":{"dtype":"F16","shape":[-2],"data_offsets":[0,4]}})", 32),
      "negative dimension");
  expect_st_refused(st_with_header(R"({"a":{"dtype":"F16","shape":[2],"data_offsets":[8,4]}})", 32),
                    "begin 8 > end 4");
  expect_st_refused(st_with_header(R"({"a":{"dtype":"F16","shape":[4],"data_offsets":[0,8]},)"
                                   R"("b":{"dtype":"F16","shape":[4],"data_offsets":[4,12]}})",
                                   32),
                    "overlap");
  expect_st_refused(st_with_header(R"({"a":{"dtype":"F16","shape":[4]}})", 32), "data_offsets");
  expect_st_refused(
      st_with_header(
          R"({"a":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,8]}})",
          32),
      "overflow");
}

}  // namespace
}  // namespace stemma
