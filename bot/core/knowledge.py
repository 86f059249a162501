"""The ladder data: load ``knowledge/`` into validated, immutable models.

Layout of a knowledge directory::

    tracks/<track-id>.yaml   one file per track (written by ``python -m bot import-map``)
    paths.yaml               promotions and branch moves between levels
    reference/*.md           background notes (industry reading, never company policy)
    titles.yaml              HR's level titles and aliases (input of the importer)

Every problem is reported as a :class:`KnowledgeError` that names the file, the level and the field.
This module has no Slack and no SQL in it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from bot.core.levelnames import LevelNotFound, build_name_table, resolve_level  # LevelNotFound: raised here too
from bot.core.requestbank import BankError, load_bank, load_steps
from bot.core.text import escape

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]

SECTION_LABELS = {"experience": "Experience", "responsibilities": "Area of Responsibility", "skills": "Skills"}


class KnowledgeError(Exception):
    """A knowledge file is missing or invalid. ``str()`` names file, level and field."""

    def __init__(self, file: str | Path, message: str, *, level: str | None = None, field: str | None = None):
        self.file = str(file)
        self.level = level
        self.field = field
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = [self.file]
        if self.level:
            where.append(f"level {self.level}")
        if self.field:
            where.append(self.field)
        return f"{': '.join(where)}: {self.message}"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Experience(_Model):
    text: Text
    min_months: int | None = Field(default=None, ge=0)


class Skill(_Model):
    name: Text
    description: Text


# Each metric a threshold states: its label (level cards, answers) and what it measures in the words people
# use (embedded with the chunk that states it, so "95% of target" or "a team of 12" finds it).
METRIC_LABELS = {"kpi_achievement": "KPI achievement", "team_size": "Team size",
                 "operation_size": "Size of operation led"}
METRIC_MEANINGS = {"kpi_achievement": "performance against individual KPI targets",
                   "team_size": "size of the team of agents managed",
                   "operation_size": "size of the operation managed, in staff"}


class Threshold(_Model):
    """A number the level's text states, e.g. KPI achievement >= 105 % or a team of 10-15 FTE."""

    metric: Literal["kpi_achievement", "team_size", "operation_size"]
    unit: Literal["percent", "fte"]
    min: float | None = None
    max: float | None = None
    section: Literal["experience", "responsibilities", "skills"]
    skill: str | None = None
    text: Text

    @model_validator(mode="after")
    def _has_a_bound(self) -> "Threshold":
        if self.min is None and self.max is None:
            raise ValueError("a threshold needs min or max")
        return self

    @property
    def label(self) -> str:
        return METRIC_LABELS[self.metric]

    @property
    def meaning(self) -> str:
        return METRIC_MEANINGS[self.metric]

    def describe(self) -> str:
        unit = "%" if self.unit == "percent" else " FTE"
        if self.min is not None and self.max is not None:
            return f"{_num(self.min)}–{_num(self.max)}{unit}"
        if self.min is not None:
            return f"≥ {_num(self.min)}{unit}" if self.unit == "percent" else f"{_num(self.min)}+{unit}"
        return f"≤ {_num(self.max)}{unit}"


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


class Level(_Model):
    id: Slug
    number: int = Field(ge=1)
    title: Text
    aliases: list[Text] = Field(default_factory=list)
    experience: Experience
    responsibilities: list[Text] = Field(min_length=1)
    skills: list[Skill] = Field(min_length=1)
    thresholds: list[Threshold] = Field(default_factory=list)
    # Filled in by the loader from the file the level lives in; never written to YAML.
    track: str = Field(default="", exclude=True)

    @property
    def label(self) -> str:
        """``L3 Senior Agent``: how a level is named to people."""
        return f"L{self.number} {self.title}"

    def threshold_for(self, skill_name: str) -> Threshold | None:
        return next((t for t in self.thresholds if t.skill == skill_name), None)


class Track(_Model):
    id: Slug
    title: Text
    default: bool = False
    levels: list[Level] = Field(min_length=1)

    @model_validator(mode="after")
    def _levels_numbered(self) -> "Track":
        seen: set[str] = set()
        for index, level in enumerate(self.levels, start=1):
            if level.number != index:
                raise _LevelProblem(level.id, "number", f"expected {index} (levels are numbered 1..N in order), got {level.number}")
            if level.id in seen:
                raise _LevelProblem(level.id, "id", "duplicate id in this track")
            seen.add(level.id)
        return self

    def level_by_number(self, number: int) -> Level | None:
        return self.levels[number - 1] if 1 <= number <= len(self.levels) else None


class Move(_Model):
    from_: Slug = Field(alias="from")
    to: Slug
    kind: Literal["promotion", "branch"]
    typical_time: str | None = None
    min_months: int | None = Field(default=None, ge=0)
    note: str | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class PathsFile(_Model):
    moves: list[Move] = Field(min_length=1)


