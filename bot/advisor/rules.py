"""Routing an understood question to its answer: one ordered table of rules, read top-down like
``gapcheck.TRANSITIONS``. Each rule returns an :class:`Answer` or None to pass the question on; the last
one always answers.

    social            hello / thanks / help                       -> what Ladder can do
    out_of_scope      pay, records, rota, IT, whereabouts, ...    -> a polite refusal
    scope_backstop    (the classifier abstained) unlike any career question -> a refusal
    mine_unknown      "my level" with no level stored             -> ask for it (with a way to set it)
    ambiguous_name    "exp agent": a name of two levels           -> ask which
    gap_check         "am I ready for senior?"                    -> a gap check (the front end starts it)
    off_the_ladder    "what comes after the CCO?"                 -> it is the top of its track
    overview          the ladder as a whole                       -> every level
    entry             "how do I become a frontend developer?"     -> the track's first level
    reports_to        "who does a TL report to?"                  -> the level above that names it
    background        glossary / general career facts            -> background reading
    compare           two levels (or mine and one)                -> what differs
    path              from one level to another (or from mine)    -> the route
    relation          next / previous / position / mine / follow-up / promoted to -> that level, saying how
    clarify           two ladders fit equally                     -> ask which
    level             a named or the best-matching level          -> its card, or the part asked for
"""

from __future__ import annotations

import re
from typing import Callable

from bot.advisor.answer import Answer
from bot.advisor.bodies import (aspect_text, compare_text, fact_text, manager_text, next_text, path_text,
                                 requirements_text)
from bot.advisor.composer import Composer
from bot.core.knowledge import Level
from bot.core.render import level_name
from bot.search.query import Intent, content_words
from bot.core.requestbank import OUT_OF_SCOPE
from bot.search.ranking import (BACKGROUND_MARGIN, BACKGROUND_MARGIN_OTHER, BEFORE_ENTRY_SLACK, CLARIFY_MARGIN,
                                NEWCOMER, Ranking)
from bot.search.relations import MINE, Relation, titled, bare_relation
from bot.search.scope import names_an_outsider
from bot.search.scope import DATED_PENALTY, MIN_SCOPE_SCORE, NAMED_SCOPE_MARGIN, POLICY_MESSAGE, ScopeGuard
from bot.search.understanding import ASPECTS, Understanding
from bot.core.render import escape

Rule = Callable[["Context"], Answer | None]
REFUSAL = "I can't find that in the career map."
_RELATION_SUBJECTS = {Relation.NEXT, Relation.PREVIOUS, Relation.POSITION, Relation.MINE, Relation.FOLLOWUP,
                      Relation.BETWEEN}


class Context:
    """What every rule sees: the understanding, the ranking, and the helpers that compose answers."""

    def __init__(self, u: Understanding, ranking: Ranking, compose: Composer, scope: ScopeGuard, track: str | None):
        self.u, self.ranking, self.compose, self.scope, self.track = u, ranking, compose, scope, track
        self.kb = compose.kb
        self.query = u.query
        self.named: list[Level] = [] if self.query.identify else self.query.strong_levels
        ordered = sorted(ranking.level_scores.items(), key=lambda kv: kv[1], reverse=True)
        self.ordered = ordered
        self.best_id = ordered[0][0]
        self.asker = (self.kb.level(u.context.asker_level)
                      if u.context.asker_level and self.kb.has_level(u.context.asker_level) else None)

    def finish(self, level: Level, text: str, source_levels, intent: Intent, aspect: str | None = None) -> Answer:
        relation = self.u.subject.relation.value
        return self.compose.finish(self.query, self.ranking, level, text, source_levels, intent,
                                   kind=self.u.aspect, relation=relation, aspect=aspect)

    def refuse(self, kind: str | None) -> Answer:
        message = POLICY_MESSAGE if kind in {"oos_pay", "policy"} else REFUSAL
        return self.compose.no_answer(self.query, message, suggest=True, ranking=self.ranking, kind=kind)


