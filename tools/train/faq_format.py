"""The FAQ bot's prompt format, retriever and reply formats (python stdlib only).

This file is the reference the demo (demos/faq-bot) must reproduce byte for byte; the format
is described in docs/demo-model.md. make_corpus.py builds training data with it and train.py
builds evaluation prompts with it.
"""

import json
import re
import sqlite3

COMPANY = "Lumora Home"

SYSTEM_PROMPT = (
    "You are Lumi, the customer support assistant of Lumora Home, a maker of smart home "
    "devices. Answer only from the FAQ context. Reply with one JSON object: "
    '{"answer": "...", "source_ids": ["faq-..."], "escalate": false}. If the context does not '
    "answer the question, reply with escalate true and empty source_ids. Tools: "
    "lookup_order(order_id) for an order number like LM-123456, and create_ticket(summary) when "
    "the customer asks for a human or a ticket. To call a tool, reply with "
    '<tool_call>{"name": "...", "arguments": {...}}</tool_call>.'
)

# Special tokens. <|endoftext|> is BOS (added in front of every prompt) and the padding token;
# <|im_end|> ends every turn and is the EOS the generator stops on.
BOS = "<|endoftext|>"
IM_START = "<|im_start|>"
IM_END = "<|im_end|>"
TOOL_CALL_OPEN = "<tool_call>"
TOOL_CALL_CLOSE = "</tool_call>"
SPECIAL_TOKENS = [BOS, IM_START, IM_END, TOOL_CALL_OPEN, TOOL_CALL_CLOSE]

# Roles: system, user, context (retrieved FAQ entries for the user turn just before it),
# assistant, tool (a tool's JSON result).
CHAT_TEMPLATE = (
    "{%- for message in messages -%}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' -}}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\\n' -}}{%- endif -%}"
)

NO_RESULTS = "(no results)"
TOP_K = 5
# Query terms at least this long that match nothing in the index are spelling-corrected.
MIN_CORRECTED_LEN = 5

ESCALATE_ANSWER = (
    "I could not find this in the Lumora FAQ, so I am passing your question to a support agent."
)

# Words dropped from the retrieval query (lower case). Everything else that matches
# [a-z0-9]+ in the lower-cased question is a query term.
STOPWORDS = frozenset(
    """a about an and are as at be by can could do does for from has have how i m s t re ve ll d if in is it
    its me my of on or our please should so that the there this to was what when where which
    who why will with would you your hi hello hey thanks thank""".split()
)


# Query-side synonyms: a copy of faq_augment.SYNONYM_GROUPS (everyday English, written for the
# training noise without looking at any held-out phrasing), frozen here because the retriever is
# the demo's contract and must not change when the training noise does. A phrase of the question
# adds the words of its synonyms as extra search terms at SYNONYM_WEIGHT of their bm25.
QUERY_SYNONYM_GROUPS = [
    ["how do i", "how can i", "how to", "what's the way to", "how would i"],
    ["fix", "repair", "sort out", "solve"],
    ["broken", "not working", "busted", "dead"],
    ["set up", "install", "configure"],
    ["turn on", "switch on", "enable", "activate"],
    ["turn off", "switch off", "disable", "deactivate"],
    ["phone", "smartphone", "mobile"],
    ["wifi", "wi-fi", "wireless", "internet"],
    ["delete", "remove", "erase", "get rid of"],
    ["want to", "would like to", "need to", "wish to"],
    ["can't", "cannot", "can not", "am unable to"],
    ["won't", "will not", "doesn't", "refuses to"],
    ["doesn't", "does not"],
    ["isn't", "is not"],
    ["get", "receive", "obtain"],
    ["buy", "purchase"],
    ["see", "view", "watch", "check"],
    ["video", "footage", "recording"],
    ["videos", "footage", "recordings", "clips"],
    ["password", "passcode", "pass word"],
    ["family", "household", "relatives"],
    ["update", "upgrade"],
    ["firmware", "software"],
    ["blinking", "flashing", "flickering"],
    ["color", "colour"],
    ["alerts", "notifications", "warnings"],
    ["alert", "notification", "warning"],
    ["house", "home", "place", "apartment"],
    ["outside", "outdoors"],
    ["long", "much time"],
    ["big", "large"],
    ["new", "brand new"],
    ["start", "begin"],
    ["stop", "quit", "cease"],
    ["help", "assist"],
    ["work", "function", "operate"],
    ["works", "functions", "operates"],
    ["use", "utilize"],
    ["change", "modify", "switch"],
    ["replace", "swap", "change"],
    ["charge", "recharge", "power up"],
    ["return", "send back"],
    ["quickly", "fast", "quick"],
    ["router", "modem"],
    ["cost", "price"],
    ["problem", "issue", "trouble"],
    ["device", "gadget", "unit"],
    ["show", "display"],
    ["keep", "hold"],
    ["move", "relocate"],
    ["connect", "link", "hook up"],
    ["guarantee", "warranty"],
    ["is", "seems"],
]
SYNONYM_WEIGHT = 0.25
BM25_WEIGHTS = "0.0, 2.0, 2.0, 1.0, 1.0"  # id, title, question, answer, tags


