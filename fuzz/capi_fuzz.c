/* libFuzzer target for the C ABI (fuzz/CMakeLists.txt; scripts/fuzz.sh builds it with the
 * library instrumented, tests/capi/CMakeLists.txt also builds it against the plain library
 * for a smoke run). Each input is read as a little program: one byte picks an entry
 * point, the following bytes give its arguments (texts of fuzzer-chosen bytes, so invalid UTF-8
 * and embedded special tokens come for free; struct sizes; flags; counts). One engine and one
 * RAG store live across inputs; programs and chats made by an input are freed at its end.
 *
 * Checked: no crash, statuses in range, INVALID_ARGUMENT for text that is not UTF-8, and valid
 * UTF-8 in every returned string and in the last error (abort() otherwise, which libFuzzer
 * reports).
 *
 *   scripts/fuzz.sh --seconds 600 capi */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stemma.h"

static stemma_engine* g_engine;
static stemma_rag* g_rag;

static int valid_utf8(const unsigned char* s, size_t n) {
  size_t i = 0;
  while (i < n) {
    unsigned char b = s[i];
    size_t len = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
    uint32_t cp;
    size_t k;
    static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
    if (len == 0 || i + len > n) return 0;
    cp = len == 1 ? b : len == 2 ? (b & 0x1Fu) : len == 3 ? (b & 0x0Fu) : (b & 0x07u);
    for (k = 1; k < len; ++k) {
      if ((s[i + k] >> 6) != 2) return 0;
      cp = (cp << 6) | (s[i + k] & 0x3Fu);
    }
    if (cp < min[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    i += len;
  }
  return 1;
}

static void check(int ok, const char* what) {
  if (!ok) {
    fprintf(stderr, "capi_libfuzzer: %s (last error: %s)\n", what, stemma_last_error());
    abort();
  }
}

static void check_status(stemma_status s) {
  check(s >= STEMMA_OK && s <= STEMMA_INTERNAL, "status out of range");
  if (s != STEMMA_OK) {
    const char* e = stemma_last_error();
    check(e != NULL && valid_utf8((const unsigned char*)e, strlen(e)), "last error not UTF-8");
  }
}

static void check_out(stemma_status s, char* out) {
  check_status(s);
  if (s == STEMMA_OK && (out == NULL || !valid_utf8((const unsigned char*)out, strlen(out)))) {
    size_t i;
    fprintf(stderr, "capi_libfuzzer: output:");
    for (i = 0; out != NULL && out[i] != 0 && i < 200; ++i)
      fprintf(stderr, " %02x", (unsigned char)out[i]);
    fprintf(stderr, "%s\n", out == NULL ? " NULL" : "");
    check(0, "output not UTF-8");
  }
  stemma_string_free(out);
}

/* Reads the input front to back; past its end every read gives zeros. */
typedef struct reader {
  const uint8_t* p;
  size_t n;
} reader;

static uint8_t byte(reader* r) {
  uint8_t b = 0;
  if (r->n > 0) {
    b = *r->p++;
    r->n--;
  }
  return b;
}

/* A NUL-terminated text of up to 63 input bytes (a NUL byte ends it early). *bad says whether
 * it is ill-formed UTF-8. */
static char* text(reader* r, char* buf, int* bad) {
  size_t len = byte(r) % 64, i;
  for (i = 0; i < len; ++i) {
    buf[i] = (char)byte(r);
    if (buf[i] == 0) break;
  }
  buf[i] = 0;
  *bad = !valid_utf8((const unsigned char*)buf, i);
  return buf;
}

static int32_t stream(void* user_data, const char* piece, size_t length) {
  (void)user_data;
  check(valid_utf8((const unsigned char*)piece, length), "streamed piece not UTF-8");
  return length % 5 == 0; /* cancel now and then */
}

int LLVMFuzzerInitialize(int* argc, char*** argv) {
  stemma_engine_options o;
  (void)argc;
  (void)argv;
  stemma_engine_options_init(&o);
  o.model_path = STEMMA_FUZZ_MODEL;
  o.threads = 1;
  o.kv_memory_bytes = (int64_t)32 << 20;
  if (stemma_engine_open(&o, &g_engine) != STEMMA_OK) {
    fprintf(stderr, "capi_libfuzzer: cannot open %s: %s\n", STEMMA_FUZZ_MODEL, stemma_last_error());
    exit(1);
  }
  if (stemma_rag_open(":memory:", &g_rag) != STEMMA_OK) exit(1);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  reader r = {data, size};
  char a[64], b[64];
  int abad, bbad, steps = 0, generations = 0;
  stemma_program* program = NULL;
  stemma_chat* chat = NULL;
  while (r.n > 0 && steps++ < 16) {
    char* out = NULL;
    stemma_status s;
    uint8_t op = byte(&r);
    stemma_gen_options g;
    stemma_gen_options_init(&g);
    g.max_tokens = 1 + byte(&r) % 3;
    if (byte(&r) % 8 == 0) g.struct_size = byte(&r); /* garbage size */
    switch (op % 10) {
      case 0: {
        int32_t* ids = NULL;
        size_t count = 0;
        text(&r, a, &abad);
        s = stemma_tokenize(g_engine, a, byte(&r) % 3, &ids, &count);
        check_status(s);
        if (abad) check(s == STEMMA_INVALID_ARGUMENT, "bad UTF-8 accepted by tokenize");
        if (s == STEMMA_OK) {
          s = stemma_detokenize(g_engine, ids, count, &out);
          check_out(s, out);
        }
        stemma_tokens_free(ids);
        break;
      }
      case 1: {
        int32_t ids[8];
        size_t i, n = byte(&r) % 8;
        for (i = 0; i < n; ++i) ids[i] = (int32_t)(byte(&r) | (byte(&r) << 8));
        s = stemma_detokenize(g_engine, ids, n, &out); /* before reading `out` */
        check_out(s, out);
        break;
      }
      case 2:
        text(&r, a, &abad);
        s = stemma_chat_format(g_engine, a, NULL, 1, &out);
        check_out(s, out);
        break;
      case 3:
        if (generations++ >= 2) break;
        text(&r, a, &abad);
        s = stemma_generate(g_engine, a, &g, byte(&r) % 2 ? stream : NULL, NULL, &out, NULL);
        if (abad) check(s == STEMMA_INVALID_ARGUMENT, "bad UTF-8 accepted by generate");
        if (s == STEMMA_CANCELLED) {
          check(out != NULL, "no text with CANCELLED");
          s = STEMMA_OK;
        }
        check_out(s, out);
        break;
      case 4:
        text(&r, a, &abad);
        text(&r, b, &bbad);
        s = stemma_rag_add_document(g_rag, a, NULL, b, byte(&r) % 3, NULL);
        check_status(s);
        if (abad || bbad) check(s == STEMMA_INVALID_ARGUMENT, "bad UTF-8 accepted by rag");
        break;
      case 5:
        text(&r, a, &abad);
        s = stemma_rag_search(g_rag, a, byte(&r) % 4, &out);
        check_out(s, out);
        break;
      case 6:
        if (program == NULL) check_status(stemma_program_new(g_engine, &program));
        text(&r, a, &abad);
        s = stemma_program_append(program, a);
        check_status(s);
        if (abad) check(s == STEMMA_INVALID_ARGUMENT, "bad UTF-8 accepted by append");
        break;
      case 7:
        if (program == NULL || generations++ >= 2) break;
        text(&r, a, &abad);
        if (byte(&r) % 2) {
          const char* choices[2];
          choices[0] = a;
          choices[1] = "no";
          check_status(stemma_program_select(program, "v", choices, 2));
        } else {
          check_status(stemma_program_gen(program, a, &g, NULL, NULL));
        }
        check_status(stemma_program_wait(program));
        s = stemma_program_text(program, &out);
        check_out(s, out);
        break;
      case 8:
        if (chat == NULL) {
          text(&r, a, &abad);
          s = stemma_chat_new(g_engine, NULL, a, &chat);
          check_status(s);
          if (s != STEMMA_OK) chat = NULL;
          break;
        }
        if (generations++ >= 2) break;
        text(&r, a, &abad);
        s = stemma_chat_send(chat, a, &g, NULL, NULL, &out);
        if (abad) check(s == STEMMA_INVALID_ARGUMENT, "bad UTF-8 accepted by chat_send");
        check_out(s, out);
        break;
      default: {
        stemma_engine_stats st;
        stemma_engine_stats_init(&st);
        st.struct_size = byte(&r) % 2 ? sizeof st : byte(&r);
        s = stemma_engine_stats_get(g_engine, &st);
        check_status(s);
        check((s == STEMMA_OK) == (st.struct_size == sizeof st), "stats struct_size check");
        break;
      }
    }
  }
  stemma_program_free(program);
  stemma_chat_free(chat);
  return 0;
}
