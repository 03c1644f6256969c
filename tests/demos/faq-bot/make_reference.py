"""Writes reference.jsonl: query terms (tools/train/faq_format.query_terms), the retriever's
spelling-corrected search terms over the committed FAQ (Retriever.search_terms), one-slip edits
(term_edits) and json.dumps strings for tricky inputs, so the C++ port is checked against the
Python reference.
Run: python3 tests/demos/faq-bot/make_reference.py"""
import json
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "..", "tools", "train"))
import faq_format as F  # noqa: E402

questions = [
    "How do I reset my hub?",
    "my garage sensor is far from the base station, will it reach?",
    "What is it?",
    "",
    "   ",
    "HELLO?? Can I pair the HUB with 2 phones... or 3 phones?",
    "Wi-Fi 2.4GHz vs 5GHz — does the Lumora Cam support both?",
    "İstanbul KELVIN \u212aelvin caf\u00e9 na\u00efve \u00c9T\u00c9 stra\u00dfe",
    "order LM-123456 (urgent!) \"quoted\" * NEAR/3 AND OR NOT",
    "it's what's where's you'll i'd we've",
    "\ufb01re alarm \u2160 \uff21\uff22\uff23 x\u0130y",
    "tabs\tand\nnewlines\r\nand_underscores_123abc",
]
# Typos of FAQ words, real words one slip from an FAQ word, digits, short words.
search_questions = [
    "how do i reset my termostat",
    "my pluug is ofline, pasword reset?",
    "smarrt lock sensitiivty and waranty",
    "is the otdoor cameera wetherproof",
    "bother boring tuning 123456 1234567 abcde",
    "xqzvw lumoa spaeker phhone",
    "Good morning, cheers",
]
edit_words = ["hub", "plug", "ab", "a1b2"]
strings = [
    "plain",
    'quote " backslash \\ slash /',
    "control \x01 \x1f tab\t nl\n cr\r bs\b ff\f del\x7f",
    "caf\u00e9 \u2014 \u20ac \U0001F600",
]
with open(os.path.join(here, "reference.jsonl"), "w", encoding="utf-8") as f:
    for q in questions:
        terms = F.query_terms(q)
        f.write(json.dumps({"question": q, "terms": terms,
                            "match": " OR ".join('"' + t + '"' for t in terms)},
                           ensure_ascii=False) + "\n")
    faq = json.load(open(os.path.join(here, "..", "..", "..", "demos", "faq-bot", "data",
                                      "faq.json")))["entries"]
    retriever = F.Retriever(faq)
    for q in search_questions:
        f.write(json.dumps({"search_question": q, "search_terms": retriever.search_terms(q),
                            "retrieved": [e["id"] for e in retriever.search(q)]},
                           ensure_ascii=False) + "\n")
    for w in edit_words:
        f.write(json.dumps({"edit_word": w, "edits": sorted(F.term_edits(w))}) + "\n")
    for s in strings:
        f.write(json.dumps({"string": s, "ascii": json.dumps(s),
                            "utf8": json.dumps(s, ensure_ascii=False)},
                           ensure_ascii=False) + "\n")
