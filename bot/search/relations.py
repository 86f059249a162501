"""What a question asks about, read from the ladder's structure instead of guessed by retrieval.

"what comes after Senior Agent?", "the level right below Team Lead", "two steps above L3", "the second
step on the ladder", "the top job", "the most senior role without managing people", "the next level after
mine", "promoted to QA Specialist", "and for expert?" all have exact answers in ``knowledge/``: the track
order, ``paths.yaml`` and the asker's stored level. :func:`resolve_subject` turns the words around the
names (found by :mod:`bot.search.query`) into a :class:`Subject`; nothing here looks at embeddings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from enum import Enum

from rapidfuzz import fuzz, process

from bot.search.conversation import Conversation, Turn
from bot.core.knowledge import Knowledge, Level
from bot.core.levelnames import normalize
from bot.search.query import GENERIC_TITLE_WORDS, Mention, Query, find_mentions, level_numbers, track_hint
from bot.core.render import escape, level_name


class Relation(str, Enum):
    NAMED = "named"            # a level named in the question ("what do I need for Senior Agent?")
    PROMOTED_TO = "promoted_to"  # "promoted to X", "become X": X itself, named as a target
    NEXT = "next"              # N steps above a level ("what's after X", "two levels above X")
    PREVIOUS = "previous"      # N steps below a level ("right below X", "what comes before X")
    FROM_TO = "from_to"        # "from X to Y": the route between two levels
    POSITION = "position"      # a place on a track: first, second, top, highest without managing people
    MINE = "mine"              # the asker's stored level ("my level", "mine")
    FOLLOWUP = "followup"      # a level from the conversation ("and for expert?", "what about the KPI there?")
    DESCRIBE = "describe"      # nothing named: the level is found by what the question describes
    BETWEEN = "between"        # the one level between two named ones ("what sits between TL and HCO?")


@dataclass(frozen=True)
class Subject:
    """What the question is about. ``level`` is the answer's level (None for a description to retrieve, or
    "mine" when the asker's level is not known); ``anchor`` the level a relation starts from."""

    relation: Relation
    level: Level | None = None
    anchor: Level | None = None
    steps: int = 0             # NEXT / PREVIOUS: how many steps
    start: Level | None = None  # FROM_TO: where the route starts
    position: str = ""         # POSITION: "first", "2", "top", "top-ic"
    missing: str = ""          # why ``level`` is None although the relation is known ("no level above ...")
    mine: bool = False         # the anchor is the asker's own level ("the next level after mine")
    from_context: bool = False  # the level (or the anchor) came from the conversation, not from the question
    named_here: bool = False   # ... and the question names it in part ("and for expert?")

    @property
    def resolved(self) -> bool:
        return self.level is not None

    def phrase(self, kb: Knowledge) -> str:
        """How the answer says which relation it used: "After L5 QA Specialist comes *L6 Training & Quality Lead*."."""
        lv = self.level
        if lv is None:
            return ""
        name = f"*{level_name(lv)}*"
        anchor = level_name(self.anchor) if self.anchor is not None else ""
        up = self.relation == Relation.NEXT
        if self.relation in {Relation.NEXT, Relation.PREVIOUS} and self.anchor is not None:
            if self.mine:
                return f"{'After' if up else 'Right below'} your level ({anchor}, from your profile) comes {name}."
            if self.steps == 1:
                return f"After {anchor} comes {name}." if up else f"Right below {anchor} is {name}."
            return f"{self.steps} steps {'above' if up else 'below'} {anchor} is {name}."
        if self.relation == Relation.POSITION:
            track = escape(kb.tracks[lv.track].title)
            if self.position.startswith("-"):
                where = f"Step {self.position[1:]} from the top"
            else:
                where = {"first": "The first (entry) level", "top": "The top level",
                         "top-ic": "The most senior level that does not manage people",
                         "middle": "Halfway up"}.get(
                    self.position, f"Step {self.position}")
            return f"{where} on {track} is {name}."
        if self.relation == Relation.MINE:
            return f"Your level (from your profile) is {name}."
        if self.relation == Relation.BETWEEN and self.anchor is not None and self.start is not None:
            return f"Between {anchor} and {level_name(self.start)} is {name}."
        if self.relation == Relation.FOLLOWUP:
            return f"_(Following on from your last question: {level_name(lv)}.)_"
        return ""


# -- words --------------------------------------------------------------------------------------------

_UP = {"subsequent to", "after", "above", "beyond", "past", "following", "follows", "succeeds", "over", "higher than", "up from",
       "next after", "next from", "next to", "on from", "up after", "on top of", "higher up than", "further than"}
_DOWN = {"previous to", "before", "below", "under", "beneath", "underneath", "prior to", "preceding", "precedes", "lower than",
         "down from", "under neath", "back from", "precede", "short of", "shy of"}
# words that may sit between a direction word and the level's name ("after the", "one step above the")
_FILLER = {"the", "a", "an", "right", "just", "directly", "immediately", "straight", "step", "steps", "level",
           "levels", "rung", "rungs", "grade", "grades", "rank", "ranks", "up", "down", "role", "roles", "job",
           "position", "is", "s", "that", "comes", "come", "sits", "sit", "of", "one", "whatever", "very", "notch", "notches"}
_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
                 "ten": 10, "a": 1, "couple": 2}
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
             "ninth": 9, "tenth": 10, "1st": 1, "2nd": 2, "3rd": 3, "4th": 4, "5th": 5, "6th": 6, "7th": 7, "8th": 8,
             "9th": 9, "10th": 10}
_PLACE = r"(level|step|rung|grade|tier|position|rank|job|role|title|spot|stage)s?"
# the ladder as a whole, as people name it: "the top of the call-centre career map", "the bottom of the frontend track"
_LADDER = (r"((\w+ ){0,3}(ladder|career map|map|track|tree|career path|path|hierarchy|pyramid|org chart|chart|"
           r"structure|food chain|totem pole))")
_ORD_PLACE = re.compile(r"\b(" + "|".join(_ORDINALS) + r")((?: \w+){0,2}) " + _PLACE + r"\b")
# "level one" is a place, "the highest level one can reach" a pronoun before a modal verb
_PLACE_NUMBER = re.compile(r"\b(level|step|rung|grade|tier) (one|two|three|four|five|six|seven|eight|nine|ten)\b"
                           r"(?! (can|could|would|will|should|may|might|must|has|gets|needs|reaches)\b)")
