#!/usr/bin/env python3
"""Writes the tokenizer test corpora: tests/fixtures/tokenizer/corpus.txt (the dev corpus the
tokenizer was developed against) and, with --heldout, heldout.txt (1,600 strings from another
seed and more kinds of hard text, generated after the implementation was written and first
compared against HF on the run that is recorded in docs/tokenizer.md).

One entry per line, as the hex of its UTF-8 bytes (so newlines, tabs and invalid UTF-8 survive).
Seeded: running it again gives the same file. Handwritten tricky cases come first, then
generated strings that mix scripts, emoji, code, whitespace runs, digits and special-token
look-alikes. Characters are drawn from Unicode <= 14 so Python's and node's tables agree; U+0085
and U+FEFF are avoided (onig's and JS's \\s disagree on them).
"""
import random
import sys
from pathlib import Path

HANDWRITTEN = [
    "", " ", "  ", "\n", "\t", "\r\n", "a", "Hello world", " Hello world", "Hello  world",
    "hello\n\nworld", "   leading spaces", "trailing spaces   ", "tabs\tand\ttabs\t\t",
    "I'm can't won't they're we've I'll he'd", "I'M CAN'T THEY'RE WE'VE I'LL HE'D",
    "don’t curly ’quotes’", "12345678901234567890", "3.14159 2,718 1e-10 0x1F",
    "The year 2024 and 1999.", "<|im_start|>user\nhi<|im_end|>", "<|begin_of_text|>hello",
    "<s>[INST] hi [/INST]</s>", "<|endoftext|>", "<|eot_id|><|start_header_id|>",
    "< | im_start | >", "<think>reasoning</think>answer", "<tool_call>{\"a\":1}</tool_call>",
    "<unk>", "<0x41>", "Ġhello", "▁hello ▁world", "def f(x):\n    return x * 2\n",
    "for (int i = 0; i < n; ++i) {\n\tsum += a[i];\n}", "if a != b && c >= d || !e:",
    "https://example.com/path?q=1&r=two#frag", "user@example.org", "C:\\Windows\\System32",
    "日本語のテキストです。", "中文测试：你好，世界！", "한국어 텍스트", "Привет, мир!",
    "مرحبا بالعالم", "नमस्ते दुनिया", "สวัสดีชาวโลก", "Γειά σου Κόσμε", "שלום עולם",
    "👋🌍", "👨‍👩‍👧‍👦 family", "🏳️‍🌈 flag", "👍🏽 skin tone", "🇺🇸🇯🇵", "e\u0301 combining",
    "caf\u00e9 vs cafe\u0301", "\u1100\u1161\u11a8 jamo", "Å vs A\u030a", "ﬁ ligature", "½ ¼ ²",
    "\u00a0nbsp\u00a0", "ideographic\u3000space", "zero\u200bwidth", "em\u2003space",
    "x" * 200, "ab" * 100, " " * 50, "\n" * 20, "\t \t \n", "!!!???...,,,", "$$$%%%^^^",
    "a\u0000b", "\u0001\u0002\u0003", "ﷺ", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "𠀀𠀁 rare CJK",
]

