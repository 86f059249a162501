"""Is a question for Ladder at all? Zero-shot similarity to generic kinds of request, the backstop behind the
request classifier (which decides first when it is confident)."""

from __future__ import annotations

import numpy as np

from bot.search.embedders import Embedder
from bot.search.query import Query
from bot.search.ranking import Ranking

SUGGESTED = (
    "What do I need for Senior Agent?",
    "What's the difference between L2 and L3?",
    "How do I get from Agent to Team Lead?",
    "What is FCR?",
)

# Zero-shot scope check: a question is compared with generic examples of what Ladder is for and of
# the other things people ask a workplace assistant. They describe kinds of request, not test items,
# and never the place: "call centre" is as likely in an off-topic question as in a career one.
IN_SCOPE_EXAMPLES = (
    "what do I need to get promoted",
    "requirements for the next level",
    "what skills does this level need",
    "what experience is required for this role",
    "what are the responsibilities of this job",
    "what is the difference between two levels",
    "what is expected of me in this role",
    "I just started this job, what am I supposed to be doing",
    "how do I move up in my career",
    "can I move up yet",
    "what comes after my current level",
    "which level is responsible for this work",
    "who is in charge of this part of the work",
    "is there a role for people who like this kind of work",
    "what level would I be at",
    "how many people does this role manage",
    "what KPI target does this level have",
    "is my performance good enough for my level",
    "what does this work metric mean",
    "what does this abbreviation stand for",
    "what does a person in this job do all day",
    "is this role part of the career ladder",
    "career path and promotion",
    "what a frontend developer needs to know at this level",
)
OUT_OF_SCOPE_EXAMPLES = (
    "reset my password",
    "my computer is not working",
    "the VPN or wifi is down",
    "my headset or phone is broken",
    "the software system has an outage",
    "what is the weather today",
    "when is payday",
    "book a holiday or time off",
    "book a meeting room",
    "what is for lunch",
    "office parking and building access",
    "opening hours of the office",
    "who is working on the shift tonight",
    "swap a shift with a colleague",
    "tell me a joke",
    "recommend a film, music or podcast",
    "sports scores and the news",
    "write a program or fix my code",
    "fix an error in git or css",
    "look up a customer's order or ticket",
    "what was my score yesterday",
    "translate this into another language",
    "submit an expense claim",
    "when is the next meeting",
    "where is a room in the building",
    "pull up my own records from the system",
    "is a colleague working on a particular day",
    "who is assigned to me",
    "someone's email address or phone number",
    "the figures for one client account",
)
# Questions about pay and HR policy look like career questions ("a senior agent's salary") but the
# career map says nothing about them: they get their own honest refusal.
POLICY_EXAMPLES = (
    "what is my salary",
    "how much does this job pay",
    "when do I get my bonus",
    "my payslip is wrong",
    "how many days of annual leave do I get",
    "sick leave and parental leave",
    "pension, health insurance and other benefits",
    "company policy on remote work or dress code",
)
POLICY_MESSAGE = ("The career map doesn't cover pay, bonuses, leave or other HR policy, so I can't answer that: "
                  "HR or your manager can.")
# A question that names no level is answered when its best match is this good, counting how much
# more it resembles the first list than the second.
MIN_SCOPE_SCORE = 0.30
# A question that names a level is judged with the names taken out ("when is the ___ meeting today?"):
# refused when it is this much more like another kind of request than like a career question.
NAMED_SCOPE_MARGIN = 0.10
# A request about a particular day or period ("my kpi for march", "is my TL in on saturday?") is a look-up
# in another system: it counts this much against the question being a career one.
DATED_PENALTY = 0.25


