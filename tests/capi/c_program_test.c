/* A C99 program using libstemma.so the way a C caller would: open the model, tokenize and
 * detokenize, stream a generation, cancel one from the callback, and check that misuse (NULL
 * handles, a wrong struct_size, invalid UTF-8) comes back as status codes with messages.
 * Compiled with -std=c99 -pedantic -Wall -Wextra -Werror, so the header is checked as C too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stemma.h"

static int failures = 0;

#define EXPECT(cond)                                                     \
  do {                                                                   \
    if (!(cond)) {                                                       \
      fprintf(stderr, "%s:%d: failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                        \
    }                                                                    \
  } while (0)

#define EXPECT_STATUS(call, want)                                                         \
  do {                                                                                    \
    stemma_status got_ = (call);                                                          \
    if (got_ != (want)) {                                                                 \
      fprintf(stderr, "%s:%d: %s returned %s, want %s (%s)\n", __FILE__, __LINE__, #call, \
              stemma_status_name(got_), stemma_status_name(want), stemma_last_error());   \
      ++failures;                                                                         \
    }                                                                                     \
  } while (0)

/* Collects streamed pieces; cancels after `cancel_after` pieces when that is > 0. */
typedef struct collector {
  char text[65536];
  size_t length;
  int pieces;
  int cancel_after;
} collector;

static int32_t collect(void* user_data, const char* piece, size_t length) {
  collector* c = (collector*)user_data;
  if (c->length + length < sizeof c->text) {
    memcpy(c->text + c->length, piece, length);
    c->length += length;
    c->text[c->length] = '\0';
  }
  c->pieces++;
  return c->cancel_after > 0 && c->pieces >= c->cancel_after;
}