SCRIPTS = {
    "latin": "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZàáâäçèéêëìíîïñòóôöùúûüÿßøåæœ",
    "cyrillic": "абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЕЖЗИЙКЛМНОПРСТУФХЦЧШЩЭЮЯ",
    "greek": "αβγδεζηθικλμνξοπρστυφχψωΑΒΓΔΕΖΗΘΙΚΛΜΝΞΟΠΡΣΤΥΦΧΨΩ",
    "cjk": "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可她里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面公同三已老从动两长知民样现分将外但身些与高意进把法此实回二理美点月明",
    "hiragana": "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわをんがぎぐげござじずぜぞ",
    "katakana": "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワヲンー",
    "hangul": "가나다라마바사아자차카타파하고노도로모보소오조초코토포호한국어텍스트입니다",
    "arabic": "ابتثجحخدذرزسشصضطظعغفقكلمنهويءآأؤإئة",
    "hebrew": "אבגדהוזחטיכלמנסעפצקרשת",
    "devanagari": "अआइईउऊएऐओऔकखगघचछजझटठडढणतथदधनपफबभमयरलवशषसहािीुूेैोौंः्",
    "thai": "กขคงจฉชซญดตถทธนบปผพฟภมยรลวศษสหอฮะาิีึืุูเแโใไ",
    "digits": "0123456789",
    "punct": "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~«»“”‘’—–…·•¿¡§¶",
    "emoji": ["😀", "😂", "🥲", "🤖", "🚀", "🎉", "❤️", "👍🏽", "👨‍👩‍👧", "🧑‍💻", "🏳️‍🌈", "🇩🇪",
              "✨", "🔥", "👩🏾‍🔬", "☕", "🐍", "🦀"],
    "space": [" ", "  ", "   ", "\t", "\n", "\n\n", "\r\n", " \n", "\t\t", "    ", "\u00a0",
              "\u3000"],
    "special": ["<|im_start|>", "<|im_end|>", "<|endoftext|>", "<|begin_of_text|>",
                "<|eot_id|>", "<s>", "</s>", "[INST]", "<think>", "</think>", "<|im_start",
                "im_end|>", "<|", "|>", "<tool_call>"],
    "code": ["def ", "return ", "class ", "import ", "{", "}", "()", "=>", "==", "!=", "//",
             "/* ", " */", "#include <stdio.h>", "std::vector<int>", "x += 1;", "\"str\"",
             "'c'", "    ", "\tif (", "self.", "0x7f", "1_000_000", "λ", "->"],
    "contractions": ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'T", "'RE", "'LL",
                     "n't", "’s"],
}


def word(rng, alphabet, lo=1, hi=9):
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(lo, hi)))


def piece(rng):
    kind = rng.choice(list(SCRIPTS))
    alphabet = SCRIPTS[kind]
    if isinstance(alphabet, list):
        return rng.choice(alphabet)
    if kind == "digits":
        return word(rng, alphabet, 1, 12)
    return word(rng, alphabet)


def generated(rng):
    n = rng.randint(1, 24)
    parts = []
    for _ in range(n):
        parts.append(piece(rng))
        r = rng.random()
        if r < 0.55:
            parts.append(" ")
        elif r < 0.62:
            parts.append(rng.choice(SCRIPTS["space"]))
    return "".join(parts)


def single_script(rng):
    kind = rng.choice(["latin", "cyrillic", "cjk", "arabic", "devanagari", "hangul", "greek"])
    return " ".join(word(rng, SCRIPTS[kind], 1, 10) for _ in range(rng.randint(1, 15)))


def invalid_utf8(rng):
    good = generated(rng).encode("utf-8")
    bad = rng.choice([b"\xff", b"\xc3", b"\xe6\x97", b"\xf0\x9f\x98", b"\x80\x80", b"\xed\xa0\x80",
                      b"\xc0\xaf", b"\xf8\x88\x80\x80\x80", b"\xfe\xfe"])
    cut = rng.randint(0, len(good))
    return good[:cut] + bad + good[cut:]


