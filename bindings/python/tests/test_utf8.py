"""Text crossing the C ABI must be UTF-8: random byte strings are accepted exactly when
Python's strict UTF-8 decoder accepts them, and refused with the offset it reports."""
import random
import re
import unittest

import stemma
from ._util import engine


class Utf8Test(unittest.TestCase):
    def test_random_bytes_agree_with_pythons_decoder(self):
        rng = random.Random(5)
        # Bytes near the UTF-8 boundaries make ill-formed sequences likely but not certain.
        alphabet = [0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0,
                    0xE1, 0xED, 0xEE, 0xEF, 0xF0, 0xF3, 0xF4, 0xF5, 0xFF]
        accepted = refused = 0
        chars = ["a", "é", "ß", "€", "日", "\U0001F642", "\U0010FFFF", "\uFFFF", "\u07FF"]
        for _ in range(1500):
            # Well-formed characters with, now and then, a byte from near the boundaries.
            data = b"".join(bytes([rng.choice(alphabet)]) if rng.random() < 0.15
                            else rng.choice(chars).encode() for _ in range(rng.randint(1, 6)))
            try:
                data.decode("utf-8")
                reference = None
            except UnicodeDecodeError as e:
                reference = e.start
            if reference is None:
                engine().tokenize(data)
                accepted += 1
            else:
                with self.assertRaises(stemma.InvalidArgument) as ctx:
                    engine().tokenize(data)
                offset = int(re.search(r"\(byte (\d+) of", str(ctx.exception)).group(1))
                self.assertEqual(offset, reference, data)
                refused += 1
        self.assertGreater(accepted, 100)
        self.assertGreater(refused, 100)

    def test_lone_surrogates_from_python_are_refused(self):
        with self.assertRaises(stemma.InvalidArgument):
            engine().tokenize("abc\ud800")
        self.assertEqual(engine().detokenize(engine().tokenize("日本 🙂", add_special=False)),
                         "日本 🙂")


if __name__ == "__main__":
    unittest.main()
