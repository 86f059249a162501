"""The labelled request bank (``knowledge/requests/*.yaml``): what people ask, labelled with the kind of answer
they want. HR reviews it like the rest of ``knowledge/``; the request classifier learns from it when the
index is built. Pure data and validation: no model here.

A file maps each kind to its examples::

    skills:
      - which skills does an expert agent have
      - what do I need to be good at as a TL
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)   # libyaml where built with it: ~10x faster

# Every kind of request, in scope first. "describe" asks which level does some work.
IN_SCOPE = ("requirements", "experience", "skills", "numbers", "duties", "describe", "compare", "path", "next",
            "reports_to", "overview", "glossary", "background", "gap_check")
SOCIAL = ("greeting", "thanks", "help")
OUT_OF_SCOPE = ("oos_personal", "oos_scheduling", "oos_pay", "oos_it", "oos_whereabouts", "oos_other_company",
                "oos_chitchat")
KINDS = IN_SCOPE + SOCIAL + OUT_OF_SCOPE
# ``knowledge/steps/*.yaml``: which way a question points from the level(s) it names (or, naming none, from the
# conversation's level): the level itself, the one(s) above, below, or the one between two named levels.
STEPS = ("same", "up", "down", "between")
MIN_EXAMPLES = 3     # a kind with fewer cannot be learned, nor cross-validated
MAX_CHARS = 500


class BankError(ValueError):
    """A problem in a bank file, naming the file, the kind and the example."""

    def __init__(self, path: Path, message: str):
        self.path, self.message = path, message
        super().__init__(f"{path}: {message}")


@dataclass(frozen=True)
class Example:
    text: str
    kind: str
    source: str      # the file it came from, relative to knowledge/


def bank_files(root: Path, folder: str = "requests") -> list[Path]:
    return sorted((Path(root) / folder).glob("*.yaml"))


def load_bank(root: str | Path, folder: str = "requests", kinds: tuple[str, ...] = KINDS) -> tuple[Example, ...]:
    """Every example in ``<root>/<folder>/*.yaml``, validated: known ``kinds``, non-empty single-line text,
    no sentence under two kinds, at least :data:`MIN_EXAMPLES` per kind that appears. No files: empty."""
    root = Path(root)
    out: list[Example] = []
    seen: dict[str, tuple[str, Path]] = {}
    for path in bank_files(root, folder):
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
        except yaml.YAMLError as exc:
            raise BankError(path, f"not valid YAML ({exc})") from None
        if data is None:
            continue
        if not isinstance(data, dict):
            raise BankError(path, "must map each kind to a list of example questions")
        for kind, examples in data.items():
            if kind not in kinds:
                raise BankError(path, f"unknown kind '{kind}' (kinds: {', '.join(kinds)})")
            if not isinstance(examples, list) or not examples:
                raise BankError(path, f"{kind}: must be a non-empty list of questions")
            for i, text in enumerate(examples):
                if not isinstance(text, str) or not text.strip():
                    raise BankError(path, f"{kind}: example {i + 1} is not a question (got {text!r})")
                text = " ".join(text.split())
                if len(text) > MAX_CHARS:
                    raise BankError(path, f"{kind}: example {i + 1} is longer than {MAX_CHARS} characters")
                key = text.casefold()
                if key in seen:
                    other, where = seen[key]
                    if other != kind:
                        raise BankError(path, f"{kind}: {text!r} is also labelled '{other}' in {where.name}")
                    continue   # the same sentence twice under one kind: counted once
                seen[key] = (kind, path)
                out.append(Example(text, kind, path.relative_to(root).as_posix()))
    counts: dict[str, int] = {}
    for ex in out:
        counts[ex.kind] = counts.get(ex.kind, 0) + 1
    for kind, n in counts.items():
        if n < MIN_EXAMPLES:
            where = next(ex.source for ex in out if ex.kind == kind)
            raise BankError(root / where, f"{kind}: {n} example(s); a kind needs at least {MIN_EXAMPLES}")
    return tuple(out)


def load_steps(root: str | Path) -> tuple[Example, ...]:
    """The step bank, ``<root>/steps/*.yaml`` (kinds: :data:`STEPS`)."""
    return load_bank(root, "steps", STEPS)
