"""'Did you mean …?' for an unknown ``/ladder`` word: close in spelling, or close in meaning, never for
markup or nonsense.

Spelling is a plain Levenshtein ratio (rapidfuzz): "shwo" -> show, "comapre" -> compare, while "a" or
"asdfgh" are close to nothing (a partial-match scorer would pair any letter with some command). Meaning is
MiniLM's cosine between the word and what each command does: "promote" -> path, "ready" -> gap.
"""

from __future__ import annotations

import re
from typing import Mapping

import numpy as np
from rapidfuzz import fuzz, process

SPELLING_CUTOFF = 70      # fuzz.ratio: "shwo"/"show" 75, "pth"/"path" 86; "asdfgh"/"ask" 44
MEANING_CUTOFF = 0.40     # cosine of the word and a command's description
_WORD = re.compile(r"[a-z]{3,20}")
_VOWELS = re.compile(r"[aeiouy]")


def plausible_word(word: str) -> bool:
    """A word a person might mean as a command: letters only (no markup, mentions, emoji codes), a vowel."""
    return bool(_WORD.fullmatch(word)) and bool(_VOWELS.search(word))


def by_spelling(word: str, commands: list[str]) -> str | None:
    if not plausible_word(word):
        return None
    found = process.extractOne(word, commands, scorer=fuzz.ratio, score_cutoff=SPELLING_CUTOFF)
    return found[0] if found else None


class CommandMeanings:
    """Each command's description embedded once; the command closest in meaning to a word, if close enough."""

    def __init__(self, embedder, descriptions: Mapping[str, str]):
        self.embedder = embedder
        self.names = list(descriptions)
        self.vectors = np.asarray(embedder.encode([f"{n}: {d}" for n, d in descriptions.items()]), dtype=np.float32)

    def closest(self, word: str) -> str | None:
        if not plausible_word(word):
            return None
        sims = self.vectors @ np.asarray(self.embedder.encode([word])[0], dtype=np.float32)
        best = int(np.argmax(sims))
        return self.names[best] if float(sims[best]) >= MEANING_CUTOFF else None


def did_you_mean(word: str, commands: list[str], meanings: CommandMeanings | None = None) -> str | None:
    word = word.lower()
    return by_spelling(word, commands) or (meanings.closest(word) if meanings is not None else None)