_FROM_TOP = re.compile(r"\bfrom the top\b|\b(second|third) (highest|most senior)\b")
_FIRST = re.compile(r"\b(lowest|bottom|most junior|entry|entry level|starting|beginner|first|junior most|initial|noob|"
                    r"newbie|rookie|newcomer|starter)"
                    r"( \w+)? " + _PLACE + r"\b|\bentry level\b|\bbottom of (the|my|our|this|your) " + _LADDER + r"\b"
                    r"|\b(where|how) (do|does|did|would|will|can) (\w+ ){1,2}(start|begin)\b"
                    r"|\bstart(ing)? (at|out|off)( at)? the bottom\b|\bfirst one (on|in|of) (the |our )?" + _LADDER + r"\b")
_TOP = re.compile(r"\b(highest|top|most senior|last|final|biggest|ultimate|uppermost|senior most|top most|topmost)"
                  r"( \w+)?( \w+)? " + _PLACE + r"\b|\btop of (the|my|our|this|your) " + _LADDER + r"\b"
                  r"|\bhighest (you|one|i|someone) can (go|get|reach|climb|rise)\b|\bhow (high|far) (can|could) (i|you|one)\b"
                  r"|\bend of the " + _LADDER + r"\b|\b(top|highest|last|final) one\b|^(and|ok and|so) (the )?(last|top)$|\btop job\b|\b(to|at|reach|reaching) the top\b"
                  r"|\b(big|top|main|ultimate|head|biggest) (boss|honcho|cheese|dog)\b")
_NO_REPORTS = re.compile(r"\b(without|no|not|non|never|zero|avoid\w*|don t|dont|doesn t|doesnt|isn t|rather not)"
                         r"( \w+){0,3} (manag\w*|direct reports|reports|people management|leading people|lead people|"
                         r"a team|team|people|supervis\w*)\b|\bindividual contributor\b|\b(ic|non managerial|"
                         r"non management|hands on)\b")
MINE = re.compile(r"\b(my|mine) (current |own |present |actual )?(level|role|job|position|grade|rank|title|spot|step|"
                  r"place)\b|(?<!of )\bmine\b|\bwhere i am( now| today| at)?\b|\bwhere i m( at)?( now)?\b"
                  r"|\bmy current one\b|\bwhat (level|grade|rank) am i\b|\bwhich (level|grade|rank) am i\b"
                  r"|\bwhat (level|grade|rank|role) (am i|i am|i m) (at|on|in)\b"
                  r"|\b(what|which) (level|grade|rank|role|job|position) (was|were) i\b")
_FROM_HERE = re.compile(r"\b(from here|from there|from this (level|role|point)|next( \w+)? for me|my next (step|level|move|"
                        r"role|promotion)|(next|following) (\w+ )?(level|step|rung|grade|role|move|promotion) (for|up for) me)\b")
# a step up said in the first person with no level named ("what would I need to get promoted one step?"): from the
# asker's stored level, when there is one
_FIRST_PERSON = re.compile(r"\b(i|me|my|i m|im|i ve|myself)\b")
# what the asker is expected to do where they are ("what KPI am I expected to hit?"): their stored level
_EXPECTED_OF_ME = re.compile(r"\b(am i|i m|im|i am) (\w+ )?(expected|supposed|meant|required|obliged) to\b"
                            r"|\b(expected|required) of me\b|\b(should|must) i (be )?(hitting|hit|doing|know|have)\b")
_STEP_UP = re.compile(r"\b(promot\w*|move up|moving up|step up|level up|go up|going up|next (level|step|rung|grade|role|"
                      r"move|promotion|one)|one (step|level|rung|notch|grade) (up|higher)|climb\w*)\b")
_NEXT_AFTER = re.compile(r"\b(next (level|step|one|rung|role|move|promotion|grade)|move up|moving up|step up|level up|"
                         r"go up|what s next|whats next|what is next|comes next|come next|next up|progress(ion)?|"
                         r"promot\w* from|where (do|can|could|would|should) (i|you|they|we|one) go|where next|"
                         r"what then|then what|lead to|leads to|(bump\w*|mov\w*|go\w*|step\w*) up (a|one) (notch|step|level|rung|grade)|after (that|this|it)|climb|grow into|move on to|go on to)\b")
_TARGET = re.compile(r"\b(promot\w*|move|moving|get|getting|go|going|jump|step|advance|rise|make it|switch\w*|"
                     r"transfer\w*|apply|applying) (up )?(in)?to\b|\b(become|becoming|be|reach|reaching|"
                     r"get into|into)\b")
# "the following level", "the next one up", "the previous step": a step from the level in question, wherever it is
# named (or from the conversation's level when none is)
_NEXT_NOUN = re.compile(r"\b(next|following|subsequent|succeeding)( \w+)? (level|step|one|rung|role|job|position|grade|"
                        r"promotion|title|move)\b|\bnext\b(?! ((\d+|few|couple|couple of|two|three|four|six|twelve) )?(week|month|year|"
                        r"quarter|shift|time|day|door|to)s?\b)")
_PREV_NOUN = re.compile(r"\b(previous|preceding|prior|earlier)( \w+)? (level|step|one|rung|role|job|position|grade|title)\b")
_BACK = re.compile(r"\b(before (that|this|it)|below (that|this|it)|under (that|this|it)|step down|one down|"
                   r"(level|step|role|rung|one) (below|under|underneath|beneath|before|down|lower)( (that|this|it))?$)\b")
# ... and up: "what about the level above?", "the one over it"
_FORTH = re.compile(r"\b(level|step|role|rung|one) (above|after|over|up|higher)( (that|this|it))?$")
# A follow-up leans on the conversation: it starts like one, or points back at what was said.
_FOLLOWUP_START = re.compile(r"^(and|also|what about|how about|and what about|same|ok and|okay and|so|then|but)\b")
_ANAPHOR = re.compile(r"\b(there|that level|this level|that role|this role|that one|this one|that job|this job|"
                      r"that position|it|its|the same level|same role|for that|for this|for them|they|them|their|"
                      r"those people|these people|such people|he|she|his|her|"
                      r"(does|did|is|was|would|will|can|for) that|that (take|takes|need|needs|require|requires|involve|"
                      r"involves|mean|means)|that$)\b")
# "and one more up?", "another step down", "two more up": a count of steps from the conversation's level
_MORE_UP = {"up", "higher", "above", "further", "further up"}
_MORE = re.compile(r"\b(one|two|three|a|another)( more)?( (step|level|rung|notch|grade)s?)? (up|higher|above|further up|"
                   r"down|lower|below|further down)\b")