def words(text):
    """Every [a-z0-9]+ of the lower-cased text, in order (stop words and repeats kept)."""
    return re.findall(r"[a-z0-9]+", text.lower())


def _synonym_table():
    """phrase (tuple of words) -> its synonyms (tuples of words), in group order, no repeats."""
    table = {}
    for group in QUERY_SYNONYM_GROUPS:
        for phrase in group:
            syns = table.setdefault(tuple(words(phrase)), [])
            for other in group:
                o = tuple(words(other))
                if other != phrase and o not in syns:
                    syns.append(o)
    return table


SYNONYMS = _synonym_table()
MAX_PHRASE_WORDS = max(len(p) for p in SYNONYMS)


def synonym_terms(question, terms):
    """The extra search terms of a question: scanning its words left to right, the longest
    synonym phrase that starts at each place (then the scan continues after it) adds the words of
    each of its synonyms, minus stop words, `terms` and repeats."""
    ws = words(question)
    out = []
    i = 0
    while i < len(ws):
        n = next((n for n in range(min(MAX_PHRASE_WORDS, len(ws) - i), 0, -1)
                  if tuple(ws[i:i + n]) in SYNONYMS), 0)
        if n == 0:
            i += 1
            continue
        for syn in SYNONYMS[tuple(ws[i:i + n])]:
            for w in syn:
                if w not in STOPWORDS and w not in terms and w not in out:
                    out.append(w)
        i += n
    return out


def render(messages, add_generation_prompt=False):
    """Renders CHAT_TEMPLATE (without BOS: the tokenizer adds it)."""
    out = []
    for m in messages:
        out.append(IM_START + m["role"] + "\n" + m["content"] + IM_END + "\n")
    if add_generation_prompt:
        out.append(IM_START + "assistant\n")
    return "".join(out)


def reply_json(answer, source_ids, escalate):
    """The assistant's final reply: keys in this order, json.dumps default separators."""
    return json.dumps(
        {"answer": answer, "source_ids": list(source_ids), "escalate": bool(escalate)},
        ensure_ascii=False,
    )


def tool_call(name, arguments):
    return (
        TOOL_CALL_OPEN
        + json.dumps({"name": name, "arguments": arguments}, ensure_ascii=False)
        + TOOL_CALL_CLOSE
    )


def query_terms(question):
    seen = []
    for w in re.findall(r"[a-z0-9]+", question.lower()):
        if w in STOPWORDS or w in seen:
            continue
        seen.append(w)
    return seen


def term_edits(term):
    """Spellings one typing slip away from `term` that keep its first character: one character
    left out, one of [a-z0-9] put in, or two neighbours swapped."""
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    out = set()
    for i in range(1, len(term) + 1):
        for c in alphabet:
            out.add(term[:i] + c + term[i:])
        if i < len(term):
            out.add(term[:i] + term[i + 1:])
        if i < len(term) - 1:
            out.add(term[:i] + term[i + 1] + term[i] + term[i + 2:])
    out.discard(term)
    return out