HARD = {
    # Characters NFKC/NFKD and lowercasing change: ligatures, fullwidth, compatibility forms,
    # letters whose lowercase is longer, Greek sigma, Turkish dotted I.
    "compat": "ﬁﬂﬀﬃＡＢＣａｂｃ０１２３！？（）㍿㌔①②⑩ⅠⅡⅫ½¾⁴₂ｶﾞﾊﾟ™℃№ſẞΣσςİıǅǈ",
    "accents": "ÀÁÂÃÄÅàáâãäåÇçÈÉÊËèéêëÌÍÎÏìíîïÑñÒÓÔÕÖØòóôõöøÙÚÛÜùúûüÝýÿĀāĂăĄąĆćŁłŃńŚśŹźŻż",
    "combining": ["e\u0301", "a\u0308", "o\u0302\u0323", "n\u0303", "\u0915\u094d\u0937",
                  "\u1100\u1161\u11a8", "i\u0307", "A\u030a", "\u0061\u0328\u0301"],
    "numbers": ["١٢٣٤", "०१२३", "௧௨௩", "²³¹", "⅓⅔", "Ⅻ", "12345678901", "3.14159",
                "1,000,000", "0x7FFF", "1e-9", "٣.٥", "۱۲۳"],
    "cjk_kana": "的一是不了人我在有他这中大来上国个到说们为日本語テキストですひらがなカタカナ한국어",
    "lookalikes": ["<｜User｜>", "<｜Assistant｜>", "<start_of_turn>", "<end_of_turn>", "[CLS]",
                   "[SEP]", "[MASK]", "<ent>", "<BOS_TOKEN>", "<|START_OF_TURN_TOKEN|>",
                   "<mask>", "<unused0>", "<|endoftext|>", "<|im_start|>", "<s>", "</s>",
                   "<unk>", "<pad>", "▁▁", "▁", "<0x41>", "##ing", "Ġ", "Ċ", " [MASK] ",
                   "<ent> x", "x<ent>", "<|fim_prefix|>", "<think>", "</think>"],
    "symbols": ["--", "__", "_x_", "a-b-c", "''quoted''", "...", "!!", "?!", "@#$%", "&&", "||",
                "->", "=>", "::", "~/", "\\n", "`code`", "«»", "„“", "—", "…"],
    "space": [" ", "  ", "   ", "\t", "\n", "\n\n", "\r\n", " \n ", "\u00a0", "\u3000",
              "\u2003", "\u200b", "\t \t"],
}


def hard_piece(rng):
    kind = rng.choice(list(HARD) + ["script", "script", "emoji"])
    if kind == "script":
        return piece(rng)
    if kind == "emoji":
        return rng.choice(SCRIPTS["emoji"])
    alphabet = HARD[kind]
    if isinstance(alphabet, list):
        return rng.choice(alphabet)
    return word(rng, alphabet, 1, 6)


def hard_string(rng):
    parts = []
    for _ in range(rng.randint(1, 16)):
        parts.append(hard_piece(rng))
        r = rng.random()
        if r < 0.45:
            parts.append(" ")
        elif r < 0.6:
            parts.append(rng.choice(HARD["space"]))
    return "".join(parts)


def heldout_entries():
    rng = random.Random(19_2026_0419)
    entries = []
    while len(entries) < 1450:
        r = rng.random()
        if r < 0.7:
            s = hard_string(rng)
        elif r < 0.8:
            s = single_script(rng)
        elif r < 0.9:
            s = generated(rng)
        else:  # long runs: words past WordPiece's 100-character limit, digit and space runs
            s = rng.choice(["a", "ab", "x1", "é", "中", "7", " ", "-", "😀"]) * rng.randint(50, 400)
        entries.append(s.encode("utf-8"))
    while len(entries) < 1600:
        entries.append(invalid_utf8(rng))
    return entries


def main():
    root = Path(__file__).resolve().parents[2] / "tests/fixtures/tokenizer"
    if "--heldout" in sys.argv:
        entries = heldout_entries()
        out = root / "heldout.txt"
        out.write_text("".join(e.hex() + "\n" for e in entries))
        print(f"wrote {len(entries)} entries to {out}")
        return
    out = Path(sys.argv[1] if len(sys.argv) > 1 else root / "corpus.txt")
    rng = random.Random(20261123)
    entries = [s.encode("utf-8") for s in HANDWRITTEN]
    while len(entries) < 1900:
        r = rng.random()
        entries.append((single_script(rng) if r < 0.25 else generated(rng)).encode("utf-8"))
    while len(entries) < 2000:
        entries.append(invalid_utf8(rng))
    out.write_text("".join(e.hex() + "\n" for e in entries))
    print(f"wrote {len(entries)} entries to {out}")


if __name__ == "__main__":
    main()
