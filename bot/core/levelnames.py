"""Turning what people type ("senoir agent", "L3", "team leader", "CCO") into a level.

Used by the CLI, the Slack commands and retrieval's query understanding, so every entry point
accepts the same names. :class:`bot.core.knowledge.Knowledge` resolves names with this module, so it
reads the knowledge through the few attributes below (:class:`Ladder`), never by importing it.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from typing import Iterable, Iterator, Protocol, Sequence

from rapidfuzz import fuzz, process

from bot.core.text import escape


class Level(Protocol):
    """What naming reads of a level (:class:`bot.core.knowledge.Level`)."""

    id: str
    number: int
    title: str
    aliases: list[str]
    track: str


class Track(Protocol):
    id: str
    title: str
    levels: Sequence[Level]

    def level_by_number(self, number: int) -> Level | None: ...


class Ladder(Protocol):
    """What naming reads of the knowledge (:class:`bot.core.knowledge.Knowledge`)."""

    tracks: dict[str, Track]
    level_names: dict[str, list[Level]]

    @property
    def default_track(self) -> Track: ...

    def track(self, track_id: str) -> Track: ...

    def levels(self, track: str | None = None) -> list[Level]: ...


class LevelNotFound(LookupError):
    """A name matched no level (or no track). ``message`` says so (Slack mrkdwn, escaped); ``suggestions``
    holds close matches, best first. ``show_levels``: the name is close to none, so the front end points to
    the list of every level, in its own words (``/ladder levels`` in Slack, ``ladder levels`` in a shell)."""

    def __init__(self, name: str, message: str, suggestions: Iterable[Level] = (), show_levels: bool = False):
        self.name = name
        self.message = message
        self.suggestions = list(suggestions)
        self.show_levels = show_levels
        super().__init__(message)

_SPELLING = {"centre": "center", "centres": "centers", "lvl": "level", "lvls": "levels", "lv": "level", "leed": "lead", "fe": "frontend",
             "custops": "customer operations", "cust": "customer",
             # short forms people use for title words
             "ops": "operations", "mgr": "manager", "mngr": "manager", "dev": "developer", "devs": "developers",
             "sr": "senior", "snr": "senior", "jr": "junior", "jnr": "junior", "mid": "middle", "mgmt": "management",
             "supv": "supervisor", "spec": "specialist"}
# "wats next 4 me", "wat r u": digits and letters standing for words, only where no number could be meant
_TEXT_SPEAK_WORDS = {"4": "for", "2": "to", "u": "you", "r": "are", "ur": "your"}
_TEXT_SPEAK = re.compile(r"(?<![\w.])(?<!level )(?<!lvl )(?<!step )(?<!grade )(?:(4|2)(?= (?:me|u|you|us|my|him|her|them)\b)|(u|r|ur)\b)")
# "my sup", "being a sup": floor slang for a supervisor, only after a word that makes it a noun ("sup ladder" is hello)
_SUP = re.compile(r"\b(a|my|the|our|your|their|his|her|new|being|as|to|no|each|every|good|great|best|bad|strict|"
                  r"nice|former|old)\s+sup(s)?\b|\b()sup(s)\b")   # ... or plural anywhere: "sups" is never hello
# ... or before a word that asks about a job ("sup requirements?", "sup role"): a name, where "sup ladder" is hello
_SUP_BEFORE = re.compile(r"\bsup(s?)(?= (role|roles|requirements?|reqs?|responsibilit\w*|skills?|skillset|dut\w*|"
                         r"kpis?|level|job|position|experience|expectations?|targets?|tasks?|remit)\b)")
_NUMBERED = re.compile(r"^(?:(?P<track>.+?)\s+)?(?:l|level)\s*(?P<n>\d{1,4})$")
ACCEPT = 85      # fuzz.ratio needed to accept a typo as a name
SUGGEST = 65     # WRatio needed to be offered as "did you mean"


def normalize(text: str) -> str:
    text = text.lower().replace("&", " and ").replace("’", "'")
    text = re.sub(r"[^a-z0-9+ ]+", " ", text)
    text = _TEXT_SPEAK.sub(lambda m: _TEXT_SPEAK_WORDS[m.group(0)], text)
    text = _SUP.sub(lambda m: (f"{m.group(1)} supervisor{'s' if m.group(2) else ''}" if m.group(1) is not None
                               else "supervisors"), text)
    text = _SUP_BEFORE.sub(lambda m: "supervisor" + m.group(1), text)
    words = [_SPELLING.get(w, w) for w in text.split()]
    return " ".join(words)


def build_name_table(kb: Ladder) -> dict[str, list[Level]]:
    table: dict[str, list[Level]] = {}
    for level in kb.levels():
        names = {level.id.replace("-", " "), level.title, *level.aliases}
        # "Lead Frontend" for "Lead Frontend Developer": a title without the word every level of its track ends in
        words = normalize(level.title).split()
        if len(words) >= 3 and words[-1] == "developer":
            names.add(" ".join(words[:-1]))
        for name in names:
            key = normalize(name)
            if key and level not in table.setdefault(key, []):
                table[key].append(level)
    # "HoF", "TQL": a title's initials (three letters or more, with or without "of"/"and"), where they name one level
    initials: dict[str, list[Level]] = {}
    for level in kb.levels():
        words = normalize(level.title).split()
        for keep in (words, [w for w in words if w not in {"of", "and"}]):
            key = "".join(w[0] for w in keep)
            if len(key) >= 3 and level not in initials.setdefault(key, []):
                initials[key].append(level)
    for key, levels in initials.items():
        if len(levels) == 1 and key not in table:
            table[key] = levels
    # "senior CSR", "expert rep": a rank word of a title before another name of the track's first level
    # ("Senior Agent" is "Senior" + "Agent", and a CSR is an Agent)
    for track in kb.tracks.values():
        base = track.levels[0] if track.levels else None
        if base is None:
            continue
        base_word = normalize(base.title)
        others = {normalize(a) for a in base.aliases} - {base_word}
        for level in track.levels[1:]:
            title = normalize(level.title)
            if not title.endswith(" " + base_word):
                continue
            rank = title[: -len(base_word) - 1]
            for alias in others:
                key = f"{rank} {alias}"
                if key not in table:
                    table[key] = [level]
    return table


def texts_of(obj) -> Iterator[str]:
    """Every text and number in ``obj`` (a level, a reference note, lists of them): their values, never the names
    of their fields ("title", "aliases"), which are no words of the career map."""
    if hasattr(type(obj), "model_fields"):      # a pydantic model (a level, a skill): every field, shown or not
        obj = [getattr(obj, name) for name in type(obj).model_fields]
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):   # a reference note
        obj = [getattr(obj, f.name) for f in dataclasses.fields(obj)]
    elif isinstance(obj, enum.Enum):
        obj = obj.value
    if isinstance(obj, dict):
        obj = obj.values()
    if isinstance(obj, (str, int, float)) and not isinstance(obj, bool):
        yield str(obj)
    elif isinstance(obj, Iterable) and not isinstance(obj, (str, bytes)):
        for item in obj:
            yield from texts_of(item)


def clipped_names(kb: Ladder) -> dict[str, list[Level]]:
    """"exp agent", "sen. agent": each name with its first word cut to three or four letters (from six or more),
    for exact matches only (never a target of typo matching: "sme agent" is no typo of "sen agent"). A cut shared
    by two names stands for both ("exp agent": Experienced or Expert Agent), and the question is asked back. A cut
    that is a word of the career map itself is no short form ("new agents" are onboarded, no "Newbie Agent")."""
    own_words = set(normalize(" ".join(texts_of(kb.levels()))).split())
    clipped: dict[str, list[Level]] = {}
    for level in kb.levels():
        for name in {level.title, *level.aliases}:
            first, *rest = normalize(name).split() or [""]
            for cut in (3, 4):
                if not rest or len(first) < cut + 2 or first[:cut] in own_words:
                    continue
                levels = clipped.setdefault(" ".join([first[:cut], *rest]), [])
                if level not in levels:
                    levels.append(level)
    return clipped


def _track_from_words(kb: Ladder, words: str) -> str | None:
    key = normalize(words)
    for track in kb.tracks.values():
        if key in {normalize(track.id.replace("-", " ")), normalize(track.title)} or key == track.id.split("-")[0]:
            return track.id
    return None


def _describe(level: Level) -> str:
    return f"{level.title} (L{level.number}, {level.id})"


def resolve_level(kb: Ladder, name: str, track: str | None = None) -> Level:
    key = normalize(name or "")
    if not key:
        raise LevelNotFound(name, "Please name a level, e.g. `L3`, `Senior Agent` or `team lead`.")
    if track:
        kb.track(track)  # raises a clear error for an unknown track

    numbered = _NUMBERED.match(key)
    if numbered:
        track_id = track
        if numbered["track"]:
            track_id = _track_from_words(kb, numbered["track"]) or track_id
        tr = kb.track(track_id) if track_id else kb.default_track
        level = tr.level_by_number(int(numbered["n"]))
        if level is None:
            raise LevelNotFound(
                name, f"There is no level L{int(numbered['n'])}: {escape(tr.title)} has L1–L{len(tr.levels)}."
            )
        return level

    table = kb.level_names
    candidates = {k: [lv for lv in v if not track or lv.track == track] for k, v in table.items()}
    candidates = {k: v for k, v in candidates.items() if v}

    exact = candidates.get(key)
    if exact:
        if len(exact) == 1:
            return exact[0]
        default = [lv for lv in exact if lv.track == kb.default_track.id]
        if len(default) == 1 and not track:
            return default[0]

    # Short names (TL, CSR, SME) are matched exactly only: fuzzily they resemble everything.
    fuzzy_names = [k for k in candidates if len(k) >= 4]
    matches = process.extract(key, fuzzy_names, scorer=fuzz.ratio, limit=6)
    if matches and matches[0][1] >= ACCEPT:
        best_levels = candidates[matches[0][0]]
        rivals = {
            lv.id for m in matches[1:] if m[1] >= matches[0][1] - 3 for lv in candidates[m[0]]
        } - {lv.id for lv in best_levels}
        if len(best_levels) == 1 and not rivals:
            return best_levels[0]

    suggestions: list[Level] = []
    ranked = process.extract(key, fuzzy_names, scorer=fuzz.WRatio, limit=12)
    floor = max(SUGGEST, ranked[0][1] - 10) if ranked else SUGGEST
    for cand, score, _ in ranked:
        if score < floor:
            break
        for lv in candidates[cand]:
            if lv not in suggestions:
                suggestions.append(lv)
    suggestions = suggestions[:4]
    message = f"I don't know a level called '{escape(name.strip()[:80])}'."
    if suggestions:
        names = [escape(_describe(lv)) for lv in suggestions]
        message += " Did you mean " + (", ".join(names[:-1]) + " or " if len(names) > 1 else "") + names[-1] + "?"
    raise LevelNotFound(name, message, suggestions, show_levels=not suggestions)
