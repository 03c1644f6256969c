#!/usr/bin/env python3
"""Builds the FAQ bot's data: the FAQ, a held-out evaluation set, and training conversations.

python stdlib only, seeded, deterministic.

  python3 tools/train/make_corpus.py --data demos/faq-bot/data --train-out /tmp/corpus.jsonl.gz

Writes:
  <data>/faq.json            the FAQ (id, title, question, answer, category, product)
  <data>/eval.json           held-out questions (paraphrases never used in training, out-of-scope
                             questions, tool requests) with expected replies
  <data>/eval_prompts.jsonl  for each eval item, the exact prompt text (see docs/demo-model.md)
  <train-out>                gzip JSONL: {"text": rendered conversation (no BOS), "spans":
                             [[start, end], ...] character spans of assistant output to train on}
"""

import argparse
import gzip
import json
import os
import random
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import faq_augment as A  # noqa: E402
import faq_content as C  # noqa: E402
import faq_format as F  # noqa: E402
import faq_paraphrases as P  # noqa: E402

TRAIN_PREFIXES = ["", "", "", "", "", "", "", "Hi, ", "Hello! ", "Hey, ", "Quick question: ",
                  "Please help: ", "Hey team, ", "Excuse me, ", "I have a question: ",
                  "Urgent: ", "Can you help? ", "Hello, "]
TRAIN_SUFFIXES = ["", "", "", "", "", "", "", " Thanks!", " Thank you.", " Any idea?",
                  " Thanks a lot.", " Please help.", " Many thanks!", " Thx"]
EVAL_PREFIXES = ["", "", "", "Good morning, ", "Sorry to bother you, ", "Hi there! "]
EVAL_SUFFIXES = ["", "", "", " Cheers.", " Appreciate it!"]
CARRIERS = ["UPS", "FedEx", "USPS", "DHL"]
# Training FAQ turns whose context is shuffled (so the model reads the entries instead of taking
# the first), and whose gold entry is left out of the context (so it learns to escalate when the
# retriever missed, which the retriever now rarely does on training phrasings).
P_SHUFFLE_CONTEXT = 0.4
P_DROP_GOLD = 0.1
# Third model: training FAQ questions get faq_augment's noise (this strength; the retriever then
# searches the noisy text, so contexts are as imperfect as on unseen phrasings), and some turns
# get a context of hard negatives: the gold entry at a random place among entries of the same
# intent for other products and other entries of the same product (with P_DROP_GOLD, one of
# those replaces the gold entry and the target is the escalation).
AUGMENT_STRENGTH = 1.0
P_HARD_NEGATIVES = 0.3
# Fourth model: with TAG_FOLDS > 0, a training FAQ question is searched in an index whose tags
# leave out the words of the templates of its own fold (each entry's training templates split
# into TAG_FOLDS folds, seeded). The shipped index holds every training template's words, so
# without this the retriever finds a training question's entry first almost always, while an
# unseen phrasing (whose words are in no tag) gets the contexts of eval.json: gold lower, or
# missing. Folds make the training contexts miss the way they do on unseen phrasings.
TAG_FOLDS = 0
# Questions written by hand for the independent test (never trained on; see docs/demo-model.md).
INDEPENDENT_EVAL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "demos",
                                "faq-bot", "data", "eval_independent.json")


def independent_questions(path=INDEPENDENT_EVAL):
    """The independent test's questions (empty if the file is absent)."""
    if not os.path.exists(path):
        return []
    return [it["question"] for it in json.load(open(path, encoding="utf-8"))["items"]]


def fill(template, ctx):
    return re.sub(r"\{(\w+)\}", lambda m: str(ctx[m.group(1)]), template)


def expand(template, rng, ctx):
    def sub(m):
        inner = m.group(1)
        if "|" in inner:
            return rng.choice(inner.split("|"))
        if inner == "p":
            return rng.choice(ctx["mentions"])
        return str(ctx[inner])

    return re.sub(r"\{([^{}]+)\}", sub, template)


