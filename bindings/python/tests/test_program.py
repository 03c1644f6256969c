"""Program: gen against HF's greedy replies, role blocks as the chat template renders them,
select, fork/join sharing the cached prefix, run_batch with a Python function."""
import threading
import unittest

import stemma
from . import _util
from ._util import QUESTION, engine


class ProgramTest(unittest.TestCase):
    # References: Engine.generate, which test_engine checks against HF transformers.
    def test_gen_after_a_prompt_is_generates_reply(self):
        c = _util.hf_cases(20)[3]
        p = engine().program()
        p.append(c["prompt"])
        p.gen("reply", max_tokens=len(c["output_ids"]) + 1)
        want = engine().generate(c["prompt"], max_tokens=len(c["output_ids"]) + 1)
        self.assertEqual(p["reply"], want)
        self.assertEqual(p.text, c["prompt"] + want)
        p.close()

    def test_messages_and_role_block(self):
        c = _util.hf_cases(20)[4]
        messages = _util.split_chatml(c["prompt"])
        with engine().program() as p:
            for m in messages:
                p.message(m["role"], m["content"])
            streamed = []
            with p.role("assistant"):
                p.gen("reply", max_tokens=200, on_text=streamed.append)
            want = engine().generate(c["prompt"], max_tokens=200)
            self.assertEqual(p["reply"], want)
            self.assertEqual("".join(streamed), want)
            rendered = engine().chat_format(messages + [{"role": "assistant",
                                                         "content": want}],
                                            add_generation_prompt=False)
            self.assertEqual(p.text, rendered)

    def test_select_and_fork_join(self):
        c = _util.hf_cases(20)[5]
        with engine().program() as p:
            greedy = engine().generate(c["prompt"], max_tokens=200)
            p.append(c["prompt"])
            p.select("pick", [greedy[::-1], greedy])
            self.assertEqual(p["pick"], greedy)
            p.wait()
            before = engine().stats()["cached_tokens"]
            forks = p.fork(3)
            for i, f in enumerate(forks):
                f.append("\n")
                f.gen("more", max_tokens=4, temperature=1.0, seed=i)
            stemma.Program.join(forks)
            prompt_tokens = len(engine().tokenize(p.text))
            self.assertGreaterEqual(engine().stats()["cached_tokens"] - before,
                                    3 * (prompt_tokens // 16) * 16)
            for f in forks:
                self.assertTrue(f.text.startswith(p.text))
                self.assertEqual(f["pick"], greedy)
                f.close()

    def test_errors(self):
        with engine().program() as p:
            with self.assertRaises(stemma.FailedPrecondition):
                p.role_end()
            with self.assertRaises(stemma.NotFound):
                p.get("nothing")
            p.append("Hello")
            p.gen("x", regex="(", max_tokens=3)  # queued; fails when it runs
            with self.assertRaises(stemma.InvalidArgument):
                p.wait()
            p.wait()  # the error was cleared

    def test_run_batch_with_a_python_function(self):
        cases = _util.hf_cases(30)[:5]
        replies = {}
        lock = threading.Lock()

        def build(index, program):
            c = cases[index]
            program.append(c["prompt"])
            program.gen("reply", max_tokens=len(c["output_ids"]) + 1)
            with lock:
                replies[index] = program["reply"]

        engine().run_batch(build, len(cases), parallelism=2)
        want = [engine().generate(c["prompt"], max_tokens=len(c["output_ids"]) + 1) for c in cases]
        self.assertEqual([replies[i] for i in range(len(cases))], want)

        def fails(index, program):
            if index == 1:
                raise RuntimeError("from the batch function")
            program.append(QUESTION)

        with self.assertRaisesRegex(RuntimeError, "from the batch function"):
            engine().run_batch(fails, 3)


if __name__ == "__main__":
    unittest.main()