# -- rules, in order ----------------------------------------------------------------------------------

def social(c: Context) -> Answer | None:
    s = c.u.subject
    stepped = s.from_context and s.relation in {Relation.NEXT, Relation.PREVIOUS, Relation.POSITION}
    if s.resolved and (not s.from_context or stepped) and s.relation != Relation.NAMED \
            and not _TO_THE_BOT.search(c.query.norm):
        # ("ok and the one before it": a step from the conversation's level, not a thank-you)
        # "fe newbie here, what am i even supposed to know": the ladder says which level it is about (but "I'm new
        # here, what can you do?" asks about Ladder)
        return None
    if s.named_here and s.level is not None and not _TO_THE_BOT.search(c.query.norm):
        return None   # "ok same for expert" after a frontend question: a level of the conversation's track, named
    if c.u.social and not c.query.strong_levels:
        return c.compose.social(c.query, c.u.kind)
    return None


# words before the level the asker is (or was) at, not the one to check against: "started as an agent", "being a TL"
_WHERE_I_AM = {"as", "being", "been", "was", "im", "m", "am", "from", "currently", "now"}
_ABOUT_OTHERS = {"oos_other_company", "oos_personal"}
OUTSIDER_SHARE = 0.2   # the out-of-scope kinds' share that, with an outside name, is enough to refuse
_TO_THE_BOT = re.compile(r"\b(you|your|u|ya|bot)\b")


def out_of_scope(c: Context) -> Answer | None:
    s = c.u.subject
    if s.named_here:
        return None   # "what about middle?" after a frontend question: a level of the conversation's track, named
    if s.from_context and s.relation in {Relation.NEXT, Relation.PREVIOUS} and s.level is not None:
        return None   # "and the one right under it?": a step on the ladder from the conversation's level
    if s.relation in {Relation.NEXT, Relation.PREVIOUS, Relation.POSITION} and s.level is not None \
            and bare_relation(c.query):
        return None   # "nxt levl aftr expert agent?": nothing but a step on the ladder, whatever the classifier reads
    if s.mine and s.level is not None and s.relation in {Relation.NEXT, Relation.PREVIOUS} and c.u.kind is None:
        return None   # "honestly where do I go from here?": a step from the asker's stored level; no kind is sure
    if c.query.newcomer and c.u.kind is None:
        return None   # "I just started on the phones, what am I supposed to do?": no single other kind is sure; the backstop judges
    if s.relation == Relation.POSITION and s.level is not None and c.u.kind is None and not c.query.dated:
        return None   # "who's top dog in frontend": the ladder's own words for a place on it, and no kind is sure
    if c.u.out_of_scope:
        return c.refuse(c.u.guess.best_out_of_scope)
    if c.u.kind in OUT_OF_SCOPE and not c.u.subject.from_context:
        # the classifier is sure of one out-of-scope kind: a level named in it ("the Senior Agent level at
        # Amazon", "who's my team lead?") is what the other request is about, not a question about the level
        return c.refuse(c.u.kind)
    return None