def _words(norm: str) -> list[str]:
    return norm.split()


_COUNT_FROM = re.compile(r"\b(down|up|back|below|above|under|over)( by)? (\w+) (level|step|rung|grade|notch)s? "
                         r"(down |up )?from( the)?$")


def _cue_before(words: list[str], start: int) -> tuple[int, int] | None:
    """A direction word before a name (or "mine") at word ``start``, over filler ("two steps right above the",
    "two steps down from", "count down three levels from the"): (+1 up / -1 down, steps) or None."""
    counted = _COUNT_FROM.search(" ".join(words[max(0, start - 7): start]))
    if counted and (n := _count(counted.group(3))):
        up = counted.group(1) in {"up", "above", "over"} or counted.group(5) == "up "
        return (1 if up else -1), n
    i = start - 1
    steps = 0
    while i >= 0 and start - i <= 7:
        two = " ".join(words[i - 1: i + 1]) if i >= 1 else ""
        one = _direction_word(words[i])
        size = 2 if (two in _UP or two in _DOWN) else 1 if one else 0
        if size:
            cue = two if size == 2 else one
            if cue == "after" and i >= 1 and words[i - 1] in _LOOK:
                return None   # "looks after a team of agents": cares for them, not the level after
            j = i - size   # a count further back: "two levels above", "2 steps down from"
            while j >= 0 and (words[j] in _FILLER or words[j] in _NUMBER_WORDS or words[j].isdigit()):
                steps = max(steps, _count(words[j]))
                j -= 1
            return (1 if cue in _UP else -1), max(steps, 1)
        if words[i] in _FILLER or words[i] in _NUMBER_WORDS or words[i].isdigit():
            steps = max(steps, _count(words[i]))
            i -= 1
            continue
        return None
    return None


_LOOK = {"look", "looks", "looked", "looking"}
_DIRECTION_WORDS = sorted(w for w in _UP | _DOWN if " " not in w and len(w) >= 5)


def _direction_word(word: str) -> str | None:
    """A one-word direction, typos allowed ("aftr", "befor", "bellow"): the same first letter and close in
    spelling to a direction word of five letters or more."""
    if word in _UP or word in _DOWN:
        return word
    if len(word) < 4 or word in _FILLER:
        return None
    best = process.extractOne(word, [w for w in _DIRECTION_WORDS if w[0] == word[0]], scorer=fuzz.ratio,
                              score_cutoff=85)
    return best[0] if best else None


_TIMES = {"twice": 2, "thrice": 3}


def _count(word: str) -> int:
    if word.isdigit() and 0 < int(word) < 11:
        return int(word)
    return _TIMES.get(word) or (_NUMBER_WORDS.get(word, 0) if word not in {"a"} else 0)


_STEP_DIRECTION = {"up": 1, "down": -1}   # the step classifier's readings that move along the track
_STEP_UNITS = {"level", "levels", "step", "steps", "rung", "rungs", "notch", "notches", "tier", "tiers", "grade",
               "grades", "promotion", "promotions", "rank", "ranks", "band", "bands", "up", "down", "above", "below",
               "higher", "lower", "ahead", "back", "more", "times"}


def _steps_said(words: list[str], mentions: list[Mention]) -> int:
    """How many steps a question the step classifier reads as up or down asks for: :func:`_count_said`, else 1."""
    return _count_said(words, mentions) or 1


def _count_said(words: list[str], mentions: list[Mention]) -> int | None:
    """A count beside a unit or a direction ("seven notches up", "climbed 9 levels", "up one", "two promotions"),
    outside the level names; None when none is said."""
    named = {i for m in mentions for i in range(m.start, m.end)}
    for i, w in enumerate(words):
        n = int(w) if w.isdigit() and 0 < int(w) < 100 else _count(w)
        if i in named or not n:
            continue
        near = set(words[i + 1: i + 3]) | set(words[max(0, i - 1): i])
        if near & _STEP_UNITS:
            return n
    return None


def _step(kb: Knowledge, level: Level, direction: int, steps: int) -> Level | None:
    return kb.tracks[level.track].level_by_number(level.number + direction * steps)


_MY_TRACK = re.compile(r"\b(my|our) (own |current )?(track|ladder|career ladder|career path|path|department|dept|"
                       r"team s ladder|side)\b")


def _the_track(kb: Knowledge, query: Query, track: str | None, conversation: Conversation | None,
               any_followup: bool = False):
    """The track a question is about: the one it names (or the caller's ``track``); "my track / my ladder" is the
    asker's; else the conversation's — for a follow-up ("and the top one?"), or with ``any_followup`` for any
    question that has a conversation (a bare title word: "after Senior"); else the default track."""
    tid = track or query.track_hint
    last = conversation.last_level if conversation is not None else None
    if tid is None and conversation is not None and conversation.asker_level and _MY_TRACK.search(query.norm) \
            and kb.has_level(conversation.asker_level):
        tid = kb.level(conversation.asker_level).track
    if tid is None and last and (any_followup or _FOLLOWUP_START.search(query.norm)):
        tid = last.track
    return kb.tracks[tid] if tid in kb.tracks else kb.default_track


def _track_title_words(kb: Knowledge, track) -> dict[str, Level]:
    """Words of a track's titles that name one level of it alone ("trainee", "principal", "qa", "lead" on
    Frontend), leaving out the words of the track's own name, everyday words ("quality", "training") and words
    several of its titles share."""
    cached = _TITLE_WORD_CACHE.get((id(kb), track.id))
    if cached is not None and cached[0] is kb:
        return cached[1]
    # a title's rank word, not a word of everyday use ("before quality or management" names no level)
    skip = (set(normalize(track.title).split()) | set(track.id.split("-"))
            | (GENERIC_TITLE_WORDS - {"lead", "head", "manager"}))
    seen: dict[str, list[Level]] = {}
    for level in track.levels:
        for word in set(normalize(level.title).split()) - skip:
            seen.setdefault(word, []).append(level)
    table = {w: lvs[0] for w, lvs in seen.items() if len(lvs) == 1 and len(w) >= 2}
    if any(entry[0] is not kb for entry in _TITLE_WORD_CACHE.values()):
        _TITLE_WORD_CACHE.clear()   # one live knowledge base at a time (as bot.search.query's tables)
    _TITLE_WORD_CACHE[(id(kb), track.id)] = (kb, table)
    return table


_TITLE_WORD_CACHE: dict[tuple[int, str], tuple[Knowledge, dict[str, Level]]] = {}