int main(int argc, char** argv) {
  stemma_engine_options options;
  stemma_engine* engine = NULL;
  stemma_gen_options gen;
  int32_t* tokens = NULL;
  size_t count = 0;
  char* text = NULL;
  stemma_finish_reason finish = STEMMA_FINISH_NONE;
  stemma_engine_stats stats;
  static collector streamed;
  const char* prompt =
      "<|im_start|>user\nHow do I reset my Lumora Hub?<|im_end|>\n"
      "<|im_start|>assistant\n";

  if (argc < 2) {
    fprintf(stderr, "usage: %s MODEL.gguf\n", argv[0]);
    return 2;
  }
  EXPECT(stemma_abi_version() == STEMMA_ABI_VERSION);
  EXPECT(strlen(stemma_version()) > 0);
  EXPECT(strcmp(stemma_status_name(STEMMA_INVALID_ARGUMENT), "INVALID_ARGUMENT") == 0);
  EXPECT(strcmp(stemma_status_name(12345), "UNKNOWN") == 0);

  /* Misuse before any engine exists. */
  EXPECT_STATUS(stemma_engine_open(NULL, &engine), STEMMA_INVALID_ARGUMENT);
  EXPECT(strstr(stemma_last_error(), "options") != NULL);
  STEMMA_STRUCT_INIT(&options);
  stemma_engine_options_init(&options);
  options.model_path = argv[1];
  options.threads = 1;
  options.struct_size = sizeof options + 8;
  EXPECT_STATUS(stemma_engine_open(&options, &engine), STEMMA_INVALID_ARGUMENT);
  EXPECT(strstr(stemma_last_error(), "struct_size") != NULL);
  EXPECT(engine == NULL);
  options.struct_size = sizeof options;
  options.model_path = "/nonexistent/model.gguf";
  EXPECT(stemma_engine_open(&options, &engine) != STEMMA_OK);
  EXPECT(strstr(stemma_last_error(), "/nonexistent/model.gguf") != NULL);
  /* A path is bytes: one that is not UTF-8 is looked up as such, and the message quoting it
   * is UTF-8 (the bad byte written as \xC3). */
  options.model_path = "\xC3\x28.gguf";
  EXPECT_STATUS(stemma_engine_open(&options, &engine), STEMMA_NOT_FOUND);
  EXPECT(strstr(stemma_last_error(), "\\xC3(.gguf") != NULL);
  EXPECT_STATUS(stemma_tokenize(NULL, "hi", 1, &tokens, &count), STEMMA_INVALID_ARGUMENT);

  options.model_path = argv[1];
  EXPECT_STATUS(stemma_engine_open(&options, &engine), STEMMA_OK);
  if (engine == NULL) return 1;

  /* Tokenize -> detokenize gives the text back (without the BOS the model adds). */
  EXPECT_STATUS(stemma_tokenize(engine, "Lumora Hub: reset \xE2\x9C\x93", 0, &tokens, &count),
                STEMMA_OK);
  EXPECT(count > 0);
  EXPECT_STATUS(stemma_detokenize(engine, tokens, count, &text), STEMMA_OK);
  EXPECT(text != NULL && strcmp(text, "Lumora Hub: reset \xE2\x9C\x93") == 0);
  stemma_string_free(text);
  text = NULL;
  stemma_tokens_free(tokens);
  tokens = NULL;
  EXPECT_STATUS(stemma_tokenize(engine, "bad \xFF byte", 0, &tokens, &count),
                STEMMA_INVALID_ARGUMENT);
  EXPECT(strstr(stemma_last_error(), "byte 4") != NULL);
  EXPECT(tokens == NULL);

  /* A streamed greedy generation: the pieces add up to the returned text. */
  STEMMA_STRUCT_INIT(&gen);
  stemma_gen_options_init(&gen);
  gen.max_tokens = 40;
  EXPECT_STATUS(stemma_generate(engine, prompt, &gen, collect, &streamed, &text, &finish),
                STEMMA_OK);
  EXPECT(text != NULL && strlen(text) > 0);
  EXPECT(text != NULL && strcmp(text, streamed.text) == 0);
  EXPECT(streamed.pieces > 1);
  EXPECT(finish == STEMMA_FINISH_STOP || finish == STEMMA_FINISH_LENGTH);
  {
    /* Greedy is deterministic: the same prompt gives the same text, without a stream. */
    char* again = NULL;
    EXPECT_STATUS(stemma_generate(engine, prompt, &gen, NULL, NULL, &again, NULL), STEMMA_OK);
    EXPECT(again != NULL && text != NULL && strcmp(again, text) == 0);
    stemma_string_free(again);
  }
  stemma_string_free(text);
  text = NULL;

  /* The callback cancels after two pieces: CANCELLED, with the text so far. */
  memset(&streamed, 0, sizeof streamed);
  streamed.cancel_after = 2;
  EXPECT_STATUS(stemma_generate(engine, prompt, &gen, collect, &streamed, &text, &finish),
                STEMMA_CANCELLED);
  EXPECT(finish == STEMMA_FINISH_CANCELLED);
  EXPECT(streamed.pieces == 2);
  EXPECT(text != NULL && strncmp(text, streamed.text, streamed.length) == 0);
  stemma_string_free(text);
  text = NULL;

  /* Options the library must refuse. */
  gen.struct_size = 3;
  EXPECT_STATUS(stemma_generate(engine, prompt, &gen, NULL, NULL, &text, NULL),
                STEMMA_INVALID_ARGUMENT);
  STEMMA_STRUCT_INIT(&gen);
  stemma_gen_options_init(&gen);
  gen.top_p = 0.0f;
  EXPECT_STATUS(stemma_generate(engine, prompt, &gen, NULL, NULL, &text, NULL),
                STEMMA_INVALID_ARGUMENT);
  EXPECT(strstr(stemma_last_error(), "top_p") != NULL);
  STEMMA_STRUCT_INIT(&gen);
  stemma_gen_options_init(&gen);
  EXPECT_STATUS(stemma_generate(engine, "\xED\xA0\x80", &gen, NULL, NULL, &text, NULL),
                STEMMA_INVALID_ARGUMENT);
  EXPECT(text == NULL);

  /* Statistics: the generations above went through the engine. */
  STEMMA_STRUCT_INIT(&stats);
  stemma_engine_stats_init(&stats);
  EXPECT_STATUS(stemma_engine_stats_get(engine, &stats), STEMMA_OK);
  EXPECT(stats.generated_tokens > 0);
  EXPECT(stats.cached_tokens > 0); /* the same prompt ran twice */
  stats.struct_size = 0;
  EXPECT_STATUS(stemma_engine_stats_get(engine, &stats), STEMMA_INVALID_ARGUMENT);

  stemma_engine_free(engine);
  /* The freed handle is recognised as such, not dereferenced. */
  EXPECT_STATUS(stemma_tokenize(engine, "hi", 1, &tokens, &count), STEMMA_INVALID_ARGUMENT);
  EXPECT(strstr(stemma_last_error(), "not a live stemma_engine") != NULL);
  stemma_engine_free(engine); /* a double free is ignored */
  stemma_engine_free(NULL);
  stemma_string_free(NULL);
  stemma_tokens_free(NULL);

  if (failures > 0) {
    fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  printf("c_program_test: all checks passed\n");
  return 0;
}