@dataclass(frozen=True)
class ReferenceSection:
    heading: str
    text: str


@dataclass(frozen=True)
class ReferenceNote:
    """A background note: industry reading, labelled as such, never company policy."""

    id: str
    title: str
    source: str
    sections: tuple[ReferenceSection, ...]
    kind: str = "background"

    @property
    def doc_id(self) -> str:
        return f"reference/{self.id}"


class _LevelProblem(ValueError):
    def __init__(self, level: str, field: str, message: str):
        self.level, self.field, self.message = level, field, message
        super().__init__(f"{level}: {field}: {message}")


@dataclass(frozen=True)
class Knowledge:
    tracks: dict[str, Track]
    moves: tuple[Move, ...]
    references: tuple[ReferenceNote, ...]
    version: str
    root: Path | None = None
    requests: tuple = ()        # the labelled request bank (bot.requestbank.Example), for the request classifier
    steps: tuple = ()           # the labelled step bank (same / up / down / between), for the step classifier
    _by_id: dict[str, Level] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        for track in self.tracks.values():
            for level in track.levels:
                self._by_id[level.id] = level

    # -- lookups ---------------------------------------------------------------------------
    @property
    def default_track(self) -> Track:
        return next(t for t in self.tracks.values() if t.default)

    def track(self, track_id: str) -> Track:
        try:
            return self.tracks[track_id]
        except KeyError:
            known = ", ".join(self.tracks)
            raise LevelNotFound(track_id, f"There is no track '{escape(track_id)}'. Tracks: {escape(known)}.") from None

    def levels(self, track: str | None = None) -> list[Level]:
        if track:
            return list(self.track(track).levels)
        return [level for t in self.tracks.values() for level in t.levels]

    def level(self, level_id: str) -> Level:
        try:
            return self._by_id[level_id]
        except KeyError:
            raise LevelNotFound(level_id, f"There is no level with id '{escape(level_id)}'.") from None

    def has_level(self, level_id: str) -> bool:
        return level_id in self._by_id

    def previous_level(self, level: Level) -> Level | None:
        return self.tracks[level.track].level_by_number(level.number - 1)

    def below(self, level: Level) -> Level | None:
        """The level a promotion into this one comes from (its own branch: Team Lead's is Expert Agent,
        not the quality branch's Training & Quality Lead), else the one numbered below it."""
        source = next((m.from_ for m in self.moves if m.to == level.id and m.kind == "promotion"), None)
        return self.level(source) if source and self.has_level(source) else self.previous_level(level)

    def next_level(self, level: Level) -> Level | None:
        return self.tracks[level.track].level_by_number(level.number + 1)

    def moves_from(self, level_id: str) -> list[Move]:
        return [m for m in self.moves if m.from_ == level_id]

    def reference(self, note_id: str) -> ReferenceNote:
        return next(n for n in self.references if n.id == note_id)

    def resolve(self, name: str, track: str | None = None) -> Level:
        """Find a level by id, title, alias, ``L3``/``level 3``, any case, small typos."""
        return resolve_level(self, name, track)

    @cached_property
    def level_names(self) -> dict[str, list[Level]]:
        """Every normalised name (id, title, alias) -> the levels it names."""
        return build_name_table(self)


# -- loading -----------------------------------------------------------------------------------

# libyaml's parser where PyYAML was built with it: the same documents, about 10x faster to read (the request
# bank is 2,300 lines; pure-Python parsing was three quarters of a start-up's knowledge loading)
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str) -> Any:
    """``yaml.safe_load`` with :data:`_LOADER`."""
    return yaml.load(text, Loader=_LOADER)


def read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise KnowledgeError(path, "file not found") from None
    except UnicodeDecodeError as exc:
        raise KnowledgeError(path, f"not UTF-8 text ({exc.reason})") from None
    try:
        return safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise KnowledgeError(path, f"invalid YAML{where}: {getattr(exc, 'problem', exc)}") from None


def validation_error(path: Path, raw: Any, exc: ValidationError) -> KnowledgeError:
    """Turn pydantic's first error into one line naming the level and the field."""
    err = exc.errors()[0]
    loc = list(err.get("loc", ()))
    ctx_error = (err.get("ctx") or {}).get("error")
    if isinstance(ctx_error, _LevelProblem):
        return KnowledgeError(path, ctx_error.message, level=ctx_error.level, field=ctx_error.field)
    level = None
    if len(loc) >= 2 and loc[0] == "levels" and isinstance(loc[1], int):
        levels = raw.get("levels") if isinstance(raw, dict) else None
        entry = levels[loc[1]] if isinstance(levels, list) and loc[1] < len(levels) else None
        level_id = entry.get("id") if isinstance(entry, dict) else None
        level = str(level_id) if level_id else f"#{loc[1] + 1}"
        loc = loc[2:]
    field_name = ".".join(str(p) for p in loc) or None
    message = err.get("msg", "invalid value")
    if err.get("type") == "too_short" and loc:
        message = "must not be empty"
    return KnowledgeError(path, message, level=level, field=field_name)