def titled(kb: Knowledge, query: Query, track) -> list[Mention]:
    """Bare title words outside the names found, each read as the one level of ``track`` with that word in its
    title: "Senior" on the frontend track is Senior Frontend Developer, "the QA one" QA Specialist."""
    table = _track_title_words(kb, track)
    others = [_track_title_words(kb, t) for t in kb.tracks.values() if t.id != track.id]
    taken = {i for m in query.mentions for i in range(m.start, m.end)}
    out: list[Mention] = []
    for i, word in enumerate(_words(query.norm)):
        if i in taken:
            continue
        level = None
        for w in (word, word[:-1] if word.endswith("s") and len(word) > 3 else None):
            if w is None:
                continue
            # on the track asked about; else on the only track with a title that has it ("trainee")
            elsewhere = [t[w] for t in others if w in t]
            level = table.get(w) or (elsewhere[0] if len(elsewhere) == 1 else None)
            if level is not None:
                break
        if level is not None:
            out.append(Mention(level, i, i + 1, True, word))
    return out


def manages_people(kb: Knowledge, level: Level) -> bool:
    """Does the level lead people? A team size it states, managing words in its description, or a lower
    level of its own track named as the people it organises."""
    if any(t.metric == "team_size" for t in level.thresholds):
        return True
    texts = [level.experience.text, *level.responsibilities, *(s.description for s in level.skills)]
    for text in texts:
        norm = normalize(text)
        if _MANAGING.search(norm):
            return True
        if _ORGANISES.search(norm):
            if any(m.strong and m.level.track == level.track and m.level.number < level.number
                   for m in find_mentions(kb, norm)):
                return True
    return False


_MANAGING = re.compile(r"\b(manages? a team|manag\w* (the )?(team|teams|people|staff|agents)|team of|leading "
                       r"(supervisors|teams|people)|(projects|people) and teams|management team|delegation|"
                       r"motivating the team|line manag\w*)\b")
_ORGANISES = re.compile(r"\b(organi[sz]es the work|leads|manages|supervises|oversees)\b")


