#!/usr/bin/env python3
"""The FAQ eval set's held-out phrasings never reach training (tools/train/make_corpus.py):

1. no held-out template (faq_content's "eval" lists, faq_paraphrases' "fresh" split) is also a
   training template, and no text a held-out template can expand to (every alternative, every
   product mention) is text a training template can expand to;
2. the search tags (what the retriever indexes besides title, question and answer) are made
   from training templates only: no tag word comes only from held-out templates;
3. the training conversations that make_corpus.py writes (the first N of the documented corpus:
   same seed, same generator) contain no eval or dev question as a user turn (make_corpus.py skips
   them; this checks that it does), and no create_ticket summary in them is an eval ticket's
   problem (faq_content.TICKET_ISSUES_EVAL).

Usage: faq_heldout_test.py <source dir> [conversations to generate, default 4000]
"""

import itertools
import json
import os
import random
import re
import sys

root = sys.argv[1] if len(sys.argv) > 1 else "."
n_conversations = int(sys.argv[2]) if len(sys.argv) > 2 else 4000
sys.path.insert(0, os.path.join(root, "tools", "train"))
import faq_content as C  # noqa: E402
import faq_format as F  # noqa: E402
import make_corpus as M  # noqa: E402

failures = []


def expansions(template, p):
    """Every text `template` can expand to for product attributes `p` (lower case)."""
    parts, choices = [], []
    for piece in re.split(r"(\{[^{}]+\})", template):
        if piece.startswith("{") and piece.endswith("}"):
            inner = piece[1:-1]
            if "|" in inner:
                choices.append(inner.split("|"))
            elif inner == "p":
                choices.append(list(p["mentions"]))
            else:
                choices.append([str(p[inner])])
            parts.append(None)
        else:
            parts.append(piece)
    out = set()
    for combo in itertools.product(*choices):
        it = iter(combo)
        out.add("".join(next(it) if x is None else x for x in parts).strip().lower())
    return out


entries, templates = M.build_faq()
train_templates, heldout_templates = set(), set()
train_texts = set()
for t in templates:
    for template, p in t["train"] + t["more"]:
        train_templates.add(template)
        train_texts |= expansions(template, p or {})
for t in templates:
    for template, p in t["eval"] + t["fresh"]:
        heldout_templates.add(template)
        overlap = expansions(template, p or {}) & train_texts
        if overlap:
            failures.append(f"held-out template {template!r} expands to training text "
                            f"{sorted(overlap)[:3]}")
both = train_templates & heldout_templates
if both:
    failures.append(f"templates both held out and trained: {sorted(both)[:5]}")
print(f"templates: {len(train_templates)} training, {len(heldout_templates)} held out; "
      f"{len(train_texts)} training expansions")

# 2. Tag words come from training templates only.
for e, t in zip(entries, templates):
    if e["tags"] != M.template_words(t["train"] + t["more"]):
        failures.append(f"{e['id']}: tags are not the words of its training templates")

# 3. The generated training conversations.
b = M.Builder(entries, templates, seed=7)
eval_items = b.make_eval(150, 100) + b.make_dev()
eval_questions = {it["question"].lower() for it in eval_items}
data = os.path.join(root, "demos", "faq-bot", "data")
committed = (json.load(open(os.path.join(data, "eval.json")))["items"] +
             json.load(open(os.path.join(data, "dev.json")))["items"])
if {it["question"].lower() for it in committed} != eval_questions:
    failures.append("the committed eval.json + dev.json are not what make_corpus.py builds")
rng = random.Random(7)  # make_corpus.main's corpus rng (--seed 7)
user_turns = faq_turns = tickets = 0
eval_issues = {i.lower() for i in C.TICKET_ISSUES_EVAL}
for _ in range(n_conversations):
    msgs = b.conversation(rng)
    for i, (role, content) in enumerate(msgs):
        if role == "assistant" and '"create_ticket"' in content:
            tickets += 1
            summary = json.loads(content[len(F.TOOL_CALL_OPEN):-len(F.TOOL_CALL_CLOSE)])
            if summary["arguments"]["summary"].lower() in eval_issues:
                failures.append(f"training ticket summary is an eval problem: {content!r}")
        if role != "user":
            continue
        user_turns += 1
        if content.lower() in eval_questions:
            failures.append(f"training user turn is an eval question: {content!r}")
        if i + 2 < len(msgs) and msgs[i + 2][1].startswith('{"answer": "') and \
                F.ESCALATE_ANSWER not in msgs[i + 2][1]:
            faq_turns += 1
print(f"{n_conversations} training conversations: {user_turns} user turns "
      f"({faq_turns} answered from the FAQ, {tickets} tickets), none an eval question"
      if not any("eval question" in f for f in failures) else "")

for f in failures[:20]:
    print("FAIL:", f)
print(f"{len(failures)} failures")
sys.exit(1 if failures else 0)