def typo(text, rng):
    words = text.split(" ")
    idx = [i for i, w in enumerate(words) if len(w) >= 4 and w.isalpha()]
    if not idx:
        return text
    i = rng.choice(idx)
    w = words[i]
    j = rng.randrange(1, len(w) - 1)
    kind = rng.randrange(3)
    if kind == 0:
        w = w[:j] + w[j + 1] + w[j] + w[j + 2:]
    elif kind == 1:
        w = w[:j] + w[j + 1:]
    else:
        w = w[:j] + w[j] + w[j:]
    words[i] = w
    return " ".join(words)


def style(q, rng, prefixes, suffixes, typo_p):
    q = q.strip()
    if rng.random() < typo_p:
        q = typo(q, rng)
    if rng.random() < 0.5:
        q = q[0].upper() + q[1:]
    suffix = rng.choice(suffixes)
    if not q.endswith(("?", ".", "!")) and (suffix or rng.random() < 0.6):
        q += "?"
    prefix = rng.choice(prefixes)
    if prefix.endswith((", ", ": ")) and not q.startswith("I "):
        q = q[0].lower() + q[1:]
    return prefix + q + suffix


def template_words(templates):
    """Every word a set of (template, product) pairs can produce: the entry's search tags."""
    words = []
    for template, p in templates:
        def sub(m):
            inner = m.group(1)
            if "|" in inner:
                return " ".join(inner.split("|"))
            if inner == "p":
                return " ".join(p["mentions"])
            return str(p[inner])

        for w in re.findall(r"[a-z0-9]+", re.sub(r"\{([^{}]+)\}", sub, template).lower()):
            if w not in F.STOPWORDS and w not in words:
                words.append(w)
    return " ".join(words)