def scope_backstop(c: Context) -> Answer | None:
    """With the classifier unsure (or absent), the zero-shot scope check decides, as it did before it."""
    s = c.u.subject
    if c.u.in_scope or c.u.social or s.from_context or s.relation == Relation.MINE or (s.mine and s.resolved):
        return None    # "where do I go from here": a step from the asker's own level, read from the profile
    if s.resolved and s.relation in {Relation.NEXT, Relation.PREVIOUS, Relation.POSITION}:
        return None    # "the very first rung for us phone jockeys": a place the ladder's structure answers
    q = c.query
    guess = c.u.guess
    words = q.norm.split()
    named = frozenset(words[i] for i in q.named_words)
    if (guess.best_out_of_scope in _ABOUT_OTHERS and guess.out_of_scope >= OUTSIDER_SHARE
            and names_an_outsider(c.kb, q.text)) or names_an_outsider(c.kb, q.text, owner_or_place=True, levels=named):
        # "what are Microsoft's engineering levels?", "what does Level 3 mean at Salesforce?": unsure, but another
        # company (or a person) is named
        return c.refuse(guess.best_out_of_scope)
    general = c.scope.general(c.ranking)
    margin, kind = c.scope.named(q, c.ranking)
    if q.dated:
        general -= DATED_PENALTY
        margin = None if margin is None else margin - DATED_PENALTY
    if q.newcomer:
        # "I just started on the phones, what am I supposed to do?": points at the entry level as a bare level word would
        general += NEWCOMER
    if not q.strong_levels and not q.partial and general < MIN_SCOPE_SCORE:
        return c.refuse(kind)
    if margin is not None and (q.mentions or q.partial) and margin < -NAMED_SCOPE_MARGIN:
        # "when is the team lead meeting today?": a level is named, but the request is of another kind
        return c.refuse(kind)
    return None


def ambiguous_name(c: Context) -> Answer | None:
    for name, levels in c.query.ambiguous_names:
        return c.compose.clarify(c.query, c.ranking, [lv.id for lv in levels], c.u.kind, name=name)
    return None


def mine_unknown(c: Context) -> Answer | None:
    s = c.u.subject
    if s.relation == Relation.MINE and s.level is None:
        return c.compose.ask_for_level(c.query, c.ranking, c.u.aspect)
    return None


def gap_check(c: Context) -> Answer | None:
    """ "am I ready for senior?", "check my readiness": the front end starts a gap check (against the level
    the question is about, when it names one); the text says so for front ends that cannot."""
    if c.u.kind != "gap_check":
        return None
    s = c.u.subject
    level = s.level if s.level is not None else (c.named[0] if c.named else None)
    if s.relation == Relation.NAMED and level is not None:
        # "I started as an agent 2 years ago ... does that make me senior?": where the asker is comes first, the
        # level to check against last (a bare title word read on the track of the level named)
        words = c.query.norm.split()
        said = [m for m in c.query.mentions + titled(c.kb, c.query, c.kb.tracks[level.track])
                if not set(words[max(0, m.start - 3): m.start]) & _WHERE_I_AM]
        level = max(said, key=lambda m: m.start).level if said else level
    if level is None:
        return c.compose.gap_check(c.query, c.ranking)
    text = (f"Let's see how ready you are for *{level_name(level)}*: a gap check walks through what it asks for, "
            f"one requirement at a time (`/ladder gap {level.id}`).\n\n"
            + requirements_text(c.kb, level, c.compose.related))
    return c.finish(level, text, [level.id], Intent.REQUIREMENTS)


def off_the_ladder(c: Context) -> Answer | None:
    """ "what comes after the CCO?": the relation is known, and there is nothing there."""
    s = c.u.subject
    if s.relation in {Relation.NEXT, Relation.PREVIOUS} and s.level is None and s.anchor is not None:
        if _before_the_ladder(c):
            return None   # background reading answers what comes before the first level
        text = escape(s.missing) + "\n\n" + requirements_text(c.kb, s.anchor, c.compose.related)
        return c.finish(s.anchor, text, [s.anchor.id], Intent.REQUIREMENTS)
    return None


def overview(c: Context) -> Answer | None:
    if c.query.strong_levels or c.u.subject.relation in _RELATION_SUBJECTS:
        return None
    if c.u.kind == "overview" or (c.u.kind is None and c.query.intent == Intent.OVERVIEW):
        return c.compose.overview(c.query, c.ranking, c.track, c.u.kind)
    return None


def entry(c: Context) -> Answer | None:
    q = c.query
    if q.entry and c.u.subject.relation == Relation.DESCRIBE:
        first = c.kb.track(c.track or q.track_hint).levels[0]
        return c.finish(first, requirements_text(c.kb, first, c.compose.related), [first.id], Intent.REQUIREMENTS)
    return None