class Retriever:
    """SQLite FTS5 over the FAQ (title, question, answer, tags; tags are indexed, never shown).

    Query terms: query_terms(question), where a term of MIN_CORRECTED_LEN or more characters
    (not all digits) that matches no entry is replaced by the FAQ word one slip away
    (term_edits) that occurs most often in the FAQ's title, question, answer and tags (ties: the
    smaller string); repeats are then dropped again. Synonym terms: synonym_terms(question).

    Ranking (coordination first, then bm25): each term is searched on its own with bm25 weights
    title and question 2, answer and tags 1; an entry's score is the sum of its query terms' bm25
    plus SYNONYM_WEIGHT times the sum of its synonym terms' bm25 (lower is better), added in
    term order. Entries matching more distinct query terms come first, then lower score, then
    FAQ order."""

    def __init__(self, entries):
        self.db = sqlite3.connect(":memory:")
        self.db.execute(
            "CREATE VIRTUAL TABLE faq USING fts5(id UNINDEXED, title, question, answer, tags, "
            "tokenize = 'porter unicode61')"
        )
        self.db.executemany(
            "INSERT INTO faq (id, title, question, answer, tags) VALUES (?, ?, ?, ?, ?)",
            [(e["id"], e["title"], e["question"], e["answer"], e["tags"]) for e in entries],
        )
        self.entries = list(entries)
        self.by_id = {e["id"]: e for e in entries}
        # Word counts over the searched text (stop words left out): the spelling vocabulary.
        self.word_counts = {}
        for e in entries:
            for field in ("title", "question", "answer", "tags"):
                for w in re.findall(r"[a-z0-9]+", e[field].lower()):
                    if w not in STOPWORDS:
                        self.word_counts[w] = self.word_counts.get(w, 0) + 1

    def matches_anything(self, term):
        row = self.db.execute("SELECT rowid FROM faq WHERE faq MATCH ? LIMIT 1",
                              ('"' + term + '"',)).fetchone()
        return row is not None

    def corrected(self, term):
        if len(term) < MIN_CORRECTED_LEN or term.isdigit() or self.matches_anything(term):
            return term
        known = [w for w in term_edits(term) if w in self.word_counts]
        if not known:
            return term
        return min(known, key=lambda w: (-self.word_counts[w], w))

    def search_terms(self, question):
        out = []
        for t in query_terms(question):
            t = self.corrected(t)
            if t not in out:
                out.append(t)
        return out

    def term_scores(self, term):
        """rowid -> bm25 of the entries that match `term` alone."""
        return self.db.execute(
            "SELECT rowid, bm25(faq, " + BM25_WEIGHTS + ") FROM faq WHERE faq MATCH ?",
            ('"' + term + '"',)).fetchall()

    def search_scored(self, question, k=TOP_K):
        """The top k entries with their scores, best first: [(entry, score)]."""
        terms = self.search_terms(question)
        if not terms:
            return []
        score, matched = {}, {}
        for weight, group in ((1.0, terms), (SYNONYM_WEIGHT, synonym_terms(question, terms))):
            for t in group:
                for rowid, bm25 in self.term_scores(t):
                    score[rowid] = score.get(rowid, 0.0) + weight * bm25
                    if group is terms:
                        matched[rowid] = matched.get(rowid, 0) + 1
        order = sorted(score, key=lambda r: (-matched.get(r, 0), score[r], r))
        return [(self.entries[r - 1], score[r]) for r in order[:k]]

    def search(self, question, k=TOP_K):
        return [e for e, _ in self.search_scored(question, k)]


def context_block(entries):
    """The content of the context turn: entries in rank order, blank line between them."""
    if not entries:
        return NO_RESULTS
    return "\n\n".join(
        "[" + e["id"] + "] " + e["title"] + "\nQ: " + e["question"] + "\nA: " + e["answer"]
        for e in entries
    )
