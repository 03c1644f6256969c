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
   problem (faq_content.TICKET_ISSUES_EVAL);
4. with tag folds (make_corpus.py --tag-folds), each fold's index has tags made of training
   templates only (those outside the fold), every training template is in exactly one fold, the
   training conversations again contain no eval question, and a training question is searched
   in the index without its own template's fold (so its entry is found first less often);
5. the independent test's hand-written questions (demos/faq-bot/data/eval_independent.json) are
   no text a training template expands to, no training out-of-scope question, no eval
   question, and (with 3 and 4) never a training user turn.

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
import faq_paraphrases as P  # noqa: E402
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

# 5. The independent test (checked here so that 3 and 4 skip its questions as make_corpus does).
independent = [q.lower() for q in M.independent_questions()]
if len(independent) < 100:
    failures.append(f"the independent test has {len(independent)} questions (expected >= 100)")
train_oos = {q.lower() for q in C.OUT_OF_SCOPE_TRAIN + P.OUT_OF_SCOPE_TRAIN_MORE}
for q in independent:
    bare = re.sub(r"[?.!]+$", "", q.strip())
    if {q, bare} & (train_texts | train_oos):
        failures.append(f"independent question is a training question: {q!r}")
    if q in eval_questions:
        failures.append(f"independent question is also an eval question: {q!r}")
b.skip_questions(independent)
data = os.path.join(root, "demos", "faq-bot", "data")
committed = (json.load(open(os.path.join(data, "eval.json")))["items"] +
             json.load(open(os.path.join(data, "dev.json")))["items"])
if {it["question"].lower() for it in committed} != eval_questions:
    failures.append("the committed eval.json + dev.json are not what make_corpus.py builds")


def check_conversations(builder, n, label):
    rng = random.Random(7)  # make_corpus.main's corpus rng (--seed 7)
    user_turns = faq_turns = tickets = 0
    eval_issues = {i.lower() for i in C.TICKET_ISSUES_EVAL}
    for _ in range(n):
        msgs = builder.conversation(rng)
        for i, (role, content) in enumerate(msgs):
            if role == "assistant" and '"create_ticket"' in content:
                tickets += 1
                summary = json.loads(content[len(F.TOOL_CALL_OPEN):-len(F.TOOL_CALL_CLOSE)])
                if summary["arguments"]["summary"].lower() in eval_issues:
                    failures.append(f"{label}: training ticket summary is an eval problem: "
                                    f"{content!r}")
            if role != "user":
                continue
            user_turns += 1
            if content.lower() in eval_questions:
                failures.append(f"{label}: training user turn is an eval question: {content!r}")
            if i + 2 < len(msgs) and msgs[i + 2][1].startswith('{"answer": "') and \
                    F.ESCALATE_ANSWER not in msgs[i + 2][1]:
                faq_turns += 1
    print(f"{label}: {n} training conversations: {user_turns} user turns "
          f"({faq_turns} answered from the FAQ, {tickets} tickets)")


eval_questions |= set(independent)
check_conversations(b, n_conversations, "shipped index")

# 4. Tag folds.
folds = 5
bf = M.Builder(entries, templates, seed=7, tag_folds=folds)
bf.make_eval(150, 100)
bf.make_dev()  # the same eval questions are skipped
bf.skip_questions(independent)
for i, (e, t) in enumerate(zip(entries, templates)):
    pool = t["train"] + t["more"]
    if len(bf.fold_of[i]) != len(pool) or not all(0 <= f < folds for f in bf.fold_of[i]):
        failures.append(f"{e['id']}: a training template is not in exactly one fold")
        continue
    full = set(e["tags"].split())
    for f in range(folds):
        tags = bf.fold_retrievers[f].by_id[e["id"]]["tags"]
        kept = [tpl for k, tpl in enumerate(pool) if bf.fold_of[i][k] != f]
        if tags != M.template_words(kept) or not set(tags.split()) <= full:
            failures.append(f"{e['id']}: fold {f}'s tags are not its other folds' template words")
check_conversations(bf, max(500, n_conversations // 4), f"{folds} tag folds")
top1 = {False: 0, True: 0}
qrng = random.Random(3)
n_questions = 600
for _ in range(n_questions):
    idx = qrng.randrange(len(entries))
    q, fold = bf.train_question(idx, qrng)
    if q is None:
        continue
    for use_folds in (False, True):
        hits = bf.search_training(q, fold if use_folds else None)
        top1[use_folds] += bool(hits) and hits[0]["id"] == entries[idx]["id"]
print(f"training questions whose entry is retrieved first: {top1[False]}/{n_questions} in the "
      f"shipped index, {top1[True]}/{n_questions} without their own fold's tags")
if not top1[True] < top1[False]:
    failures.append("searching without the question's own fold does not make retrieval harder")

for f in failures[:20]:
    print("FAIL:", f)
print(f"{len(failures)} failures")
sys.exit(1 if failures else 0)
