"""Skills related across levels by meaning: "Complex Problem Solving" builds on "Problem Solving".

Each skill's "name: description" is embedded when the index is built (``skills.npy``); two skills of
neighbouring levels whose vectors are close enough are one skill growing, not a new one.
"""

from __future__ import annotations

import numpy as np

from bot.core.knowledge import Knowledge, Level
from bot.search.embedders import Embedder
from bot.search.retrieval import Index, lexical_tokens, skill_texts

SKILL_BUILDS_ON = 0.55      # cosine of two skills ("name: description") above which the higher one builds on the lower


def _name_within(a: str, b: str) -> bool:
    """One skill name inside the other, word for word: "Problem Solving" in "Complex Problem Solving"."""
    wa, wb = set(lexical_tokens(a)), set(lexical_tokens(b))
    return bool(wa and wb) and (wa <= wb or wb <= wa)


def _by_name(skill, lower: Level):
    return next((o for o in lower.skills if o.name.lower() == skill.name.lower() or _name_within(skill.name, o.name)), None)


def split_skills(level: Level, lower: Level | None, related=None) -> tuple[list, list]:
    """``level``'s skills: the genuinely new ones, and (skill, the skill of ``lower`` it builds on) pairs."""
    if lower is None:
        return list(level.skills), []
    related = related or _by_name
    new, builds = [], []
    for s in level.skills:
        base = related(s, lower)
        if base is None:
            new.append(s)
        else:
            builds.append((s, base))
    return new, builds


class SkillRelations:
    def __init__(self, kb: Knowledge, index: Index, embedder: Embedder):
        # embedded when the index is built (skills.npy), at start-up only for an index without them
        skills = skill_texts(kb)
        self._skill_row = {key: i for i, key in enumerate(skills)}
        stored = getattr(index, "skill_vectors", None) or {}
        if skills and all(key in stored for key in skills):
            self._skill_vecs = np.stack([stored[key] for key in skills])
        else:
            self._skill_vecs = embedder.encode([f"{n}: {d}" for n, d in skills]) if skills else np.zeros((0, 1))
        self._relations: dict[tuple[str, str, str], object] = {}

    def __call__(self, skill, lower: Level):
        return self.related(skill, lower)

    def related(self, skill, lower: Level):
        """The skill of ``lower`` that ``skill`` builds on ("Complex Problem Solving" on "Problem Solving"), or None."""
        key = (skill.name, skill.description, lower.id)
        if key not in self._relations:
            self._relations[key] = self.relate(skill, lower)
        return self._relations[key]

    def relate(self, skill, lower: Level):
        i = self._skill_row.get((skill.name, skill.description))
        best, best_sim = None, SKILL_BUILDS_ON
        for other in lower.skills:
            if _name_within(skill.name, other.name):
                return other
            j = self._skill_row.get((other.name, other.description))
            if i is not None and j is not None:
                sim = float(self._skill_vecs[i] @ self._skill_vecs[j])
                if sim >= best_sim:
                    best, best_sim = other, sim
        return best