def split_fresh(more, name):
    """Splits one faq_paraphrases list (seeded by its name): one in five templates (at least
    one) is held out for the fresh evaluation phrasings, the rest train."""
    rng = random.Random("fresh:" + name)
    held = set(rng.sample(range(len(more)), max(1, len(more) // 5)))
    return ([t for i, t in enumerate(more) if i not in held],
            [t for i, t in enumerate(more) if i in held])


def build_faq():
    """Returns (entries for faq.json, per-entry question templates).

    Per entry: "train" (faq_content's training templates), "eval" (faq_content's held-out
    templates), "more" (faq_paraphrases' templates kept for training) and "fresh" (the
    faq_paraphrases templates held out). Training uses train + more; the search tags are the
    words of train + more."""
    entries, templates = [], []

    def add(category, title, question, answer, product, train, eval_, more, fresh, group):
        entry = dict(id="faq-%03d" % (len(entries) + 1), title=title, question=question,
                     answer=answer, category=category, product=product,
                     tags=template_words(train + more))
        for field in ("title", "question", "answer"):
            assert '"' not in entry[field] and "\\" not in entry[field], entry
        entries.append(entry)
        templates.append(dict(train=train, eval=eval_, more=more, fresh=fresh, group=group))

    for p in C.PRODUCTS:
        ctx = dict(p, P=p["name"])
        for intent in C.DEVICE_INTENTS:
            if "when" in intent and not intent["when"](p):
                continue
            more, fresh = split_fresh(P.DEVICE[intent["key"]], intent["key"])
            add(intent["category"], fill(intent["title"], ctx), fill(intent["q"], ctx),
                fill(intent["a"](p), ctx), p["name"],
                [(t, p) for t in intent["train"]], [(t, p) for t in intent["eval"]],
                [(t, p) for t in more], [(t, p) for t in fresh], intent["key"])
        for key, cat, title, q, a, train, eval_ in C.EXTRA:
            if key != p["key"]:
                continue
            more, fresh = split_fresh(P.ENTRY[title], title)
            add(cat, title, q, a, p["name"], [(t, p) for t in train], [(t, p) for t in eval_],
                [(t, p) for t in more], [(t, p) for t in fresh], title)
    for cat, title, q, a, train, eval_ in C.GENERAL:
        more, fresh = split_fresh(P.ENTRY[title], title)
        add(cat, title, q, a, None, [(t, None) for t in train], [(t, None) for t in eval_],
            [(t, None) for t in more], [(t, None) for t in fresh], title)
    return entries, templates


def question_for(tpl, rng):
    template, p = tpl
    return expand(template, rng, p or {})


def tag_fold_indexes(entries, templates, n_folds):
    """(fold_of, retrievers): fold_of[i][k] is the fold of entry i's k-th training template
    (train + more, in order; seeded per entry), retrievers[f] the index whose tags leave out
    fold f's templates. Both empty for n_folds 0."""
    fold_of, retrievers = [], []
    if n_folds <= 0:
        return fold_of, retrievers
    for i, t in enumerate(templates):
        order = list(range(len(t["train"]) + len(t["more"])))
        random.Random("fold:%d" % i).shuffle(order)
        folds = [0] * len(order)
        for rank, k in enumerate(order):
            folds[k] = rank % n_folds
        fold_of.append(folds)
    for f in range(n_folds):
        fold_entries = []
        for i, (e, t) in enumerate(zip(entries, templates)):
            kept = [tpl for k, tpl in enumerate(t["train"] + t["more"]) if fold_of[i][k] != f]
            fold_entries.append(dict(e, tags=template_words(kept)))
        retrievers.append(F.Retriever(fold_entries))
    return fold_of, retrievers


class Builder:
    def __init__(self, entries, templates, seed, augment=AUGMENT_STRENGTH,
                 hard_negatives=P_HARD_NEGATIVES, tag_folds=TAG_FOLDS,
                 shuffle_context=P_SHUFFLE_CONTEXT, drop_gold=P_DROP_GOLD):
        self.entries = entries
        self.templates = templates
        self.retriever = F.Retriever(entries)
        self.cache = {}
        self.rng = random.Random(seed)
        self.eval_questions = set()
        self.augment = augment
        self.hard_negatives = hard_negatives
        self.shuffle_context = shuffle_context
        self.drop_gold = drop_gold
        self.fold_of, self.fold_retrievers = tag_fold_indexes(entries, templates, tag_folds)
        self.fold_cache = {}
        self.eval_issues = {i.lower() for i in C.TICKET_ISSUES_EVAL}
        by_group, by_product = {}, {}
        for i, (e, t) in enumerate(zip(entries, templates)):
            by_group.setdefault(t["group"], []).append(i)
            by_product.setdefault(e["product"], []).append(i)
        self.same_group = [[j for j in by_group[t["group"]] if j != i]
                           for i, t in enumerate(templates)]
        self.same_product = [[j for j in by_product[e["product"]] if j != i]
                             for i, e in enumerate(entries)]
        A.COPY_SOURCES[:] = ([e["answer"] for e in entries] + C.OUT_OF_SCOPE_TRAIN +
                             P.OUT_OF_SCOPE_TRAIN_MORE)

    def skip_questions(self, questions):
        """Training never uses these questions (compared in lower case)."""
        self.eval_questions |= {q.lower() for q in questions}

    def search(self, q):
        if q not in self.cache:
            self.cache[q] = self.retriever.search(q)
        return self.cache[q]

    def training_retriever(self, fold):
        """The index a training FAQ question of this template fold is searched in."""
        return self.retriever if fold is None else self.fold_retrievers[fold]

    def search_training(self, q, fold):
        if fold is None:
            return self.search(q)
        key = (fold, q)
        if key not in self.fold_cache:
            self.fold_cache[key] = self.fold_retrievers[fold].search(q)
        return self.fold_cache[key]

    # --- replies -------------------------------------------------------------------------
    def faq_reply(self, gold, retrieved):
        if any(e["id"] == gold["id"] for e in retrieved):
            return F.reply_json(gold["answer"], [gold["id"]], False)
        return F.reply_json(F.ESCALATE_ANSWER, [], True)

    def order_turn(self, question, oid, rng):
        status = rng.choice(["processing", "shipped", "shipped", "delivered", "cancelled",
                             "not_found"])
        day = "2026-%02d-%02d" % (rng.randint(1, 12), rng.randint(1, 28))
        if status == "not_found":
            result = {"error": "order not found", "order_id": oid}
            answer = ("I could not find order %s. Please check the number; order numbers look "
                      "like LM-123456." % oid)
        elif status == "processing":
            result = {"order_id": oid, "status": "processing"}
            answer = "Your order %s is being prepared and will ship within 1 business day." % oid
        elif status == "shipped":
            carrier = rng.choice(CARRIERS)
            result = {"order_id": oid, "status": "shipped", "carrier": carrier, "eta": day}
            answer = "Your order %s has shipped with %s and should arrive on %s." % (
                oid, carrier, day)
        elif status == "delivered":
            result = {"order_id": oid, "status": "delivered", "delivered_on": day}
            answer = "Your order %s was delivered on %s." % (oid, day)
        else:
            result = {"order_id": oid, "status": "cancelled"}
            answer = ("Your order %s was cancelled. Any payment is refunded within 5 business "
                      "days." % oid)
        return [
            ("user", question),
            ("context", F.context_block(self.search(question))),
            ("assistant", F.tool_call("lookup_order", {"order_id": oid})),
            ("tool", json.dumps(result)),
            ("assistant", F.reply_json(answer, [], False)),
        ]

    def ticket_turn(self, question, issue, rng):
        tid = "T-%05d" % rng.randint(10000, 99999)
        return [
            ("user", question),
            ("context", F.context_block(self.search(question))),
            ("assistant", F.tool_call("create_ticket", {"summary": issue})),
            ("tool", json.dumps({"ticket_id": tid, "status": "open"})),
            ("assistant", F.reply_json(
                "I created ticket %s for you. A Lumora support agent will email you within 24 "
                "hours." % tid, [], True)),
        ]

    # --- eval ----------------------------------------------------------------------------
    def make_eval(self, n_faq, n_fresh):
        rng = random.Random(1234)
        items = []
        order = list(range(len(self.entries)))
        rng.shuffle(order)
        picks = (order * (n_faq // len(order) + 1))[:n_faq]
        for i, idx in enumerate(picks):
            gold = self.entries[idx]
            # Two thirds use held-out phrasings (templates never used in training); the rest
            # use training phrasings in combinations (prefix, typo, casing, suffix) that the
            # training data is kept from containing.
            which = "eval" if i < n_faq * 2 // 3 else "train"
            for _ in range(20):
                q = style(question_for(rng.choice(self.templates[idx][which]), rng), rng,
                          EVAL_PREFIXES, EVAL_SUFFIXES, 0.15)
                if q.lower() not in self.eval_questions:
                    break
            retrieved = self.search(q)
            hit = any(e["id"] == gold["id"] for e in retrieved)
            items.append(dict(kind="faq", phrasing="held_out" if which == "eval" else "seen",
                              question=q, gold_source_id=gold["id"],
                              retrieved_ids=[e["id"] for e in retrieved],
                              expected=json.loads(self.faq_reply(gold, retrieved)),
                              gold_retrieved=hit))
            self.eval_questions.add(q.lower())
        for oq in C.OUT_OF_SCOPE_EVAL:
            q = style(oq, rng, EVAL_PREFIXES, EVAL_SUFFIXES, 0.0)
            retrieved = self.search(q)
            items.append(dict(kind="out_of_scope", question=q, gold_source_id=None,
                              retrieved_ids=[e["id"] for e in retrieved],
                              expected=json.loads(F.reply_json(F.ESCALATE_ANSWER, [], True))))
            self.eval_questions.add(q.lower())
        for i in range(12):
            oid = "LM-%06d" % rng.randint(100000, 999999)
            q = style(C.ORDER_EVAL[i % len(C.ORDER_EVAL)].replace("{oid}", oid), rng,
                      EVAL_PREFIXES, [""], 0.0)
            items.append(dict(kind="tool", question=q,
                              retrieved_ids=[e["id"] for e in self.search(q)],
                              expected_tool_call={"name": "lookup_order",
                                                  "arguments": {"order_id": oid}}))
            self.eval_questions.add(q.lower())
        for i in range(8):
            issue = C.TICKET_ISSUES_EVAL[i % len(C.TICKET_ISSUES_EVAL)]
            q = style(C.TICKET_EVAL[i % len(C.TICKET_EVAL)].replace("{issue}", issue), rng,
                      [""], [""], 0.0)
            items.append(dict(kind="tool", question=q,
                              retrieved_ids=[e["id"] for e in self.search(q)],
                              expected_tool_call={"name": "create_ticket",
                                                  "arguments": {"summary": issue}}))
            self.eval_questions.add(q.lower())
        # Fresh phrasings (added with the second model, after the items above, so those kept
        # their ids and text): questions from the faq_paraphrases templates held out of
        # training, one entry each, in a seeded order.
        rng = random.Random(4321)
        order = list(range(len(self.entries)))
        rng.shuffle(order)
        for idx in order[:n_fresh]:
            gold = self.entries[idx]
            for _ in range(20):
                q = style(question_for(rng.choice(self.templates[idx]["fresh"]), rng), rng,
                          EVAL_PREFIXES, EVAL_SUFFIXES, 0.15)
                if q.lower() not in self.eval_questions:
                    break
            retrieved = self.search(q)
            items.append(dict(kind="faq", phrasing="fresh", question=q,
                              gold_source_id=gold["id"],
                              retrieved_ids=[e["id"] for e in retrieved],
                              expected=json.loads(self.faq_reply(gold, retrieved)),
                              gold_retrieved=any(e["id"] == gold["id"] for e in retrieved)))
            self.eval_questions.add(q.lower())
        for i, it in enumerate(items):
            it["id"] = "eval-%03d" % (i + 1)
        return items

    def make_dev(self):
        """The development split's out-of-scope questions (as typed, no styling)."""
        items = []
        for i, q in enumerate(P.OUT_OF_SCOPE_DEV):
            retrieved = self.search(q)
            items.append(dict(id="dev-%03d" % (i + 1), kind="out_of_scope", question=q,
                              gold_source_id=None, retrieved_ids=[e["id"] for e in retrieved],
                              expected=json.loads(F.reply_json(F.ESCALATE_ANSWER, [], True))))
            self.eval_questions.add(q.lower())
        return items

    # --- training ------------------------------------------------------------------------
    def train_question(self, idx, rng):
        """A training question for entry idx and the tag fold of its template (None without
        folds), or (None, None)."""
        pool = self.templates[idx]["train"] + self.templates[idx]["more"]
        for _ in range(50):
            k = rng.randrange(len(pool))
            q = question_for(pool[k], rng)
            if rng.random() < 0.75:
                q = A.augment(q, rng, self.augment)
            q = style(q, rng, TRAIN_PREFIXES, TRAIN_SUFFIXES, 0.12)
            if q.lower() not in self.eval_questions:
                return q, (self.fold_of[idx][k] if self.fold_of else None)
        return None, None

    def hard_context(self, idx, q, fold, rng):
        """The gold entry among up to 4 entries that look like it (same intent, other product;
        same product, other intent), topped up with the retriever's hits, shuffled."""
        picks = rng.sample(self.same_group[idx], min(2, len(self.same_group[idx])))
        rest = [j for j in self.same_product[idx] if j not in picks]
        picks += rng.sample(rest, min(4 - len(picks), len(rest), rng.randint(1, 3)))
        for e in self.training_retriever(fold).search(q, F.TOP_K + 4):
            j = int(e["id"][4:]) - 1
            if len(picks) >= F.TOP_K - 1:
                break
            if j != idx and j not in picks:
                picks.append(j)
        ctx = [self.entries[j] for j in picks] + [self.entries[idx]]
        rng.shuffle(ctx)
        return ctx

    def train_turn(self, rng):
        r = rng.random()
        if r < 0.72:
            idx = rng.randrange(len(self.entries))
            q, fold = self.train_question(idx, rng)
            if q is None:
                return None
            gold = self.entries[idx]
            if rng.random() < self.hard_negatives:
                retrieved = self.hard_context(idx, q, fold, rng)
                if rng.random() < self.drop_gold:
                    retrieved = [e for e in retrieved if e["id"] != gold["id"]]
                return [("user", q), ("context", F.context_block(retrieved)),
                        ("assistant", self.faq_reply(gold, retrieved))]
            retrieved = list(self.search_training(q, fold))
            if rng.random() < self.drop_gold:
                wider = self.training_retriever(fold).search(q, F.TOP_K + 1)
                retrieved = [e for e in wider if e["id"] != gold["id"]][:F.TOP_K]
            if rng.random() < self.shuffle_context:
                rng.shuffle(retrieved)
            return [("user", q), ("context", F.context_block(retrieved)),
                    ("assistant", self.faq_reply(gold, retrieved))]
        if r < 0.85:
            q = style(rng.choice(C.OUT_OF_SCOPE_TRAIN + P.OUT_OF_SCOPE_TRAIN_MORE), rng,
                      TRAIN_PREFIXES, TRAIN_SUFFIXES, 0.1)
            if q.lower() in self.eval_questions:
                return None
            return [("user", q), ("context", F.context_block(self.search(q))),
                    ("assistant", F.reply_json(F.ESCALATE_ANSWER, [], True))]
        if r < 0.93:
            oid = "LM-%06d" % rng.randint(100000, 999999)
            template = rng.choice(C.ORDER_TRAIN + A.ORDER_TRAIN_MORE * 2)
            q = re.sub(r" +", " ", expand(template, rng, {"oid": "\0"})).strip()
            if rng.random() < 0.3:
                q = A.augment(q, rng, 0.5 * self.augment)
            if "\0" not in q:
                return None
            q = style(q, rng, TRAIN_PREFIXES, TRAIN_SUFFIXES, 0.05).replace("\0", oid)
            if q.lower() in self.eval_questions:
                return None
            return self.order_turn(q, oid, rng)
        # The summary is the customer's problem as typed, copied from the message.
        if rng.random() < 0.2:
            issue = rng.choice(C.TICKET_ISSUES_TRAIN + P.TICKET_ISSUES_TRAIN_MORE)
        else:
            issue = A.ticket_issue(rng, C.PRODUCTS)
        if issue.lower() in self.eval_issues:
            return None
        template = rng.choice(C.TICKET_TRAIN + P.TICKET_TRAIN_MORE + A.TICKET_TRAIN_MORE)
        q = expand(template, rng, {"issue": "\0"})
        q = re.sub(r" +", " ", style(q, rng, [""], TRAIN_SUFFIXES, 0.0)).strip()
        if q.startswith("\0") and rng.random() < 0.5:
            issue = issue[0].upper() + issue[1:]
        q = q.replace("\0", issue)
        if q.lower() in self.eval_questions:
            return None
        return self.ticket_turn(q, issue, rng)

    def conversation(self, rng):
        n_turns = rng.choices([1, 2, 3], weights=[0.6, 0.3, 0.1])[0]
        msgs = [("system", F.SYSTEM_PROMPT)]
        for _ in range(n_turns):
            turn = None
            while turn is None:
                turn = self.train_turn(rng)
            msgs.extend(turn)
        return msgs


def render_with_spans(msgs):
    text, spans = [], []
    pos = 0
    for role, content in msgs:
        head = F.IM_START + role + "\n"
        body = content + F.IM_END
        if role == "assistant":
            start = pos + len(head)
            spans.append([start, start + len(body)])
        piece = head + body + "\n"
        text.append(piece)
        pos += len(piece)
    return "".join(text), spans


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="demos/faq-bot/data")
    ap.add_argument("--train-out", default=None)
    ap.add_argument("--conversations", type=int, default=30000)
    ap.add_argument("--eval-faq", type=int, default=150)
    ap.add_argument("--eval-fresh", type=int, default=100)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--augment", type=float, default=AUGMENT_STRENGTH,
                    help="strength of faq_augment's noise on training questions (0: none)")
    ap.add_argument("--hard-negatives", type=float, default=P_HARD_NEGATIVES,
                    help="share of training FAQ turns with a hard-negative context")
    ap.add_argument("--tag-folds", type=int, default=TAG_FOLDS,
                    help="search training FAQ questions in indexes whose tags leave out their "
                    "own template fold (0: the shipped index)")
    ap.add_argument("--shuffle-context", type=float, default=P_SHUFFLE_CONTEXT,
                    help="share of retrieved training contexts shuffled")
    ap.add_argument("--drop-gold", type=float, default=P_DROP_GOLD,
                    help="share of training FAQ contexts with the gold entry taken out")
    args = ap.parse_args()

    entries, templates = build_faq()
    b = Builder(entries, templates, args.seed, args.augment, args.hard_negatives,
                args.tag_folds, args.shuffle_context, args.drop_gold)
    eval_items = b.make_eval(args.eval_faq, args.eval_fresh)
    dev_items = b.make_dev()
    # Added after the eval and dev sets are made, so those stay what they were.
    b.skip_questions(independent_questions())

    os.makedirs(args.data, exist_ok=True)
    with open(os.path.join(args.data, "faq.json"), "w") as f:
        json.dump({"company": C_COMPANY(), "generator": "tools/train/make_corpus.py",
                   "entries": entries}, f, indent=1, ensure_ascii=False)
        f.write("\n")
    with open(os.path.join(args.data, "eval.json"), "w") as f:
        json.dump({"generator": "tools/train/make_corpus.py",
                   "note": "questions never used in training; expected replies assume the "
                   "retriever of docs/demo-model.md (retrieved_ids)", "items": eval_items},
                  f, indent=1, ensure_ascii=False)
        f.write("\n")
    with open(os.path.join(args.data, "dev.json"), "w") as f:
        json.dump({"generator": "tools/train/make_corpus.py",
                   "note": "development split for tuning the demo (out-of-scope questions never "
                   "used in training; with eval.json's held_out FAQ questions)",
                   "items": dev_items}, f, indent=1, ensure_ascii=False)
        f.write("\n")
    with open(os.path.join(args.data, "eval_prompts.jsonl"), "w") as f:
        for it in eval_items:
            msgs = [{"role": "system", "content": F.SYSTEM_PROMPT},
                    {"role": "user", "content": it["question"]},
                    {"role": "context", "content": F.context_block(b.search(it["question"]))}]
            f.write(json.dumps({"id": it["id"], "prompt": F.render(msgs, True)},
                               ensure_ascii=False) + "\n")

    print(f"faq entries {len(entries)}; eval items {len(eval_items)}")
    for phrasing in ("held_out", "fresh", "seen"):
        faq_items = [it for it in eval_items if it.get("phrasing") == phrasing]
        hits = sum(it["gold_retrieved"] for it in faq_items)
        top1 = sum(it["retrieved_ids"][:1] == [it["gold_source_id"]] for it in faq_items)
        top3 = sum(it["gold_source_id"] in it["retrieved_ids"][:3] for it in faq_items)
        print(f"  eval faq questions, {phrasing} phrasing: {len(faq_items)}, retrieval "
              f"recall@1 {top1}, recall@3 {top3}, recall@{F.TOP_K} {hits}")

    if args.train_out:
        rng = random.Random(args.seed)
        n_chars = 0
        hit = total = 0
        with gzip.open(args.train_out, "wt", compresslevel=6) as f:
            for _ in range(args.conversations):
                msgs = b.conversation(rng)
                text, spans = render_with_spans(msgs)
                n_chars += len(text)
                f.write(json.dumps({"text": text, "spans": spans}, ensure_ascii=False) + "\n")
                for role, content in msgs:
                    if role == "assistant" and content.startswith("{"):
                        total += 1
                        hit += '"escalate": false' in content
        print(f"train conversations {args.conversations}, {n_chars} chars, "
              f"{hit}/{total} replies answer from the FAQ")


def C_COMPANY():
    return F.COMPANY


if __name__ == "__main__":
    main()