# A description that names a level it manages ("... and develops the team leads") is answered by the level its
# duties fit, not the named level's manager, when that level's score is this far ahead (the scores' scale: ~1).
DESCRIPTION_OVER_MANAGER = 0.15


def reports_to(c: Context) -> Answer | None:
    q = c.query
    s = c.u.subject
    if not q.manager_of or (s.relation in {Relation.NEXT, Relation.PREVIOUS} and s.steps > 1):
        return None   # "which level is two steps above Senior Agent?" counts steps; it does not ask for a manager
    named = q.levels[0]
    boss, lines = c.compose.manager(named, c.ranking)
    if boss is None:
        return None
    if c.u.kind == "describe" and c.best_id != boss.id \
            and c.ranking.level_scores[c.best_id] - c.ranking.level_scores[boss.id] > DESCRIPTION_OVER_MANAGER:
        return None   # "which role manages budget ..., and develops the team leads?": the duties point elsewhere
    return c.finish(boss, manager_text(c.kb, boss, named, lines, c.compose.hits(c.ranking)), [boss.id], Intent.FACT)


def background(c: Context) -> Answer | None:
    """Glossary and general career facts come from background reading when no level is named."""
    r, q = c.ranking, c.query
    if not r.background or (c.u.subject.relation in _RELATION_SUBJECTS and not _before_the_ladder(c)):
        return None
    note_id, note_score = r.background
    if q.before_entry:
        # "what jobs do people have before becoming an agent?": nothing on the ladder comes before its first
        # level, so background reading answers when it fits about as well as the level's own text
        level = q.levels[0]
        if c.u.kind == "background" or \
                note_score > float(r.chunk_scores[c.compose.ranker.level_chunks[level.id]].max()) - BEFORE_ENTRY_SLACK:
            return c.compose.background(q, r, note_id, c.u.kind)
    if q.defines and c.u.kind not in OUT_OF_SCOPE:
        # "my TL says my FCR is low, what even is FCR?": a term the glossary's headings define, asked about
        return c.compose.background(q, r, q.defines, "glossary")
    if c.u.kind == "glossary":
        if c.named and not content_words(c.kb, q.masked):
            return None   # "what's a Training & Quality Lead?": the term asked about is the level
        # "the TL description says 10-15 FTE, what's an FTE?": a named level is context for a term
        return c.compose.background(q, r, note_id, c.u.kind)
    if c.named or q.identify:
        return None
    if c.u.kind == "background" and not q.partial:
        return c.compose.background(q, r, note_id, c.u.kind)
    if c.u.kind is not None and c.u.kind not in {"glossary", "background"}:
        return None
    # the classifier unsure: background when a note fits clearly better than the best level's evidence
    level_best = float(r.chunk_scores[c.compose.ranker.level_chunks[c.best_id]].max()) + r.adjustments.get(c.best_id, 0.0)
    needed = BACKGROUND_MARGIN if q.intent == Intent.GLOSSARY else BACKGROUND_MARGIN_OTHER
    if note_score > level_best + needed:
        return c.compose.background(q, r, note_id, c.u.kind)
    return None


_PLACE_AFTER = {"level", "role", "position", "job", "grade", "title", "rank"}


def _named_as_a_level(c: Context) -> Level | None:
    """ "tell me about the Agent level": a common title word ("agent") said as the name of a level."""
    s, q = c.u.subject, c.query
    if s.relation != Relation.NAMED or s.level is None or q.identify:
        return None
    words = q.norm.split()
    return s.level if any(m.level.id == s.level.id and words[m.end: m.end + 1] and words[m.end] in _PLACE_AFTER
                          and words[m.start - 1: m.start] in (["the"], ["an"], ["a"], ["this"], ["that"])
                          for m in q.mentions) else None


