"""Engine: generation against HF transformers' greedy replies, tokenizer against HF's ids,
chat templates against faq_format.py's renderings, streaming (iterator and callback) and
cancellation, JSON Schema output checked by the jsonschema package, errors as exceptions."""
import json
import threading
import time
import unittest

import jsonschema

import stemma
from . import _util
from ._util import QUESTION, engine


class EngineTest(unittest.TestCase):
    def test_greedy_replies_equal_hf(self):
        cases = _util.hf_cases(20)
        self.assertGreaterEqual(len(cases), 10)
        same = 0
        for c in cases:
            text = engine().generate(c["prompt"], max_tokens=len(c["output_ids"]) + 1)
            self.assertIsInstance(text, str)
            same += text == c["output"] and text.finish == "stop"
        # Measured: all identical; one near-tie flipped by float summation order is tolerated.
        self.assertGreaterEqual(same, len(cases) - 1)

    def test_tokenizer_matches_hf_ids(self):
        for c in _util.hf_cases(25):
            self.assertEqual(engine().tokenize(c["output"], add_special=False), c["output_ids"])
            self.assertEqual(engine().detokenize(c["output_ids"]), c["output"])
        ids = engine().tokenize("<|im_start|>user")
        with open(f"{_util.SOURCE_DIR}/tests/fixtures/faq-model/tokenizer.json") as f:
            added = {t["content"]: t["id"] for t in json.load(f)["added_tokens"]}
        self.assertEqual(ids[0], added["<|endoftext|>"])  # BOS (tokenizer_config: add_bos)
        self.assertEqual(ids[1], added["<|im_start|>"])

    def test_chat_format_renders_eval_prompts(self):
        for c in _util.hf_cases(40):
            messages = _util.split_chatml(c["prompt"])
            self.assertEqual(engine().chat_format(messages), c["prompt"])

    def test_model_info_and_stats(self):
        info = engine().model_info()
        self.assertEqual(info["architecture"], "llama")
        before = engine().stats()
        text = engine().generate(QUESTION, max_tokens=5)
        after = engine().stats()
        self.assertEqual(text.finish, "length")
        self.assertEqual(after["generated_tokens"] - before["generated_tokens"], 5)
        self.assertEqual(len(engine().tokenize(text, add_special=False)) > 0, True)

    def test_stream_iterator_and_callback_give_the_text(self):
        c = _util.hf_cases(20)[1]
        pieces = list(engine().stream(c["prompt"], max_tokens=200))
        self.assertGreater(len(pieces), 5)
        self.assertEqual("".join(pieces), c["output"])
        seen = []
        text = engine().generate(c["prompt"], max_tokens=200, on_text=seen.append)
        self.assertEqual("".join(seen), text)
        self.assertEqual(text, c["output"])

    def test_leaving_the_stream_early_cancels(self):
        before = engine().stats()["generated_tokens"]
        it = engine().stream(QUESTION, max_tokens=400, regex="(ab)+", jump_forward=False)
        first = [next(it), next(it)]
        it.close()  # cancels and waits for the call to end
        generated = engine().stats()["generated_tokens"] - before
        self.assertTrue("".join(first).startswith("ab"))
        self.assertLess(generated, 400)
        # The callback form: returning False stops it; the text so far comes back.
        count = [0]

        def stop_at_three(piece):
            count[0] += 1
            return count[0] < 3

        text = engine().generate(QUESTION, max_tokens=100, on_text=stop_at_three)
        self.assertEqual(text.finish, "cancelled")
        self.assertEqual(count[0], 3)

    def test_callback_exception_propagates(self):
        def boom(piece):
            raise KeyError("from the callback")

        with self.assertRaises(KeyError):
            engine().generate(QUESTION, max_tokens=20, on_text=boom)

    def test_json_schema_output_validates(self):
        schema = {"type": "object",
                  "properties": {"answer": {"type": "string", "maxLength": 50},
                                 "escalate": {"type": "boolean"},
                                 "source_ids": {"type": "array",
                                                "items": {"type": "string", "maxLength": 10},
                                                "maxItems": 2}},
                  "required": ["answer", "escalate", "source_ids"],
                  "additionalProperties": False}
        for jump in (True, False):
            text = engine().generate(QUESTION, max_tokens=200, json_schema=schema,
                                     jump_forward=jump)
            self.assertEqual(text.finish, "stop")
            jsonschema.validate(json.loads(text), schema)  # the jsonschema package is the judge
        self.assertIn(engine().generate(QUESTION, regex="(yes|no)"), ("yes", "no"))

    def test_stop_strings_and_seeds(self):
        c = _util.hf_cases(20)[2]
        stop = c["output"][len(c["output"]) // 2:][:5]
        text = engine().generate(c["prompt"], max_tokens=200, stop=[stop])
        self.assertEqual(text, c["output"][:c["output"].index(stop)])
        a = engine().generate(QUESTION, max_tokens=16, temperature=1.0, seed=11)
        b = engine().generate(QUESTION, max_tokens=16, temperature=1.0, seed=11)
        self.assertEqual(a, b)

    def test_threads_share_one_engine(self):
        cases = _util.hf_cases(30)[:6]
        out = {}

        def run(c):
            out[c["id"]] = engine().generate(c["prompt"], max_tokens=len(c["output_ids"]) + 1)

        threads = [threading.Thread(target=run, args=(c,)) for c in cases]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertGreaterEqual(sum(out[c["id"]] == c["output"] for c in cases), len(cases) - 1)

    def test_errors_are_exceptions_with_the_library_message(self):
        with self.assertRaises(stemma.InvalidArgument) as ctx:
            engine().generate(QUESTION, top_p=0.0)
        self.assertIn("top_p", str(ctx.exception))
        self.assertEqual(ctx.exception.name, "INVALID_ARGUMENT")
        with self.assertRaises(stemma.InvalidArgument):
            engine().generate(QUESTION, regex="(")
        with self.assertRaises(stemma.Unsupported):
            engine().generate(QUESTION, json_schema={"type": "number", "multipleOf": 3})
        with self.assertRaises(stemma.OutOfRange):
            engine().generate("reset " * 3000)
        with self.assertRaises(stemma.OutOfRange):
            engine().detokenize([1, 10 ** 6])
        with self.assertRaises(TypeError):
            engine().generate(QUESTION, max_token=3)  # misspelt option
        with self.assertRaises(stemma.StemmaError) as ctx:
            stemma.Engine("/no/such/model.gguf")
        self.assertIn("/no/such/model.gguf", str(ctx.exception))
        e = stemma.Engine(_util.MODEL, threads=1, kv_memory_bytes=16 << 20)
        e.close()
        with self.assertRaises(ValueError):
            e.generate("x")
        e.close()  # twice is fine

    def test_backend_choice(self):
        # This build and machine have no GPU: cuda is refused naming it (Unsupported where the
        # library has no CUDA backend, FailedPrecondition where no GPU answers).
        with self.assertRaises((stemma.Unsupported, stemma.FailedPrecondition)) as ctx:
            stemma.Engine(_util.MODEL, threads=1, kv_memory_bytes=16 << 20, backend="cuda")
        self.assertIn("cuda", str(ctx.exception))
        with self.assertRaises(ValueError):
            stemma.Engine(_util.MODEL, backend="gpu")
        with self.assertRaises(stemma.InvalidArgument):
            stemma.Engine(_util.MODEL, threads=1, backend="cpu", device=-1)
        e = stemma.Engine(_util.MODEL, threads=1, kv_memory_bytes=16 << 20, backend="cpu",
                          shared_prefix_attention=False)
        info = e.model_info()
        self.assertEqual(info["backend"], "cpu")
        self.assertEqual(info["backend_note"], "")
        e.close()
        auto = engine().model_info()  # the default, auto, falls back to the CPU here
        self.assertEqual(auto["backend"], "cpu")
        self.assertTrue(auto["backend_note"].startswith("auto: "))

    def test_version(self):
        self.assertEqual(stemma.abi_version(), 1)
        self.assertRegex(stemma.version(), r"^\d+\.\d+\.\d+$")
        self.assertTrue(stemma.library_path().endswith("libstemma.so"))


if __name__ == "__main__":
    unittest.main()