class ScopeGuard:
    """The examples above, embedded once."""

    def __init__(self, embedder: Embedder):
        self._in = embedder.encode(IN_SCOPE_EXAMPLES)
        self._out = embedder.encode(OUT_OF_SCOPE_EXAMPLES + POLICY_EXAMPLES)
        self._out_kind = np.array(["other"] * len(OUT_OF_SCOPE_EXAMPLES) + ["policy"] * len(POLICY_EXAMPLES))

    def general(self, ranking: Ranking) -> float:
        """How well the whole question fits the career map: its best chunk plus how much more it resembles a
        career question than another request."""
        qvec = ranking.qvec
        return float(ranking.dense.max()) + float((self._in @ qvec).max() - (self._out @ qvec).max())

    def named(self, query: Query, ranking: Ranking) -> tuple[float | None, str]:
        """How much more the question is a career question than another kind of request, and the nearest other kind.

        A question naming a level is judged with the names taken out: "senior agent" makes anything
        sound like the ladder. That costs a second, short embedding, only for such questions. None:
        nothing but names is left ("L3", "level 7 skills" keeps "skills"), so nothing to judge.
        """
        vec = ranking.qvec
        if query.mentions or query.partial:
            if ranking.masked_vec is None:
                return None, "career"
            vec = ranking.masked_vec
        inside, outside = self._in @ vec, self._out @ vec
        return float(inside.max() - outside.max()), str(self._out_kind[int(outside.argmax())])



# -- someone or something outside the career map --------------------------------------------------------

import re  # noqa: E402

from rapidfuzz import fuzz, process  # noqa: E402

from bot.core.knowledge import Knowledge  # noqa: E402
from bot.core.levelnames import texts_of  # noqa: E402

# a capitalised name that owns something ("Microsoft's levels", "Olga's grade") or that a request is placed at
# ("the ladder at Accenture"), not at the start of the question
_OWNER = re.compile(r"(?<!^)(?<![.?!]\s)\b([A-Z][A-Za-z0-9&]+)(?:'s|’s|s')(?=\s|$|[?.,!])")
_PLACED = re.compile(r"\b(?:at|in|for|from|like|with|vs|versus|than) ([A-Z][A-Za-z0-9&]+)\b")
# ... or any capitalised word inside a sentence ("what does a Google L5 engineer need?", "how does Teleperformance
# structure its levels?"): a name, unless the career map uses the word
_NAMED = re.compile(r"(?<=[a-z,] )([A-Z][a-z]+[A-Za-z0-9&]*)\b")
_VOCAB: dict[int, tuple[Knowledge, frozenset[str]]] = {}


def _vocabulary(kb: Knowledge) -> frozenset[str]:
    """Every word the career map uses (levels, titles, aliases, reference notes), lower-cased."""
    cached = _VOCAB.get(id(kb))
    if cached is not None and cached[0] is kb:
        return cached[1]
    text = " ".join([*texts_of([kb.levels(), kb.references]), *(t.title for t in kb.tracks.values())])
    words = frozenset(re.findall(r"[a-z0-9&]+", text.lower()))
    _VOCAB.clear()
    _VOCAB[id(kb)] = (kb, words)
    return words


def names_an_outsider(kb: Knowledge, text: str, owner_or_place: bool = False, levels: frozenset[str] = frozenset()) -> bool:
    """Does the question name someone or something the career map never mentions ("what are Microsoft's
    engineering levels?", "how's the ladder at Accenture?", "what does a Google L5 engineer need?")? A hint that
    the request is about another company or a person, for when the classifier is unsure. ``owner_or_place``:
    only a name written as one (capitalised, then lower case: "Salesforce's", "at Microsoft"; not "L8" or
    "POs"), the form that says most surely that the request is about someone else's. ``levels``: words the question
    was read to name a level with ("for Senoir Agent"), never an outsider."""
    vocab = _vocabulary(kb)
    patterns = (_OWNER, _PLACED) if owner_or_place else (_OWNER, _PLACED, _NAMED)
    names = [m.group(1) for pattern in patterns for m in pattern.finditer(text)]
    if owner_or_place:
        names = [n for n in names if n[1:2].islower()]
    return any(n not in vocab and n not in {"i", "we", "you"} and n not in levels and not _typo_of(n, vocab)
               for n in map(str.lower, names))


def _typo_of(word: str, vocab: frozenset[str]) -> bool:
    """A misspelt word of the career map ("Custmer Oficer"), not a name: as long, give or take two letters, and close."""
    near = [w for w in vocab if abs(len(w) - len(word)) <= 2]
    return process.extractOne(word, near, scorer=fuzz.ratio, score_cutoff=85) is not None