def _before_the_ladder(c: Context) -> bool:
    """ "what jobs do people come from before becoming an agent?": the step below a track's first level, asked
    as background (where people come from), not as a level."""
    s = c.u.subject
    return (c.query.before_entry and c.u.kind == "background" and s.relation == Relation.PREVIOUS
            and s.level is None)


def compare(c: Context) -> Answer | None:
    if c.u.subject.relation == Relation.BETWEEN:
        return None   # "what's between Middle and Lead": the level between them, not their differences
    levels = _levels_with_mine(c)
    wants = c.u.kind == "compare" or (c.u.kind is None and c.query.intent == Intent.COMPARE)
    if c.u.subject.relation == Relation.FOLLOWUP and wants and c.u.context.last_level:
        last = c.kb.level(c.u.context.last_level.level_id)
        if last.id != c.u.subject.level.id:
            levels = [last, c.u.subject.level]
    if wants and len(levels) >= 2:
        a, b = levels[0], levels[1]
        return c.finish(b, compare_text(c.kb, a, b, c.compose.related), [a.id, b.id], Intent.COMPARE)
    return None


def path(c: Context) -> Answer | None:
    q = c.query
    wants = c.u.kind == "path" or (c.u.kind is None and q.intent == Intent.PATH) or q.intent == Intent.PATH
    levels = _levels_with_mine(c, everyone=True)
    if wants and len(levels) >= 2:
        # "from agent to team lead": a bare "agent" counts here, its place in the sentence says it all
        start, goal = levels[0], levels[-1]
        return c.finish(goal, path_text(c.kb, start, goal, c.compose.related), [start.id, goal.id], Intent.PATH)
    return None


def relation(c: Context) -> Answer | None:
    """A level read from the ladder's structure: after/before/N steps, a position, the asker's, the conversation's."""
    s = c.u.subject
    if s.relation not in _RELATION_SUBJECTS and s.relation != Relation.PROMOTED_TO or s.level is None:
        return None
    level = s.level
    phrase = s.phrase(c.kb)
    aspect = c.u.aspect
    if s.relation == Relation.NEXT and s.steps == 1 and aspect in {"next", "path", "fact", "describe", "reports_to"}:
        text = next_text(c.kb, s.anchor, level, c.compose.related)
        return c.finish(level, _with(phrase, text), [s.anchor.id, level.id], Intent.PATH)
    if s.relation in {Relation.NEXT, Relation.PREVIOUS} and aspect == "path" and s.anchor is not None:
        a, b = (s.anchor, level) if s.relation == Relation.NEXT else (level, s.anchor)
        return c.finish(level, _with(phrase, path_text(c.kb, a, b, c.compose.related)), [a.id, b.id], Intent.PATH)
    if s.relation == Relation.MINE and aspect in {"next", "path"} and c.u.step.kind != "same":
        nxt = c.kb.next_level(level)
        if nxt is not None:
            return c.finish(nxt, _with(phrase, next_text(c.kb, level, nxt, c.compose.related)), [level.id, nxt.id],
                            Intent.PATH)
    if aspect == "reports_to" and s.relation in {Relation.FOLLOWUP, Relation.MINE} and not _YES_NO.match(c.query.norm):
        # "who manages them?" after a question about QA Specialists
        boss, lines = c.compose.manager(level, c.ranking)
        if boss is not None:
            return c.finish(boss, manager_text(c.kb, boss, level, lines, c.compose.hits(c.ranking)), [boss.id], Intent.FACT)
    part = aspect if aspect in ASPECTS else "requirements"
    return c.finish(level, _with(phrase, aspect_text(c.kb, level, part, c.compose.related)), [level.id],
                    Intent.REQUIREMENTS if part == "requirements" else Intent.FACT, aspect=part)


