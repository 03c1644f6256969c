"""Training-side variation for the FAQ bot's corpus (tools/train/make_corpus.py; python stdlib).

Written for the third model (docs/demo-model.md), without looking at any held-out phrasing:

- `augment(question, rng, strength)`: generic noise on a training question, so the model sees
  many more surface forms than the templates give: synonym swaps (everyday English, not FAQ
  phrasings), dropped words, local reorderings (a swapped pair, a trailing "for the X" moved in
  front), filler words, short context sentences, extra typos (slips and neighbouring keys),
  all-lower-case or no punctuation. `strength` scales every probability (0: no change).
- `ticket_issue(rng)`: a customer's problem for create_ticket, from many subjects, symptoms and
  circumstances, or a span copied from other text (so the summary is learnt as a copy of the
  customer's words, not as one of a few problems learnt by heart).
- ORDER_TRAIN_MORE / TICKET_TRAIN_MORE: more ways to ask for an order status or a human, with
  the order number or the problem in different places.

None of these may produce an eval question: make_corpus.py skips any training user turn that
equals an eval or dev question, and tests/tools/faq_heldout_test.py checks it.
"""

import re

# Everyday synonyms, swapped both ways ("a" <-> "b" for every pair in a group).
SYNONYM_GROUPS = [
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
SYNONYMS = {}
for _group in SYNONYM_GROUPS:
    for _w in _group:
        SYNONYMS.setdefault(_w, [])
        SYNONYMS[_w] += [x for x in _group if x != _w and x not in SYNONYMS[_w]]
# Longest phrases first, matched on word boundaries.
_SYN_RE = re.compile(r"\b(" + "|".join(sorted(map(re.escape, SYNONYMS), key=len, reverse=True))
                     + r")\b", re.IGNORECASE)

DROPPABLE = {"the", "a", "an", "my", "do", "does", "i", "is", "to", "please", "can", "how",
             "of", "it", "for", "on", "in", "me", "you", "there", "any", "some", "really"}
FILLERS = ["just", "really", "actually", "basically", "like", "um", "so", "still", "even",
           "kinda", "honestly", "literally", "ok", "uh"]
LEAD_SENTENCES = [
    "I bought it last month.", "It's brand new.", "This is for my parents' house.",
    "It worked fine yesterday.", "Not sure what I did.", "I'm not very techy.",
    "Asking for a friend.", "Long story short:", "Ok so", "Quick one:", "Question:",
    "I read the manual but", "Me again.", "New customer here.", "So,", "Um,", "Well,",
    "Sorry if this is obvious,", "Second time asking:", "My partner wants to know:",
]
TAIL_SENTENCES = [
    "It's driving me crazy.", "I'm new to this.", "No rush.", "I already tried twice.",
    "Thanks in advance.", "Asap please.", "lol", "??", "...", "Help!", "Is that possible?",
    "The manual wasn't clear.", "I looked everywhere.", "Cheers mate.", "Much appreciated.",
]
KEYBOARD_ROWS = ["qwertyuiop", "asdfghjkl", "zxcvbnm"]
NEIGHBOURS = {}
for _r, _row in enumerate(KEYBOARD_ROWS):
    for _i, _c in enumerate(_row):
        NEIGHBOURS[_c] = (_row[max(0, _i - 1):_i] + _row[_i + 1:_i + 2])
MOVABLE = re.compile(r"^(.{12,}?) ((?:for|on|with|in|of) (?:the|my|a|our) .{3,})$")


def _swap_synonyms(q, rng, p):
    def sub(m):
        if rng.random() >= p:
            return m.group(0)
        return rng.choice(SYNONYMS[m.group(0).lower()])

    return _SYN_RE.sub(sub, q)


def _typo(word, rng):
    if len(word) < 4 or not word.isalpha():
        return word
    j = rng.randrange(1, len(word) - 1)
    kind = rng.randrange(5)
    if kind == 0:
        return word[:j] + word[j + 1] + word[j] + word[j + 2:]
    if kind == 1:
        return word[:j] + word[j + 1:]
    if kind == 2:
        return word[:j] + word[j] + word[j:]
    c = word[j].lower()
    if kind == 3 and NEIGHBOURS.get(c):
        return word[:j] + rng.choice(NEIGHBOURS[c]) + word[j + 1:]
    return word[:j] + word[j + 1:] if len(word) > 5 else word


def augment(q, rng, strength=1.0):
    """One noisy variant of a training question (before make_corpus.style's prefix/suffix)."""
    if strength <= 0:
        return q
    s = strength
    q = _swap_synonyms(q, rng, 0.35 * s)
    words = q.split()
    if len(words) > 3 and rng.random() < 0.3 * s:  # drop function words
        words = [w for w in words if w.lower() not in DROPPABLE or rng.random() > 0.5] or words
    if len(words) > 4 and rng.random() < 0.08 * s:  # drop any one word
        del words[rng.randrange(len(words))]
    if len(words) > 3 and rng.random() < 0.1 * s:  # swap a neighbouring pair
        i = rng.randrange(len(words) - 1)
        words[i], words[i + 1] = words[i + 1], words[i]
    if rng.random() < 0.2 * s:  # filler word
        words.insert(rng.randrange(len(words) + 1), rng.choice(FILLERS))
    if rng.random() < 0.15 * s:  # extra typos
        for _ in range(rng.choice([1, 1, 2])):
            i = rng.randrange(len(words))
            words[i] = _typo(words[i], rng)
    q = " ".join(words)
    m = MOVABLE.match(q)
    if m and rng.random() < 0.12 * s:  # "reset the button for the hub" -> "for the hub, reset.."
        q = m.group(2).rstrip("?.!") + ", " + m.group(1)
    r = rng.random()
    if r < 0.1 * s:
        q = rng.choice(LEAD_SENTENCES) + " " + q
    elif r < 0.2 * s:
        q = q.rstrip("?.!") + "? " + rng.choice(TAIL_SENTENCES)
    r = rng.random()
    if r < 0.12 * s:
        q = re.sub(r"[?.!,]", "", q.lower())
    elif r < 0.14 * s:
        q = q.upper()
    return re.sub(r" +", " ", q).strip() or q


# ------------------------------------------------------------------ ticket problems (summaries)
TICKET_SUBJECTS = [
    "my {p}", "the {p}", "our {p}", "the new {p}", "my second {p}", "the {p} in the kitchen",
    "the {p} upstairs", "the lumora app", "the app", "my account", "my subscription",
    "the website", "my bill", "my last payment", "the charger", "the power adapter",
    "the mounting bracket", "the replacement unit", "my delivery", "the package",
    "the box", "the screen", "the cable", "the manual", "my lumora plus plan", "the checkout",
    "my discount code", "the login page", "my email address", "the installer",
]
TICKET_SYMPTOMS = [
    "stopped working", "won't turn on", "keeps disconnecting", "arrived damaged",
    "is missing a part", "makes a clicking sound", "overheats", "doesn't charge anymore",
    "shows error code E{n}", "keeps rebooting", "is stuck on the logo", "fell apart",
    "never arrived", "came with the wrong cable", "drains in {n} hours", "beeps randomly",
    "smells strange", "has a dead pixel", "won't pair with my phone", "lost all its settings",
    "keeps asking for a password", "shows the wrong time", "is way too loud", "rattles",
    "was returned but not refunded", "has a scratch on the front", "freezes every few minutes",
    "charged me {n} dollars too much", "sends me hundreds of emails", "is not in my order",
    "shows a red cross", "cannot be removed", "is in the wrong language", "got wet",
    "cracked in the cold", "does not accept my card", "says my code expired",
    "turns off at random", "has no sound", "shows a black screen", "is blurry",
    "disappeared from the app", "was sent to my old address", "has been late for {n} days",
    "keeps unlocking", "wakes me up at night", "is stuck in a loop", "was delivered open",
]
TICKET_WHEN = [
    "", "", "", "", " since yesterday", " after {n} weeks", " every morning",
    " since the last update", " after a power cut", " after i moved", " twice a day",
    " for no reason", " since {n} days", " when it rains", " right after setup",
]
COPY_SOURCES = []  # filled by make_corpus.py: other texts to copy spans from


def ticket_issue(rng, products):
    """A problem description, as a customer would type it (lower case, no final punctuation)."""
    if COPY_SOURCES and rng.random() < 0.25:
        words = re.findall(r"[a-z0-9']+", rng.choice(COPY_SOURCES).lower())
        n = min(len(words), rng.randint(3, 10))
        i = rng.randrange(len(words) - n + 1)
        return " ".join(words[i:i + n])
    p = rng.choice(products)
    ctx = {"p": rng.choice(p["mentions"]).lower(), "n": rng.randint(2, 40)}
    text = rng.choice(TICKET_SUBJECTS) + " " + rng.choice(TICKET_SYMPTOMS) + rng.choice(TICKET_WHEN)
    if rng.random() < 0.15:
        text += " and " + rng.choice(TICKET_SYMPTOMS)
    return re.sub(r"\{(\w+)\}", lambda m: str(ctx[m.group(1)]), text)


# The problem first, then the request; or the request first (faq_content/faq_paraphrases).
TICKET_TRAIN_MORE = [
    "{issue}. {i want|i need|please get me|get me} {a human|an agent|a real person|a ticket}",
    "{issue}, can {someone from support|a person|an agent} {help|call me|contact me}",
    "{issue} and i want to {open a ticket|speak to someone|talk to a human}",
    "{issue}. {open|create|file} a ticket {please|for me|now}",
    "{hello|hi}, {issue}. i'd like to talk to {support staff|a human being|an agent}",
    "{ticket|support ticket|case} {please|needed}: {issue}",
    "{transfer|forward} me to {a human|an agent|support}, {issue}",
    "{human|agent|operator} please. {issue}",
    "{raise|file|open} a {complaint|ticket} because {issue}",
    "{i'm|i am} {fed up|really annoyed|frustrated}, {issue}. {i want a human|get me an agent}",
]

ORDER_TRAIN_MORE = [
    "{where's|where is} {my|the} {order|parcel|shipment|delivery} {oid}",
    "{oid} {status|update|tracking}",
    "{any update|an update|news} on {my order|my shipment|my delivery|order} {oid}{| please}",
    "{i ordered|i bought} something, {the|my} order number is {oid}. {when will it come|when does "
    "it arrive|did it ship}",
    "{tracking|track} for {oid}",
    "{did|has} {my order|order} {oid} {ship|shipped|go out} yet",
    "{oid} - {where is it|still not here|any news}",
    "{check|look up|find} {the status of|} {oid} {for me|please|}",
    "{has|was} {oid} {been delivered|sent out|dispatched}",
    "order {no.|number|#} {oid}, {still not here|haven't received it|when will it be here}",
    "{can you tell me|tell me|let me know} {when|if} {oid} {ships|will arrive|was sent}",
    "{delivery|shipping} {date|eta|estimate} for {oid}",
    "my {package|parcel|box} {oid} {hasn't come|didn't arrive|is late}",
    "{i need|i'd like} the status of {order|} {oid}",
    "{the|my} order {oid} {is late|is overdue|never came}, {what's going on|where is it}",
    "{what about|what's up with} {oid}",
    "{hi|hello}, {oid} {please|} {check it|status}",
    "{is|has} my {order|purchase|delivery} {oid} {shipped|arrived|out}",
]