def load_track(path: Path) -> Track:
    raw = read_yaml(path)
    if not isinstance(raw, dict):
        raise KnowledgeError(path, "expected a mapping with 'id', 'title' and 'levels'")
    try:
        track = Track.model_validate(raw)
    except ValidationError as exc:
        raise validation_error(path, raw, exc) from None
    if track.id != path.stem:
        raise KnowledgeError(path, f"track id '{track.id}' does not match the file name '{path.stem}'", field="id")
    levels = [level.model_copy(update={"track": track.id}) for level in track.levels]
    return track.model_copy(update={"levels": levels})


_FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n(.*)\Z", re.S)


def load_reference(path: Path) -> ReferenceNote:
    text = path.read_text(encoding="utf-8")
    match = _FRONT_MATTER.match(text)
    if not match:
        raise KnowledgeError(path, "missing front matter (--- id/title/kind/source ---)")
    try:
        meta = safe_load(match.group(1)) or {}
    except yaml.YAMLError as exc:
        raise KnowledgeError(path, f"invalid front matter: {exc}") from None
    for key in ("title", "source", "kind"):
        if not str(meta.get(key) or "").strip():
            raise KnowledgeError(path, "missing", field=key)
    if meta["kind"] != "background":
        raise KnowledgeError(path, f"kind must be 'background', got '{meta['kind']}'", field="kind")
    sections: list[ReferenceSection] = []
    for chunk in re.split(r"^## ", match.group(2), flags=re.M)[1:]:
        heading, _, body = chunk.partition("\n")
        body = " ".join(body.split())
        if not body:
            raise KnowledgeError(path, "section has no text", field=heading.strip())
        sections.append(ReferenceSection(heading.strip(), body))
    if not sections:
        raise KnowledgeError(path, "no '## ' sections", field="body")
    return ReferenceNote(
        id=str(meta.get("id") or path.stem), title=str(meta["title"]), source=str(meta["source"]),
        sections=tuple(sections), kind="background",
    )


def knowledge_files(root: Path) -> list[Path]:
    """The files whose content defines what Ladder knows (and so its version)."""
    files = sorted((root / "tracks").glob("*.yaml")) + sorted((root / "reference").glob("*.md"))
    files += sorted((root / "requests").glob("*.yaml"))   # the request bank: a new bank retrains the classifier
    files += sorted((root / "steps").glob("*.yaml"))      # ... and the step bank its own
    if (root / "paths.yaml").exists():
        files.append(root / "paths.yaml")
    return files


def content_hash(root: Path) -> str:
    digest = hashlib.sha256()
    for path in knowledge_files(root):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def load_knowledge(root: str | Path) -> Knowledge:
    root = Path(root)
    track_files = sorted((root / "tracks").glob("*.yaml"))
    if not track_files:
        raise KnowledgeError(root / "tracks", "no track files (*.yaml) found")
    tracks: dict[str, Track] = {}
    seen: dict[str, Path] = {}
    for path in track_files:
        track = load_track(path)
        for level in track.levels:
            if level.id in seen:
                raise KnowledgeError(path, f"id also used in {seen[level.id].name}", level=level.id, field="id")
            seen[level.id] = path
        tracks[track.id] = track
    defaults = [t.id for t in tracks.values() if t.default]
    if len(defaults) != 1:
        raise KnowledgeError(root / "tracks", f"exactly one track must have 'default: true' (found {len(defaults)})")

    moves: tuple[Move, ...] = ()
    paths_file = root / "paths.yaml"
    if paths_file.exists():
        raw = read_yaml(paths_file)
        try:
            moves = tuple(PathsFile.model_validate(raw).moves)
        except ValidationError as exc:
            err = exc.errors()[0]
            raise KnowledgeError(paths_file, err["msg"], field=".".join(map(str, err["loc"]))) from None
        for i, move in enumerate(moves):
            for end in (move.from_, move.to):
                if end not in seen:
                    raise KnowledgeError(paths_file, f"unknown level '{end}'", field=f"moves.{i}")

    references = tuple(load_reference(p) for p in sorted((root / "reference").glob("*.md")))
    try:
        requests = load_bank(root)
        steps = load_steps(root)
    except BankError as exc:
        raise KnowledgeError(exc.path, exc.message) from None
    return Knowledge(
        tracks=tracks, moves=moves, references=references,
        version=content_hash(root)[:12], root=root, requests=requests, steps=steps,
    )
