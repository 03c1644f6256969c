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
    """SQLite FTS5 over the FAQ (title, question, answer, tags; tags are indexed, never shown),
    ranked by bm25 with title and question weighted 2, answer and tags 1, ties by FAQ order.

    Query terms: query_terms(question), where a term of MIN_CORRECTED_LEN or more characters
    (not all digits) that matches no entry is replaced by the FAQ word one slip away
    (term_edits) that occurs most often in the FAQ's title, question, answer and tags (ties: the
    smaller string); repeats are then dropped again."""

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

    def search(self, question, k=TOP_K):
        terms = self.search_terms(question)
        if not terms:
            return []
        match = " OR ".join('"' + t + '"' for t in terms)
        rows = self.db.execute(
            "SELECT id FROM faq WHERE faq MATCH ? "
            "ORDER BY bm25(faq, 0.0, 2.0, 2.0, 1.0, 1.0), rowid LIMIT ?",
            (match, k),
        ).fetchall()
        return [self.by_id[r[0]] for r in rows]


def context_block(entries):
    """The content of the context turn: entries in rank order, blank line between them."""
    if not entries:
        return NO_RESULTS
    return "\n\n".join(
        "[" + e["id"] + "] " + e["title"] + "\nQ: " + e["question"] + "\nA: " + e["answer"]
        for e in entries
    )
