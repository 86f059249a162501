"""Query understanding: which levels a question names, which track it is about, what it asks for.

Pure functions over the knowledge base; retrieval uses them beside the embeddings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum

from rapidfuzz import fuzz, process

from bot.core.knowledge import Knowledge, Level
from bot.core.levelnames import clipped_names, normalize
from bot.search.retrieval import lexical_tokens

MAX_QUESTION_CHARS = 2000


class Intent(str, Enum):
    REQUIREMENTS = "requirements"   # what do I need for X / what is X
    COMPARE = "compare"             # difference between X and Y
    PATH = "path"                   # how do I get from X to Y
    FACT = "fact"                   # who / how many / which level ...
    GLOSSARY = "glossary"           # what is FCR
    NEXT = "next"                   # I'm an agent, what's the next step? / what comes after X?
    OVERVIEW = "overview"           # how many levels are there? / what's the highest level?


@dataclass(frozen=True)
class Mention:
    level: Level
    start: int          # word offsets in the normalised question
    end: int
    strong: bool        # a specific name (title, alias, number); weak = a bare common word like "agent"
    name: str = ""      # the name it matched, normalised


@dataclass
class Query:
    text: str                                   # as asked (trimmed, maybe truncated)
    norm: str                                   # normalised words
    mentions: list[Mention] = field(default_factory=list)
    track_hint: str | None = None               # a track the words point at ("frontend", "javascript")
    intent: Intent = Intent.REQUIREMENTS
    truncated: bool = False
    identify: bool = False                      # "who …", "which role …": named levels are context, not the answer
    partial: list[Level] = field(default_factory=list)   # levels a bare title word points at ("seniors")
    # numbers stated in the question, each with its unit ("percent", "fte" or None) and whether it is an
    # open lower bound ("100% or more"): "a team of 10-15 people" -> (10, fte, False), (15, fte, False)
    quantities: list[tuple[float, str | None, bool]] = field(default_factory=list)
    manager_of: bool = False                    # "who manages the TLs?", "who do QA specialists report to?"
    entry: bool = False                         # "how do I become a frontend developer?": a track, not a level
    before_entry: bool = False                  # asks what comes before a track's first level (earlier jobs, education)
    dated: bool = False                         # the request is about a particular day or period ("my kpi for march")
    newcomer: bool = False                      # the asker (or the one asked about) has just started ("brand new agent")
    defines: str | None = None                  # the background note whose heading is the term asked about ("what is FCR?")

    @property
    def named_words(self) -> set[int]:
        """Offsets of the words of ``norm`` that are level names (full, typo'd or a bare title word)."""
        words = _words(self.norm)
        named = {i for m in self.mentions for i in range(m.start, m.end)}
        for level in self.partial:
            title = normalize(level.title).split()
            for i, w in enumerate(words):
                if (w[:-1] if w.endswith("s") else w) in title:
                    named.add(i)
        return named

    @property
    def masked(self) -> str:
        """The question with every level name taken out: what kind of request it is, whoever it is about."""
        named = self.named_words
        return " ".join(w for i, w in enumerate(_words(self.norm)) if i not in named)

    def masked_spans(self) -> list[tuple[int, int]] | None:
        """Where the level names are in ``expanded``, as character spans (the canonical titles appended
        for aliases included): what :attr:`masked` leaves out, for pooling one embedding two ways.
        None when the words of ``text`` cannot be lined up with ``norm``'s."""
        spans = word_spans(self.text)
        if spans is None or len(spans) != len(_words(self.norm)):
            return None
        out = [spans[i] for i in sorted(self.named_words)]
        expanded = self.expanded
        if len(expanded) > len(self.text):
            out.append((len(self.text), len(expanded)))
        return out

    @property
    def expanded(self) -> str:
        """The question with the canonical titles of the aliases it used ("TLs" -> "Team Lead")."""
        extra: list[str] = []
        if self.identify:  # the named level is context: spelling it out would pull toward it
            return self.text
        for m in self.mentions:
            if m.name and m.name != normalize(m.level.title) and m.level.title not in extra:
                extra.append(m.level.title)
        return f"{self.text} ({'; '.join(extra)})" if extra else self.text

    @property
    def levels(self) -> list[Level]:
        seen: list[Level] = []
        for m in self.mentions:
            if m.level not in seen:
                seen.append(m.level)
        return seen

    @property
    def strong_levels(self) -> list[Level]:
        return [lv for lv in self.levels if any(m.strong for m in self.mentions if m.level == lv)]

    @property
    def ambiguous_names(self) -> list[tuple[str, list[Level]]]:
        """Names that stand for more than one level ("exp agent": Experienced or Expert Agent), with those levels."""
        spans: dict[tuple[int, int], list[Mention]] = {}
        for m in self.mentions:
            spans.setdefault((m.start, m.end), []).append(m)
        return [(ms[0].name, [m.level for m in ms]) for ms in spans.values()
                if len({m.level.id for m in ms}) > 1 and all(m.strong for m in ms)]


_NUMBER = re.compile(r"\b(?:l|level)\s*(\d{1,3})\b")
_TRACK_WORDS = {
    "frontend": {"frontend", "front end", "fe", "developer", "developers", "dev", "devs", "javascript", "js", "react",
                 "vue", "typescript", "webpack", "html", "css", "coder", "programmer", "engineer", "engineers",
                 "code", "coding", "codebase", "bug", "bugs", "git", "angular", "sass", "ssr", "seo", "ui", "web",
                 "browser", "components", "frameworks", "programming"},
}
# words that put a bare level number on the frontend ladder wherever they stand ("L6 on the frontend track")
_NUMBER_TRACK_WORDS = {"frontend", "front-end", "fe", "developer", "developers", "dev", "devs", "javascript", "react"}


@dataclass(frozen=True)
class LevelNumber:
    """A level number a question names ("L3", "level 7"), at words ``start:end`` of its normalised text."""

    number: int
    start: int
    end: int
    after_track_word: bool   # "frontend L4": one of the two words before it is a frontend word


def level_numbers(norm: str) -> list[LevelNumber]:
    """Every level number in ``norm`` (a normalised question), in order."""
    words = _words(norm)
    found = []
    for match in _NUMBER.finditer(norm):
        start = len(norm[: match.start()].split())
        before = words[max(0, start - 2): start]
        found.append(LevelNumber(int(match.group(1)), start, start + len(match.group(0).split()),
                                 any(w in _TRACK_WORDS["frontend"] for w in before)))
    return found
_COMPARE = re.compile(r"\b(difference|differences|differ|different|compare|comparison|compared|vs|versus)\b")
_PATH = re.compile(r"\bfrom\b.+\bto\b|\b(get|go|move|moving|step|path|route|jump)\b.*\b(to|into)\b")
_FACT = re.compile(r"^(who|which|how many|how much|how long|when|where|does|do|is|are|can)\b|\bwhich level\b")
_IDENTIFY = re.compile(
    r"^(who|whose)\b|\b(which|what)( \w+)? (level|role|job|position|title)\b(?!\s*\d)|\bis there (a|an) (level|role|job|position)\b"
    r"|\b(job|role|level|position) (is )?called\b|\bwhich level is\b"
    # a description by a relative clause: "the level that optimises scheduling ... whilst developing the team leads"
    r"|^(the|a|an) (level|role|job|position|one|person|people|folks|guy|guys|ones) (that|who|which|whose)\b"
    # ... or "where" ("role where you oversee several team leads ..."), with or without the article
    r"|^((the|a|an) )?(level|role|job|position) (where|in which)\b"
)
_NEXT = re.compile(r"\b(next (level|step|one)|move up|moving up|step up|promot\w*|what s next|whats next|level up|after (that|this))\b")
# "what comes after senior agent?", "the level above team lead": the word right before a level's name
_NEXT_BEFORE = {"after", "above", "beyond", "past"}
# "who manages the TLs?", "who do QA specialists report to?": a relation to the named level, asking for another one
_MANAGES = re.compile(r"\b(manag\w*|oversee\w*|supervis(e|es|ing)|in charge of|boss\w*|line manager|runs|running|heads|"
                      r"look\w* after|lead(s|ing)?)\b")   # not "above": "right above L4" is a step on the track (relations)
_REPORTS = re.compile(r"\b(report|reports|reporting|answer|answers)( \w+)? to\b")
# the ladder as a whole: its size, its list, its ends
_OVERVIEW = re.compile(
    r"\bhow many (levels|grades|ranks|steps|rungs|positions|roles)\b|\b(list|show|name|all)( me)?( of)?( the| all| every)? "
    r"(levels|grades|ranks|rungs|career levels|roles)\b|\bwhat (levels|grades|roles) (are there|exist|do we have|there are)\b"
    r"|\b(levels|ladder) overview\b|\boverview of (the )?(levels|ladder|career ladder)\b"
)
# "how do I become / get into / start as ...": asks how to enter what follows
_ENTRY = re.compile(r"\b(become|becoming|get into|getting into|break into|start as|start out as|starting as|join as|"
                    r"get hired as)\b")
# The asker, or the one asked about, has just started: the way in is the track's first level.
_NEWCOMER = re.compile(r"\b(i m|im|i am) (new|brand new|a new hire|just (started|joined|hired))\b|"
                       r"\bjust (got |been )?(hired|started|joined|onboarded)\b|\bnew here\b|\bmy first (day|week|month)\b|"
                       r"\b(newbie|rookie|noob|newcomer|new starter|new joiner|fresher|beginner|new hire)( \w+){0,4} here\b|"
                       r"\b(i m|im|i am) (a |an |the )?(\w+ )?(newbie|rookie|noob|newcomer|new starter|new joiner|fresher|"
                       r"beginner|new hire)\b")
_NEW_BEFORE = {"new", "newly", "newbie", "fresh"}
# What comes before a track's first level: earlier jobs, schooling ("what do people do before becoming an agent?")
_BEFORE_ENTRY = re.compile(r"\b(before|prior to) (becoming|joining|being|starting|(you|they|i|we|people) (became|become|joined|join|started|start|get hired))\b|"
                           r"\b(come|came|coming|get|got|move|moved) into\b.*\bfrom\b|"
                           r"\b(education|certificat\w*|degree|diploma|schooling|school)\b")
_GLOSSARY = re.compile(r"\b(what is|what s|whats|what does|define|definition|meaning of|stand for|stands for|mean)\b")
# "what does the big boss do all day": what a job involves, not what a word means
_DOES_WHAT = re.compile(r"\bwhat (does|do|did)\b.*\b(do|does|doing|involve|involves)\b")
_MEANS = re.compile(r"\b(mean|means|meaning|stand|stands|define|definition)\b")
_REQUIRE = re.compile(r"\b(need|needs|required|require|requirements|requirement|qualif\w*|become|promot\w*|ready|expect\w*|skills)\b")


# A particular day or period. The career map is timeless: a request tied to a date is a look-up in some
# other system (a rota, a report, a calendar), whoever it names. Only the request itself counts, not a
# clause that sets the scene ("I'm covering this week... what does a TL normally do?").
_DATED = re.compile(
    r"\b(today|tonight|tomorrow|yesterday|(mon|tues|wednes|thurs|fri|satur|sun)days?|weekend|"
    r"january|february|march|april|june|july|august|september|october|november|december|"
    r"(this|last|next|past|coming) (week|month|quarter|year|shift|weekend|sprint)|right now|at the moment|as we speak|"
    r"(on|for|in|since|until|by) (jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)( \d+)?)\b"
)
_CLAUSES = re.compile(r"[.?!;]+|\s[-–—]+\s")


def dated_request(text: str) -> bool:
    """Is the request (the last clause that says anything) about a particular day or period?"""
    clauses = [normalize(c) for c in _CLAUSES.split(text)]
    clauses = [c for c in clauses if c.strip()]
    return bool(clauses) and bool(_DATED.search(clauses[-1]))


def _words(norm: str) -> list[str]:
    return norm.split()


_WORD = re.compile(r"[a-z0-9+]+|&")


def word_spans(text: str) -> list[tuple[int, int]] | None:
    """Character spans in ``text`` of the words :func:`normalize` makes of it, in order ("&" is "and").
    None when lower-casing changes the text's length (a few non-ASCII letters), so offsets would drift."""
    low = text.lower()
    if len(low) != len(text):
        return None
    return [m.span() for m in _WORD.finditer(low)]


@dataclass(frozen=True)
class _Names:
    """Per-knowledge lookup tables, computed once (see :func:`_names`)."""

    by_len: dict[int, list[str]]
    common: frozenset[str]                     # one-word names inside many others ("agent")
    title_words: dict[str, list[Level]]        # distinctive title word -> levels ("senior")
    by_initials: dict[str, list[str]]          # "fj" -> ["frontend junior", ...]: candidates for word-wise typos
    glossary: list[tuple[re.Pattern, re.Pattern, str]]   # ways of asking what a defined term is, and its note
    clipped: dict[str, list[Level]]            # "exp agent" -> Experienced and Expert Agent (exact matches only)


_NAMES_CACHE: dict[int, tuple[Knowledge, _Names]] = {}


def _names(kb: Knowledge) -> _Names:
    cached = _NAMES_CACHE.get(id(kb))
    if cached and cached[0] is kb:
        return cached[1]
    table = kb.level_names
    by_len: dict[int, list[str]] = {}
    for name in table:
        by_len.setdefault(len(name.split()), []).append(name)
    common = frozenset(n for n in table if len(n.split()) == 1 and sum(n in other.split() for other in table) > 3)
    title_words: dict[str, list[Level]] = {}
    for level in kb.levels():
        for word in set(normalize(level.title).split()) - GENERIC_TITLE_WORDS:
            title_words.setdefault(word, []).append(level)
    by_initials: dict[str, list[str]] = {}
    for name in table:
        by_initials.setdefault("".join(w[0] for w in name.split()), []).append(name)
    clipped = {k: v for k, v in clipped_names(kb).items() if k not in table}
    names = _Names(by_len, common, title_words, by_initials, _glossary(kb), clipped)
    _NAMES_CACHE.clear()  # one live knowledge base at a time
    _NAMES_CACHE[id(kb)] = (kb, names)
    return names


def find_mentions(kb: Knowledge, norm: str) -> list[Mention]:
    words = _words(norm)
    table = kb.level_names
    lookup = _names(kb)
    names_by_len, common = lookup.by_len, lookup.common
    taken = [False] * len(words)
    found: list[Mention] = []

    for number in level_numbers(norm):
        start, end = number.start, number.end
        track = None
        # "frontend L4", "L6 on the frontend track": a track word anywhere in the question picks the ladder
        if number.after_track_word or any(w in _NUMBER_TRACK_WORDS for w in _affirmed(words)):
            track = "frontend"
        tr = kb.track(track) if track else kb.default_track
        level = tr.level_by_number(number.number)
        if level is not None:
            found.append(Mention(level, start, end, True, normalize(level.title)))
            for i in range(start, min(end, len(words))):
                taken[i] = True

    for size in range(min(6, len(words)), 0, -1):
        for start in range(0, len(words) - size + 1):
            if any(taken[start: start + size]):
                continue
            gram = " ".join(words[start: start + size])
            singular = re.sub(r"s\b", "", gram) if size == 1 or gram.endswith("s") else gram
            hits = table.get(gram) or table.get(singular) or lookup.clipped.get(gram) or lookup.clipped.get(singular)
            # a typo of a name, never a name with a word of the sentence glued on ("a developer" is
            # not "lead developer")
            glued = {words[start], words[start + size - 1]} & _GLUE
            if not hits and len(gram) >= 9 and size <= 4 and not glued:
                close = process.extractOne(gram, names_by_len.get(size, []), scorer=fuzz.ratio, score_cutoff=88)
                if close:
                    hits = table[close[0]]
            if not hits and size > 1 and len(gram) >= 7 and size <= 4 and not glued:
                # typos in several words of a name ("frontent junoir", "tem leed"): each word close to the name's
                # word in the same place, starting with the same letter
                part = words[start: start + size]
                best = _wordwise(part, lookup.by_initials.get("".join(w[0] for w in part), []))
                if best:
                    hits = table[best]
            if hits:
                strong = gram not in common and singular not in common
                for level in hits:
                    found.append(Mention(level, start, start + size, strong, gram if gram in table else singular))
                for i in range(start, start + size):
                    taken[i] = True
    found.sort(key=lambda m: m.start)
    return found


def _wordwise(words: list[str], names: list[str]) -> str | None:
    """The name whose every word is close to the question's word in its place; ``names`` already share
    the words' initials."""
    best, best_score = None, 0.0
    for name in names:
        parts = name.split()
        # a short word may drop one letter of the name's ("tem leed")
        scores = [100.0 if w == p else fuzz.ratio(w, p) if w[0] == p[0] and (len(w) >= 4 or len(p) == len(w) + 1)
                  else 0.0 for w, p in zip(words, parts)]
        if min(scores) >= 80 and sum(scores) > best_score:
            best, best_score = name, sum(scores)
    return best


_GLUE = {"a", "an", "the", "my", "our", "your", "his", "her", "their", "as", "to", "for", "of", "and", "or", "is",
         "be", "in", "on", "at", "with", "from", "into", "i", "im", "me",
         # nor a place word ("the highest level a frontend dev..." is not "lead frontend developer")
         "level", "levels", "role", "roles", "job", "jobs", "position", "step", "steps", "rung", "grade",
         # nor the ladder itself ("the web team ladder" is no typo of "team leader")
         "ladder", "ladders", "track", "tracks", "map", "maps"}
GENERIC_TITLE_WORDS = {"agent", "lead", "head", "developer", "frontend", "manager", "officer", "of", "and", "call",
                        "center", "customer", "chief", "operations", "specialist", "quality", "training"}


def partial_levels(kb: Knowledge, norm: str, mentions: list[Mention]) -> list[Level]:
    """Levels whose title has a distinctive word the question uses alone: "seniors" -> both Senior levels."""
    taken = {i for m in mentions for i in range(m.start, m.end)}
    title_words = _names(kb).title_words
    out: list[Level] = []
    for i, word in enumerate(norm.split()):
        if i in taken or len(word) < 4:
            continue
        stem = word[:-1] if word.endswith("s") else word
        for level in title_words.get(stem, ()):
            if level not in out:
                out.append(level)
    return out


def track_hint(kb: Knowledge, norm: str, mentions: list[Mention]) -> str | None:
    strong_tracks = {m.level.track for m in mentions if m.strong}
    if len(strong_tracks) == 1:
        return next(iter(strong_tracks))
    padded = f" {' '.join(_affirmed(norm.split()))} "
    for track, words in _TRACK_WORDS.items():
        if any(f" {w} " in padded for w in words):
            return track
    return None


_NEGATIONS = {"not", "no", "non", "never"}


def _affirmed(words: list[str]) -> list[str]:
    """The words not negated by the one before ("call center, not frontend": frontend is not asked about)."""
    return [w for i, w in enumerate(words) if not (i and words[i - 1] in _NEGATIONS)]


def detect_intent(norm: str, mentions: list[Mention]) -> Intent:
    distinct = {m.level.id for m in mentions}
    after = _follows(norm, mentions, _NEXT_BEFORE)
    if len(distinct) == 1 and (after or (_NEXT.search(norm) and not _IDENTIFY.search(norm))):
        return Intent.NEXT
    if _COMPARE.search(norm) and len(distinct) >= 2:
        return Intent.COMPARE
    if len(distinct) >= 2 and _PATH.search(norm):
        return Intent.PATH
    if _COMPARE.search(norm) and " and " in f" {norm} " and len(distinct) >= 1:
        return Intent.COMPARE
    if _REQUIRE.search(norm):
        return Intent.REQUIREMENTS
    if not mentions and _GLOSSARY.search(norm) and (_MEANS.search(norm) or not _DOES_WHAT.search(norm)):
        return Intent.GLOSSARY
    if _FACT.search(norm):
        return Intent.FACT
    return Intent.REQUIREMENTS


def _follows(norm: str, mentions: list[Mention], words_before: set[str]) -> bool:
    """Does one of ``words_before`` come right before a level's name ("after the senior agent")?"""
    words = _words(norm)
    for m in mentions:
        i = m.start - 1
        while i >= 0 and words[i] in {"the", "a", "an"}:
            i -= 1
        if i >= 0 and words[i] in words_before:
            return True
    return False


# Words that say which part of the ladder a question is about without adding anything it asks.
_LADDER_WORDS = {"ladder", "career", "company", "here", "reach", "possible", "track", "path", "position", "positions",
                 "title", "titles", "job", "jobs", "rank", "grade", "rung", "called", "name", "named", "one"}


def content_words(kb: Knowledge, text: str, drop: re.Pattern[str] | None = None) -> list[str]:
    """What a question says beyond level names, track words and ladder words: stemmed content words."""
    if drop is not None:
        text = drop.sub(" ", text)
    ignore = set(_LADDER_WORDS) | {w for words in _TRACK_WORDS.values() for w in words}
    for track in kb.tracks.values():
        ignore |= set(normalize(track.title).split()) | set(track.id.split("-"))
    ignore_stems = set(lexical_tokens(" ".join(sorted(ignore))))
    return [t for t in lexical_tokens(text) if t not in ignore_stems]


def _relation_to(norm: str, mentions: list[Mention]) -> bool:
    """ "who manages the TLs?", "who do QA specialists report to?": another level, related to the named one."""
    if len({m.level.id for m in mentions}) != 1:
        return False
    words = _words(norm)
    first, last = mentions[0].start, max(m.end for m in mentions)
    before, after = " ".join(words[:first]), " ".join(words[last:])
    if _UNDER_THEM.match(after):
        return True   # "the folks running the floor with all the TLs under them"
    if not (_IDENTIFY.search(norm) or re.search(r"\b(who|folks|people|ones|guys|person)\b", before)):
        return False
    return bool(_MANAGES.search(before) or _REPORTS.search(after))


_UNDER_THEM = re.compile(r"(\w+ ){0,2}(under|below|beneath|reporting to) (them|him|her|you|that person|that one)\b")


_ASKS_WHAT = r"(what|wat|wot|whats|wats)( s| is| are| does)?( even| exactly| actually| really| the heck| the hell)?( is| s| are)?( an?| the| our| my)?"


def _glossary(kb: Knowledge) -> list[tuple[re.Pattern, re.Pattern, str]]:
    """Every term a background note defines, from its headings ("AHT — Average Handle Time": "aht" and
    "average handle time"), as the two ways of asking what it is, with the note's doc id; terms that are also
    a level's name are left out."""
    terms: dict[str, str] = {}
    for note in kb.references:
        for section in note.sections:
            for part in re.split(r"\s+[—–-]\s+", section.heading):
                term = normalize(part)
                if term and term not in kb.level_names and len(term) >= 3:
                    terms.setdefault(term, note.doc_id)
    out = []
    for term, doc_id in terms.items():
        t = re.escape(term)
        out.append((re.compile(rf"\b{_ASKS_WHAT} {t}s?( s)?( role| job| position)?( mean| stand for| in| exactly| about)?$"),
                    re.compile(rf"\b{t}s? (mean|means|stand for|stands for)\b|\b(define|definition of|meaning of) (an? |the )?{t}\b"),
                    doc_id))
    return out


def defined_term(kb: Knowledge, norm: str) -> str | None:
    """The note defining the term a question asks about: "what even is FCR?", "FCR stands for?", "define
    occupancy" (a term of the glossary's own headings; a level's name is never one)."""
    for asks_what, means, doc_id in _names(kb).glossary:
        if asks_what.search(norm) or means.search(norm):
            return doc_id
    return None


def understand(kb: Knowledge, question: str) -> Query:
    text = " ".join((question or "").split())
    truncated = len(text) > MAX_QUESTION_CHARS
    if truncated:
        text = text[:MAX_QUESTION_CHARS]
    norm = normalize(text)
    mentions = find_mentions(kb, norm)
    query = Query(
        text=text, norm=norm, mentions=mentions, track_hint=track_hint(kb, norm, mentions),
        intent=detect_intent(norm, mentions), truncated=truncated, identify=bool(_IDENTIFY.search(norm)),
        partial=partial_levels(kb, norm, mentions), quantities=quantities(text),
    )
    query.dated = dated_request(text)
    # "whats ACW? my TL keeps saying my ACW is too long": each sentence may be the one asking
    query.defines = defined_term(kb, norm) or next(
        (d for part in re.split(r"[?!.;]+", text) if part.strip() and (d := defined_term(kb, normalize(part)))), None)
    firsts = {t.levels[0].id for t in kb.tracks.values() if t.levels}
    if not query.strong_levels or all(lv.id in firsts for lv in query.levels):
        first_named = [m for m in mentions if m.level.id in firsts]
        query.newcomer = bool(_NEWCOMER.search(norm)) or _follows(norm, first_named, _NEW_BEFORE)
    if query.levels and all(lv.id in firsts for lv in query.levels) and _BEFORE_ENTRY.search(norm):
        query.before_entry = True
    rest = query.masked
    numbered = [m for m in mentions if m.strong and _LEVEL_NUMBER.fullmatch(" ".join(_words(norm)[m.start: m.end]))]
    if query.identify and numbered:
        query.identify = False   # "which level is L6 on the call center map?": a level number names it
    if query.identify and query.strong_levels and not content_words(kb, rest):
        # "what level is a supervisor?": nothing but the name, so the question asks for that level
        query.identify = False
    if _relation_to(norm, mentions):
        query.manager_of = True
    if not query.strong_levels:
        # the top or the bottom of a track is a place on it, read by ``bot.search.relations``; the overview is the
        # ladder as a whole
        if _OVERVIEW.search(norm):
            query.intent = Intent.OVERVIEW
        elif query.track_hint and not query.partial and _ENTRY.search(norm) and not content_words(kb, rest, _ENTRY):
            query.entry = True   # "how do I become a frontend developer?": the way in is the track's first level
    return query


_LEVEL_NUMBER = re.compile(r"\b(?:l|lvl|level)\s*\d+\b", re.I)
_STATED = re.compile(r"(?<![\w.])(\d{1,4}(?:\.\d+)?)(?!\w)")
_UNIT_AFTER = re.compile(r"\s*(?:(?:-|–|to)\s*\d{1,4}(?:\.\d+)?)?\s*\+?\s*(%|[a-z]+)?", re.I)
# Words after a number that give it the unit the ladder's thresholds use.
_PERCENT_WORDS = {"%", "percent", "pct"}
_HEADCOUNT_WORDS = {"fte", "ftes", "people", "persons", "person", "agents", "reps", "staff", "employees", "heads",
                    "headcount", "seats", "members", "colleagues", "operators", "workers"}


_AT_LEAST_BEFORE = re.compile(r"(at least|minimum( of)?|min|over|above|more than|≥|>=)\s*$", re.I)
_AT_LEAST_AFTER = re.compile(r"\s*(%|percent|pct)?\s*(\+|or more|or above|or higher|and above|and up|plus)", re.I)


def quantities(text: str) -> list[tuple[float, str | None, bool]]:
    """Numbers outside level names ("L3" is not one), in one pass: each with its unit when the words
    say one and whether it is an open lower bound ("100% or more", "at least 100%")."""
    cleaned = _LEVEL_NUMBER.sub(" ", text)
    out: list[tuple[float, str | None, bool]] = []
    for m in _STATED.finditer(cleaned):
        # a range's first number takes the unit written after the second ("10-15 people")
        tail = _UNIT_AFTER.match(cleaned, m.end())
        word = (tail.group(1) or "").lower() if tail else ""
        unit = "percent" if word in _PERCENT_WORDS else "fte" if word in _HEADCOUNT_WORDS else None
        at_least = bool(_AT_LEAST_BEFORE.search(cleaned[: m.start()]) or _AT_LEAST_AFTER.match(cleaned, m.end()))
        out.append((float(m.group(1)), unit, at_least))
    return out


def stated_quantities(text: str) -> list[tuple[float, str | None]]:
    """Each stated number with its unit: "10-15 people" -> [(10, fte), (15, fte)]."""
    return [(value, unit) for value, unit, _ in quantities(text)]