def clarify(c: Context) -> Answer | None:
    """Two tracks equally likely and nothing names a track: ask."""
    q = c.query
    if c.track or q.track_hint or c.named:
        return None
    partial_tracks = {lv.track for lv in q.partial}
    if len(partial_tracks) > 1:
        options = sorted(q.partial, key=lambda lv: -c.ranking.level_scores[lv.id])
        return c.compose.clarify(q, c.ranking, [lv.id for lv in options], c.u.kind)
    best_score = c.ordered[0][1]
    best_track = c.kb.level(c.best_id).track
    rival = next(((lid, s) for lid, s in c.ordered[1:] if c.kb.level(lid).track != best_track), None)
    if rival and best_score - rival[1] < CLARIFY_MARGIN:
        return c.compose.clarify(q, c.ranking, [c.best_id, rival[0]], c.u.kind)
    return None


def level(c: Context) -> Answer:
    """A named level, or the best-scoring one: its card, or the part of it the question asks for."""
    q = c.query
    named = c.named
    if q.intent == Intent.NEXT and len(q.levels) == 1 and c.u.kind in {None, "next"} and c.u.step.kind != "same":
        here = q.levels[0]
        nxt = c.kb.next_level(here)
        if nxt is not None:
            return c.finish(nxt, next_text(c.kb, here, nxt, c.compose.related), [here.id, nxt.id], Intent.PATH)
    if len(named) > 1:
        # several levels named, no compare/path words: the best-scoring of them
        chosen = c.kb.level(max((lv.id for lv in named), key=lambda lid: c.ranking.level_scores[lid]))
    else:
        chosen = named[0] if named else (_named_as_a_level(c) or c.kb.level(c.best_id))
    aspect = c.u.kind
    if aspect in ASPECTS and aspect != "requirements" and (named or aspect != "duties"):
        return c.finish(chosen, aspect_text(c.kb, chosen, aspect, c.compose.related), [chosen.id], Intent.FACT,
                        aspect=aspect)
    if aspect == "requirements" or (aspect is None and q.intent == Intent.REQUIREMENTS and (named or not q.identify)):
        return c.finish(chosen, requirements_text(c.kb, chosen, c.compose.related), [chosen.id], Intent.REQUIREMENTS)
    if q.intent == Intent.FACT or not named:
        return c.finish(chosen, fact_text(c.kb, chosen, c.compose.hits(c.ranking)), [chosen.id], Intent.FACT)
    return c.finish(chosen, requirements_text(c.kb, chosen, c.compose.related), [chosen.id], Intent.REQUIREMENTS)


RULES: tuple[tuple[str, Rule], ...] = (
    ("social", social),
    ("out_of_scope", out_of_scope),
    ("scope_backstop", scope_backstop),
    ("mine_unknown", mine_unknown),
    ("ambiguous_name", ambiguous_name),
    ("gap_check", gap_check),
    ("off_the_ladder", off_the_ladder),
    ("overview", overview),
    ("entry", entry),
    ("reports_to", reports_to),
    ("background", background),
    ("compare", compare),
    ("path", path),
    ("relation", relation),
    ("clarify", clarify),
    ("level", level),
)


def route(c: Context) -> Answer:
    for _name, rule in RULES:
        answer = rule(c)
        if answer is not None:
            return answer
    raise AssertionError("the last rule always answers")   # pragma: no cover


# -- helpers ------------------------------------------------------------------------------------------

# "does that one manage the QA people?" asks about the level itself (yes or no), "who manages them?" for another
_YES_NO = re.compile(r"(does|do|is|are|can|will|would|has|have|did)\b")


def _with(phrase: str, text: str) -> str:
    return f"{phrase}\n\n{text}" if phrase else text


def _levels_with_mine(c: Context, everyone: bool = False) -> list[Level]:
    """The levels a compare / path is between: the named ones, with the asker's own first when the
    question says "my level" / "from here"."""
    levels = list(c.query.levels if everyone else c.named)
    if c.asker is not None and MINE.search(c.query.norm) and c.asker not in levels:
        levels.insert(0, c.asker)
    return levels

