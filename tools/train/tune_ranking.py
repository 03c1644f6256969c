#!/usr/bin/env python3
"""Chooses the FAQ bot's reply-ranking settings (demos/faq-bot/reply_ranker.h) on the
development split, from the candidate scores that `faq-bot --eval ... --eval-out` records
(python stdlib only).

  build/demos/faq-bot/faq-bot --eval demos/faq-bot/data/eval.json --eval-out /tmp/eval.jsonl
  build/demos/faq-bot/faq-bot --eval demos/faq-bot/data/dev.json --eval-out /tmp/dev.jsonl
  python3 tools/train/tune_ranking.py /tmp/eval.jsonl /tmp/dev.jsonl

Development split: eval.json's "held_out" FAQ questions and dev.json's out-of-scope questions.
Objective: held-out questions answered with the gold entry + half the percentage of dev
out-of-scope questions escalated. The test split (eval.json's "fresh" FAQ questions and its
out-of-scope questions) is printed for the chosen settings only and plays no part in the
choice. The policy is the one reply_ranker.cpp implements:

  choice   = argmax_i logprob_i - rank_prior * i - bm25_weight * (bm25_i - bm25_0)
  escalate = (escalate_logprob - logprob[choice] > escalate_margin) and bm25[0] > weak_match_bm25
"""

import collections
import json
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
data = os.path.join(here, "..", "..", "demos", "faq-bot", "data")


def load(path):
    rows = []
    for line in open(path):
        r = json.loads(line)
        ranked = [g["ranked"] for g in r["generations"] if "ranked" in g]
        if ranked:  # turns the model began with a tool call are not ranked
            rows.append((r["id"], ranked[0]))
    return rows


def choose(r, rank_prior, bm25_weight, margin, weak):
    lps, bm25 = r["logprobs"], r["bm25"]
    if not lps:
        return None
    w = bm25_weight if len(bm25) == len(lps) else 0.0

    def score(i):
        return lps[i] - rank_prior * i - (w * (bm25[i] - bm25[0]) if w else 0.0)

    best = max(range(len(lps)), key=lambda i: (score(i), -i))
    escalate = (r["escalate_logprob"] - lps[best] > margin and
                (not r["bm25"] or r["bm25"][0] > weak))
    return None if escalate else r["ids"][best]


def main():
    items = {it["id"]: it for name in ("eval.json", "dev.json")
             for it in json.load(open(os.path.join(data, name)))["items"]}
    rows = [row for path in sys.argv[1:] for row in load(path)
            if items[row[0]]["kind"] != "tool"]

    def split(item_id):
        it = items[item_id]
        if item_id.startswith("dev-"):
            return "dev_out_of_scope"
        return it["phrasing"] if it["kind"] == "faq" else "test_out_of_scope"

    def figures(params):
        res = collections.defaultdict(lambda: [0, 0])
        for item_id, r in rows:
            it = items[item_id]
            pick = choose(r, *params)
            ok = pick == it["gold_source_id"] if it["kind"] == "faq" else pick is None
            res[split(item_id)][0] += ok
            res[split(item_id)][1] += 1
        return res

    def objective(res):
        dev_oos = res["dev_out_of_scope"]
        return res["held_out"][0] + 50.0 * dev_oos[0] / max(1, dev_oos[1])

    grid = [(p, b, m, w) for p in (0, 0.5, 1, 2, 3, 5, 1000)
            for b in (0, 0.25, 0.5, 1, 1.5, 2, 3, 4, 6)
            for m in (-2, 0, 1, 2, 3, 4, 6, 8, 1e9)
            for w in (-1e9, -12, -10, -9, -8, -7, -6, -5, -4, 0.1)]
    scored = sorted(((objective(figures(g)), i, g) for i, g in enumerate(grid)),
                    key=lambda x: (-x[0], x[1]))
    print("best settings on the development split "
          "(rank_prior, bm25_weight, escalate_margin, weak_match_bm25):")
    for obj, _, g in scored[:5]:
        res = figures(g)
        print(f"  {g}: objective {obj:.1f}; " + ", ".join(
            f"{k} {res[k][0]}/{res[k][1]}" for k in ("held_out", "dev_out_of_scope")))
    best = scored[0][2]
    res = figures(best)
    print(f"chosen {best}; test split: " + ", ".join(
        f"{k} {res[k][0]}/{res[k][1]}" for k in ("fresh", "test_out_of_scope", "seen")))


if __name__ == "__main__":
    main()