def position_level(kb: Knowledge, track, position: str) -> Level | None:
    levels = list(track.levels)
    if not levels:
        return None
    if position == "first":
        return levels[0]
    if position == "top":
        return levels[-1]
    if position == "middle":   # halfway up: of an even number of levels, the lower of the two in the centre
        return levels[(len(levels) - 1) // 2]
    if position == "top-ic":
        managers = [lv.number for lv in levels if manages_people(kb, lv)]
        first_manager = min(managers) if managers else len(levels) + 1
        below = [lv for lv in levels if lv.number < first_manager]
        return below[-1] if below else None
    if position.startswith("-"):   # from the top: "-2" is the second highest
        n = int(position[1:])
        return levels[-n] if 0 < n <= len(levels) else None
    n = int(position)
    return track.level_by_number(n)


_ENDS = {"top": 1, "summit": 1, "bottom": -1, "start": -1, "beginning": -1, "entry": -1}
# "penultimate", "last but one", "second to last", "third from the end": counted back from the top
_FROM_LAST = re.compile(r"\b(penultimate|antepenultimate|last but (one|two)|next to (the )?(last|top))\b"
                        r"|\b(\w+) (to|from) (the )?(very )?(last|end|top)\b")

# "second from the bottom", "third from the start": counted up from the first level
_FROM_FIRST = re.compile(r"\b(\w+) (from|up from) the (very )?(bottom|start|beginning)\b")


_NUMBER_FROM_TOP = re.compile(r"\b(count\w* )?(down )?from the (very )?top\b.*\b(number|no|#) ?(\w+)\b")


def _from_an_end(norm: str) -> str | None:
    """A place counted from an end of the track: "one step below the top" is "-2", "just above the bottom" "2",
    "penultimate" / "second to last" "-2". The same direction words and counts as relations between levels."""
    m = _NUMBER_FROM_TOP.search(norm)
    if m and (n := _count(m.group(5))):
        return "top" if n == 1 else f"-{n}"
    m = _FROM_LAST.search(norm)
    if m:
        word = m.group(1) or ""
        if word == "penultimate" or word.startswith("next to") or m.group(2) == "one":
            return "-2"
        if word == "antepenultimate" or m.group(2) == "two":
            return "-3"
        n = _ORDINALS.get(m.group(5) or "")
        if n:
            return "top" if n == 1 else f"-{n}"
    m = _FROM_FIRST.search(norm)
    if m and m.group(1) in _ORDINALS:
        n = _ORDINALS[m.group(1)]
        return "first" if n == 1 else str(n)
    words = _words(norm)
    for i, w in enumerate(words):
        end = _ENDS.get(w)
        if end is None or i == 0 or words[i - 1] not in {"the", "very"}:
            continue
        cue = _cue_before(words, i - 1 if words[i - 1] == "very" else i)
        if cue is None:
            continue
        direction, steps = cue
        if end == 1 and direction < 0:
            return f"-{steps + 1}"
        if end == -1 and direction > 0:
            return str(steps + 1)
    return None


# "center" only as the centre of something ("a call center job" is no place on a track)
_MIDDLE = re.compile(r"\b(in|at|on|around|near|from) the (very )?(middle|midpoint|mid point|halfway point)\b"
                     r"|\b(in|at|around|near) the (very )?center of (the|a|this|our)\b|\b(half ?way|mid ?way)\b"
                     r"|\b(middle|central|median) " + _PLACE + r"\b|\bcenter (rung|step|tier|spot)s?\b"
                     r"|\bmiddle of the " + _LADDER + r"\b")


def _position_word(norm: str) -> int | None:
    """The word where :func:`_position`'s place begins ("the *second* level", "the *highest* one")."""
    found = [m.start() for m in (p.search(norm) for p in (_ORD_PLACE, _PLACE_NUMBER, _TOP, _FIRST)) if m]
    return len(norm[: min(found)].split()) if found else None


def _position(norm: str) -> str | None:
    """A place on a track the question names without naming a level: "first", "top", "top-ic", "2", "-2",
    "middle"."""
    counted = _from_an_end(norm)
    if counted is not None:
        return counted
    if _MIDDLE.search(norm):
        return "middle"
    m = _ORD_PLACE.search(norm)
    if m:
        n = _ORDINALS[m.group(1)]
        between = m.group(2) or ""
        if re.search(r"\b(highest|most senior|from the top|top|last|end)\b", between) or _FROM_TOP.search(norm):
            return "top" if n == 1 else f"-{n}"
        return "first" if n == 1 else str(n)
    m = _PLACE_NUMBER.search(norm)
    if m:
        n = _NUMBER_WORDS[m.group(2)]
        return "first" if n == 1 else str(n)
    if _TOP.search(norm):
        return "top-ic" if _NO_REPORTS.search(norm) else "top"
    if _NO_REPORTS.search(norm) and re.search(r"\b(highest|most senior|furthest|far|high|top)\b", norm):
        return "top-ic"
    if _FIRST.search(norm):
        return "first"
    return None


_NO_LONGER = re.compile(r"\b(once|when|after|if)( \w+){1,3} (not|no longer|past being|done being|finished being)"
                        r"( (a|an|the))?( (new|fresh|newbie|junior|brand new))?$")
_ONE_NEXT_TO = re.compile(r"\b(the|that) (one|level|role|job|step|rung|position|person|guy)( right| just| directly| "
                          r"immediately)? (under|below|beneath|underneath|before|above|over|after)\b(?! (the|a|an|my|\w+ing)\b)")


_UP_ANYWHERE = re.compile(r"\b(above|after|higher|beyond|followed by|follows|following|succeeds|up from|next|one up|"
                          r"step up|rung up|move up|promot\w* from)\b")
_DOWN_ANYWHERE = re.compile(r"\b(below|before|under|beneath|lower|preced\w*|prior|one down|step down|leads into)\b")


def _number_on_the_conversations_track(kb: Knowledge, query: Query, words: list[str], strong: list[Mention],
                                       conversation: Conversation | None, track: str | None) -> Level | None:
    """"and L5?" after "what's L2 in frontend?": a follow-up that names a level only by its number, with no track
    word and no step, means that number on the conversation's track."""
    last = conversation.last_level if conversation is not None else None
    if last is None or last.track not in kb.tracks or track or track_hint(kb, query.norm, []) or len(strong) != 1 \
            or strong[0].level.track == last.track or not _FOLLOWUP_START.search(query.norm) \
            or _cue_before(words, strong[0].start) is not None:
        return None
    if set(words) & {w for w in normalize(kb.tracks[strong[0].level.track].title).split() if len(w) > 3}:
        return None   # "and call center L5?": the number's own track, named by its title's words
    number = next((n for n in level_numbers(query.norm) if (n.start, n.end) == (strong[0].start, strong[0].end)), None)
    return kb.tracks[last.track].level_by_number(number.number) if number is not None else None


def resolve_subject(kb: Knowledge, query: Query, conversation: Conversation | None = None,
                    track: str | None = None, kind: str | None = None, step: str | None = None) -> Subject:
    """What ``query`` is about, by the ladder's structure. Relations between levels are resolved here;
    a description (nothing named, no position, no conversation to lean on) is left to retrieval.

    ``kind`` is the request classifier's reading, ``step`` the step classifier's (``bot.core.requestbank.STEPS``:
    same / up / down / between, None when it abstains). The word rules below read the shapes they know
    exactly; where they find no step, a confident ``step`` still says which way the question points
    ("one notch up from X", "X's predecessor", "sandwiched between X and Y"), and the count is read from
    the words (:func:`_steps_said`)."""
    words = _words(query.norm)
    # "the agent ladder", "on the agent track": a bare common title word that names a track, not a level
    # ... and so is a plural one beside a place on the track ("the second step for agents")
    track_words = [m for m in query.mentions if not m.strong and (
        words[m.end: m.end + 1] in (["ladder"], ["track"])
        or (words[m.end - 1].endswith("s") and words[m.end - 1] != m.name.split()[-1]
            and words[m.start - 1: m.start] in (["for"], ["on"], ["in"], ["among"])
            and _position(query.norm) is not None))]
    if track_words:
        query = replace(query, mentions=[m for m in query.mentions if m not in track_words])
    strong = [m for m in query.mentions if m.strong]
    asker = None
    if conversation is not None and conversation.asker_level and kb.has_level(conversation.asker_level):
        asker = kb.level(conversation.asker_level)
    mine = bool(MINE.search(query.norm))
    # "I've been Senior for a while now, what do I need to get promoted?": a bare title word of the asker's own level
    own_title = asker is not None and not strong and any(lv.id == asker.id for lv in query.partial)
    plain = not query.partial or own_title

    renumbered = _number_on_the_conversations_track(kb, query, words, strong, conversation, track)
    if renumbered is not None:
        return Subject(Relation.FOLLOWUP, renumbered, from_context=True, named_here=True)

    # a direction word right before a name: "what comes after senior agent", "two levels below TL"
    for m in (strong or query.mentions):
        cue = _cue_before(words, m.start)
        if cue is not None:
            return _relative(kb, m.level, *cue)

    if not strong:
        # "what comes after Senior on the frontend track?", "the level before the QA one": a title's own word,
        # on the track the question (or the conversation) is about
        for m in titled(kb, query, _the_track(kb, query, track, conversation, any_followup=True)):
            cue = _cue_before(words, m.start)
            if cue is not None:
                return _relative(kb, m.level, *cue)

    if not strong and query.mentions:
        # "the highest level that's still an agent": a superlative over the levels a title word names
        grouped = _within_title(kb, query, _the_track(kb, query, track, conversation))
        if grouped is not None:
            return grouped

    distinct = list(dict.fromkeys(m.level.id for m in (strong or query.mentions)))
    if len(distinct) < 2 and not strong and step == "between":
        # "on frontend, what's wedged between Lead and Principal": two bare title words of one track
        on_track = list(dict.fromkeys(m.level.id for m in titled(kb, query, _the_track(kb, query, track, conversation, any_followup=True))))
        if len(on_track) == 2:
            distinct = on_track
    if len(distinct) == 2 and (_BETWEEN.search(query.norm) or step == "between"):
        low, high = sorted((kb.level(i) for i in distinct), key=lambda lv: lv.number)
        gap = high.number - low.number
        if low.track == high.track and (gap == 2 or (gap > 2 and gap % 2 == 0 and _HALFWAY.search(query.norm))):
            # the one level between them, or the one exactly halfway
            return Subject(Relation.BETWEEN, _step(kb, low, 1, gap // 2), anchor=low, start=high)
    if len(distinct) >= 2:
        return Subject(Relation.NAMED, kb.level(distinct[0]))
    if len(distinct) == 1:
        named = kb.level(distinct[0])
        rest = _outside(words, query.mentions)
        # "Lead Frontend -> what's the following level called?", "... before going up to the next level":
        # a step from the named level, said after it (even when the question asks for a name)
        first = min(m.start for m in query.mentions)
        if _NO_LONGER.search(" ".join(words[max(0, first - 7): first])):
            # "what's the step once I'm not a fresh agent anymore": the level after it
            return _relative(kb, named, 1, 1)
        after = " ".join(words[max(m.end for m in query.mentions):])
        # how far a step said after the name goes: one, unless a count is said ("two levels up from it")
        said = _count_said(words, query.mentions)
        far = said or 1
        said_after = _ONE_NEXT_TO.search(after)
        if said_after:
            # "not the CCO, the one right under": a step from the named level, said after it
            return _relative(kb, named, 1 if said_after.group(4) in _UP else -1, far)
        if _PREV_NOUN.search(rest):
            return _relative(kb, named, -1, far)
        if _NEXT_NOUN.search(rest) and not _promoted_to(words, query.mentions, near=True):
            return _relative(kb, named, 1, far)
        if _PROMOTED_TO_WHAT.search(after):
            return _relative(kb, named, 1, 1)   # "what are frontend seniors promoted to": the level they move up to
        promotions = _N_PROMOTIONS.search(query.norm) or _PROMOTED_N.search(query.norm)
        if promotions and (n := _count(promotions.group(2).split()[0])):
            return _relative(kb, named, 1, n)   # "starting at L2, after two promotions"
        counted = _COUNTED_AFTER.match(after)
        if counted and (n := _count(counted.group(4))):
            # "frontend expert minus one", "a team lead ... skip ahead 2 levels"
            back = counted.group(2) in {"minus", "less"} or counted.group(2).startswith("drop") or "down" in counted.group(2)
            return _relative(kb, named, -1 if back else 1, n)
        from_named = words[first - 1: first] == ["from"]
        route = from_named and _TO_AFTER.match(after)   # "from Senior to Principal": a route, the goal named after
        out_of = words[max(0, first - 2): first] == ["out", "of"]
        if _PROMOTED_AFTER.match(after) or out_of or (from_named and _PROMOTION.search(rest) and not route):
            # "if a Junior gets promoted, ...", "promoted to what from Senior Agent": the named level is where it starts
            return _relative(kb, named, 1, 1)
        from_which = _FROM_WHICH.search(rest)
        if _promoted_to(words, query.mentions) or (from_which and _PROMOTION.search(rest)):
            if from_which or _BEFORE_THAT.search(rest):
                # "from which level do people get promoted to Team Lead?": where the promotion starts
                return _relative(kb, named, -1, 1)
            return Subject(Relation.PROMOTED_TO, named)
        if _NEXT_AFTER.search(rest) and not query.identify and not route:
            return _relative(kb, named, 1, 1)
        if kind in (None, "next"):
            # the classifier reads a question about the ladder's order ("X is followed by which level?"):
            # a direction word anywhere says which way
            up, down = bool(_UP_ANYWHERE.search(rest)), bool(_DOWN_ANYWHERE.search(rest))
            if kind == "next" and up != down:
                return _relative(kb, named, 1 if up else -1, far)
        if step in _STEP_DIRECTION:
            stepped = _relative(kb, named, _STEP_DIRECTION[step], far)
            if stepped.level is not None or said:   # one step off the track's end, not said: likelier a misreading
                return stepped
        return Subject(Relation.NAMED, named)

    # no level named: the asker's own level, a place on a track, or the conversation
    me_at = next((i for i, w in enumerate(words) if w in {"me", "myself"}), None)
    above_me = asker is not None and me_at is not None and _cue_before(words, me_at) is not None
    step_up = (asker is not None and plain and _FIRST_PERSON.search(query.norm) is not None
               and _STEP_UP.search(query.norm) is not None)
    expected = asker is not None and plain and _EXPECTED_OF_ME.search(query.norm) is not None
    # "what do i need to learn to get to the next one up": a step in the first person, nothing else to step from
    # (only where no word rule reads the question as the asker's own level: "the KPI target for my level")
    classified = (not (mine or above_me or step_up or expected) and asker is not None and step in _STEP_DIRECTION
                  and plain and _FIRST_PERSON.search(query.norm) is not None
                  and not _FROM_HERE.search(query.norm) and _position(query.norm) is None
                  and (conversation is None or conversation.last_level is None))
    if classified:
        return _relative(kb, asker, _STEP_DIRECTION[step], _steps_said(words, []), mine=True)
    if mine or (asker is not None and _FROM_HERE.search(query.norm)) or above_me or step_up or expected:
        if query.newcomer and asker is None:   # "I just started, which level am I?": the way in
            tr = _the_track(kb, query, track, conversation)
            return Subject(Relation.POSITION, tr.levels[0], position="first")
        if asker is None:
            return Subject(Relation.MINE, None, missing="mine")
        cue = None
        # the words that stand for the asker's level: "above mine", "two levels up from where I am"
        here = [i for i, w in enumerate(words) if w in {"mine", "my", "me", "myself"}]
        here += [i for i, w in enumerate(words[:-1]) if w == "where" and words[i + 1] in {"i", "im"}]
        for at in here:
            cue = _cue_before(words, at)
            if cue is not None:
                break
        if cue is None and _BACK.search(query.norm):
            cue = (-1, 1)     # "which level was I on before this one?"
        if cue is not None:
            return _relative(kb, asker, *cue, mine=True)
        if _NEXT_AFTER.search(query.norm) or _FROM_HERE.search(query.norm) or step_up:
            return _relative(kb, asker, 1, 1, mine=True)
        return Subject(Relation.MINE, asker, anchor=asker)

    along = _along_the_route(kb, query, conversation)
    if along is not None:
        return along

    position = _position(query.norm)
    if query.newcomer and position in (None, "first"):
        # "just got hired on the phones, what's expected of me?": someone new is at the track's first level
        # (not when they ask for another place: "what is the second level? I am new here")
        # (unless a bare title word of that track points elsewhere: "I'm new, what do seniors do?")
        tr = _the_track(kb, query, track, conversation)
        if not any(lv.track == tr.id and lv.id != tr.levels[0].id for lv in query.partial):
            return Subject(Relation.POSITION, tr.levels[0], position="first")

    if (position == "middle" and re.search(r"\bmiddle (level|role|job|grade|title|one|dev\w*)s?\b", query.norm)
            and "middle" in _track_title_words(kb, _the_track(kb, query, track, conversation))):
        position = None    # "what's the Middle level in frontend?": the track has a level called Middle
    if position is not None and (not query.newcomer or position != "first"):
        tr = _the_track(kb, query, track, conversation)
        level = position_level(kb, tr, position)
        if level is not None:
            at = _position_word(query.norm) if _from_an_end(query.norm) is None else None
            cue = _cue_before(words, at) if at is not None else None
            if cue is not None:
                # "one step above the second level", "just under the highest one": a step from a position
                return _relative(kb, level, *cue)
            return Subject(Relation.POSITION, level, position=position)

    last = conversation.last_level if conversation is not None else None
    same = _same_title_elsewhere(kb, query, last)
    if same is not None:
        return Subject(Relation.FOLLOWUP, same, from_context=True, named_here=True)

    if last is not None and last.track in kb.tracks and not query.mentions and _FOLLOWUP_START.search(query.norm):
        # "same for lead" after a frontend question: a title word of the conversation's track
        on_track = {m.level.id: m.level for m in titled(kb, query, kb.tracks[last.track]) if m.level.track == last.track}
        if len(on_track) == 1:
            return Subject(Relation.FOLLOWUP, next(iter(on_track.values())), from_context=True, named_here=True)

    if query.partial:
        # "and for expert?": a bare title word, on the track the conversation was on
        if last is not None:
            same = [lv for lv in query.partial if lv.track == last.track]
            if len(same) == 1:
                return Subject(Relation.FOLLOWUP, same[0], from_context=True, named_here=True)
        return Subject(Relation.DESCRIBE)

    if last is not None and last.level_id and kb.has_level(last.level_id):
        here = kb.level(last.level_id)
        # "what's the one after that": a direction before any of the words pointing back
        cue = next((c for c in (_cue_before(words, i) for i, w in enumerate(words)
                                if w in {"that", "this", "it", "them", "there", "one"}) if c is not None), None)
        if cue is None:
            more = _MORE.search(query.norm)
            if more:
                n = _NUMBER_WORDS.get(more.group(1), 1) if more.group(1) not in {"a", "another"} else 1
                cue = (1 if more.group(5) in _MORE_UP else -1, n)
        if cue is None and _BACK.search(query.norm):
            cue = (-1, 1)
        if cue is None and _FORTH.search(query.norm):
            cue = (1, 1)
        if cue is None and _NEXT_AFTER.search(query.norm) and _FOLLOWUP_START.search(query.norm):
            cue = (1, 1)
        if cue is None and _PREV_NOUN.search(query.norm):
            cue = (-1, 1)    # "what's the previous step?": nothing else is named, so from the conversation's level
        if cue is None and _NEXT_NOUN.search(query.norm):
            cue = (1, 1)     # "what's the next one up called?"
        if cue is None and _PROMOTED_TO_WHAT.search(query.norm):
            cue = (1, 1)     # "and what do they get promoted to?": the level the conversation's one moves up to
        if cue is None and step in _STEP_DIRECTION:
            cue = (_STEP_DIRECTION[step], _steps_said(words, []))   # "ok and the level just after?"
        if cue is not None:
            return replace(_relative(kb, here, *cue), from_context=True)
        if _FOLLOWUP_START.search(query.norm) or _ANAPHOR.search(query.norm) or len(words) <= 4:
            return Subject(Relation.FOLLOWUP, here, from_context=True)
    return Subject(Relation.DESCRIBE)


# a level asked for by what it sits between, not a comparison ("the difference between X and Y")
_BETWEEN = re.compile(r"\b(sits?|sitting|comes?|is|s|lies|level|position|role|step|rung|one|job|grade|title)s? "
                      r"(right |directly |exactly |just )?(in )?between\b|\bhalf ?way between\b|\bin the middle of\b(?! the)")
_HALFWAY = re.compile(r"\b(half ?way|middle|midpoint|mid point)\b")
_SAME_NAME = re.compile(r"\b(same|similar|equivalent|matching) (name|title|rank|word|level)\b|\b(equivalent|counterpart)\b")


def _same_title_elsewhere(kb: Knowledge, query: Query, last: Turn | None) -> Level | None:
    """ "what about the frontend one with the same name?" after Expert Agent (``last``, the conversation's last
    level): the level of the other track whose title shares its distinctive word (Expert Frontend Developer)."""
    if last is None or not last.level_id or not kb.has_level(last.level_id) or not _SAME_NAME.search(query.norm):
        return None
    here = kb.level(last.level_id)
    tid = query.track_hint if query.track_hint and query.track_hint != here.track else None
    tracks = [kb.tracks[tid]] if tid in kb.tracks else [t for t in kb.tracks.values() if t.id != here.track]
    for track in tracks:
        table = _track_title_words(kb, track)
        found = {table[w].id: table[w] for w in normalize(here.title).split() if w in table}
        if len(found) == 1:
            return next(iter(found.values()))
    return None


_OF_THOSE = re.compile(r"\b(" + "|".join(_ORDINALS) + r"|last|final) (one )?of (those|these|the|them|that)"
                       r"( \w+)?( (steps|moves|promotions|jumps|levels|stages|rungs))?\b")


def _along_the_route(kb: Knowledge, query: Query, conversation: Conversation | None) -> Subject | None:
    """ "and how long does the first of those steps take?" after a route from Agent to Senior Agent: the n-th
    step of the route the conversation was about (a step lands on the level it leads to)."""
    last = conversation.last if conversation is not None else None
    if last is None or len(last.level_ids) < 2 or query.mentions:
        return None
    m = _OF_THOSE.search(query.norm)
    if m is None or not all(kb.has_level(i) for i in last.level_ids[:2]):
        return None
    a, b = kb.level(last.level_ids[0]), kb.level(last.level_ids[-1])
    if a.track != b.track or a.id == b.id:
        return None
    low, high = sorted((a, b), key=lambda lv: lv.number)
    levels = bool({"levels", "rungs"} & set(m.group(0).split()))
    route = [lv for lv in kb.tracks[a.track].levels if low.number <= lv.number <= high.number]
    route = route if levels else route[1:]     # the n-th step leads to the (n+1)-th level of the route
    n = len(route) if m.group(1) in {"last", "final"} else _ORDINALS[m.group(1)]
    if not 0 < n <= len(route):
        return None
    return Subject(Relation.POSITION, route[n - 1], position=str(route[n - 1].number), from_context=True)


def _relative(kb: Knowledge, anchor: Level, direction: int, steps: int, mine: bool = False) -> Subject:
    relation = Relation.NEXT if direction > 0 else Relation.PREVIOUS
    level = _step(kb, anchor, direction, steps)
    if level is None:
        where = "above" if direction > 0 else "below"
        track = kb.tracks[anchor.track]
        end = track.levels[-1] if direction > 0 else track.levels[0]
        room = abs(end.number - anchor.number)   # 0 when one step is already off the end
        why = (f"{end.title} is {room} step{'s' if room != 1 else ''} {where} it" if room
               else f"it is the {'top' if direction > 0 else 'first'} of its track")
        return Subject(relation, None, anchor=anchor, steps=steps, mine=mine,
                       missing=f"There is no level {f'{steps} steps ' if steps > 1 else ''}{where} {anchor.title} "
                               f"on {track.title}: {why}.")
    return Subject(relation, level, anchor=anchor, steps=steps, mine=mine)


def _outside(words: list[str], mentions: list[Mention]) -> str:
    named = {i for m in mentions for i in range(m.start, m.end)}
    return " ".join(w for i, w in enumerate(words) if i not in named)


def _within_title(kb: Knowledge, query: Query, track) -> Subject | None:
    """ "the highest level that's still an agent", "the most junior developer role": a position among the levels
    whose title has the word the question uses (a bare title word shared by several levels)."""
    position = _position(query.norm)
    if position not in {"top", "first", "top-ic"}:
        return None
    if _REACH.search(query.norm):
        # "the highest level an agent can reach" is the track's top
        return Subject(Relation.POSITION, track.levels[-1], position="top") if position == "top" else None
    m = query.mentions[0]
    words = _words(query.norm)
    # the title word says what the level is ("still an agent", "an agent role"), not whom it deals with ("a team of agents")
    before, after = set(words[max(0, m.start - 2): m.start]), words[m.end: m.end + 1]
    if not (before & _BEING or set(after) & _PLACE_WORDS):
        return None
    word = m.name
    group = [lv for lv in track.levels if word in normalize(lv.title).split()]
    if len(group) < 2:
        return None
    if position == "top-ic":
        top_ic = position_level(kb, track, "top-ic")
        group = [lv for lv in group if top_ic is None or lv.number <= top_ic.number] or group
    level = group[0] if position == "first" else group[-1]
    return Subject(Relation.POSITION, level, position=position)


_BEING = {"still", "is", "s", "be", "being", "remain", "remains", "stay", "staying", "as", "basically", "technically"}
_PLACE_WORDS = {"level", "levels", "role", "roles", "job", "jobs", "title", "position", "grade", "rank"}
_REACH = re.compile(r"\b(can|could|will|would|to) (reach|get|go|climb|rise|make|end up)\b|\b(reach|reaches|rise to)\b")


# a count of steps said after the name: "minus one", "plus 2", "and skip ahead 2 levels", "then jump up three rungs"
_COUNTED_AFTER = re.compile(r"((?:\w+ ){0,3}?)(minus|plus|\+|less|skip\w* ahead|skip\w* up|jump\w* (?:ahead|up)|"
                            r"go\w* up|mov\w* up|climb\w*|go\w* down|mov\w* down|drop\w*|step\w* down)( by)? "
                            r"(\w+)( (level|step|rung|grade|notch)s?)?\b")
_PROMOTED_TO_WHAT = re.compile(r"\b(promoted|moved up|bumped up|moving up|promotion) (to|into)$"
                               r"|\b(what|which|where)( \w+){0,3} (promoted|moved up|bumped up) (to|into)\b")
_PROMOTED_N = re.compile(r"\b(promot\w*|moved? up|moving up|step\w* up|bump\w* up|climb\w*)(?: \w+)? (twice|thrice|"
                         r"\w+ times)\b")   # "get promoted twice", "climb up three times"
_N_PROMOTIONS = re.compile(r"\b(after|with|following|in) (\w+) (promotions|more promotions|moves up|steps up)\b")
_BEFORE_THAT = re.compile(r"\b(before|prior to) (that|this|it|then|the promotion|they get it)\b")
_PROMOTED_AFTER = re.compile(r"(\w+ )?(gets?|getting|got|is|was|being|goes|go|moves?|moving) (promoted|moved up|bumped up|up)\b")
_TO_AFTER = re.compile(r"(\w+ )?(to|into)\b")   # "promoted from X to Y": a route, Y named after
_PROMOTION = re.compile(r"\b(promot\w*|move\w* up|step\w* up|bump\w* up)\b")
# the question asks where a move starts: "from which level", "promoted to X from what level"
_FROM_WHICH = re.compile(r"\bfrom (which|what|where|whatever)\b|\b(which|what) (level|role|job|position|grade|step|rung)s? "
                         r"(\w+ ){0,5}from\b")


def _promoted_to(words: list[str], mentions: list[Mention], near: bool = False) -> bool:
    """ "promoted to X", "become X", "get into X": the named level is the target, not the anchor. ``near``: only
    the two words right before the name ("how long must I be an X before the next level" is not "be X")."""
    for m in mentions:
        before = " ".join(words[max(0, m.start - (2 if near else 4)): m.start])
        if near:
            before = re.sub(r"\b(be|an?|the)\b", " ", before)
        if _TARGET.search(before):
            return True
    return False


# words that only say which way or how far along the ladder ("what comes right after", "two levels below")
_RELATION_ONLY = (_FILLER | set(_NUMBER_WORDS) | set(_ORDINALS) | {w for w in _UP | _DOWN if " " not in w}
                  | {"what", "whats", "which", "who", "whos", "where", "wat", "wot", "is", "are", "the", "next", "nxt",
                     "previous", "prev", "then", "and", "ok", "so", "comes", "come", "from", "top", "bottom", "highest",
                     "lowest", "last", "first", "middle", "halfway", "on", "in", "for", "track", "ladder", "side",
                     "called", "name", "that", "this", "it", "there", "s", "levl", "lvl", "thing", "frontend", "call",
                     "center", "developer", "developers",
                     # the asker, whose stored level a bare step starts from ("next rung for me?")
                     "me", "my", "mine", "i", "im", "m", "am", "now", "currently"})


def bare_relation(query: Query) -> bool:
    """Does the question say nothing but a relation ("nxt levl aftr expert agent?", "which level comes before the
    QA one?")? Then it is a question about the ladder's order, whatever else the classifier reads into it."""
    rest = [w for w in _words(query.masked) if w not in _RELATION_ONLY and _direction_word(w) is None]
    return not rest

