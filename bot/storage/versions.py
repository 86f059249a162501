"""Versioned knowledge: HR's level edits as new versions in SQLite, materialised as knowledge dirs.

The committed ``knowledge/`` is version zero. Each edit stores the whole ladder (all tracks) with who,
when, a change note and a readable diff. A version is materialised into ``<index dir>/knowledge/<v>/``
(tracks rendered exactly as the importer writes them, ``paths.yaml`` and ``reference/`` copied from
the base) and loaded with the ordinary loader, so it is validated the same way and its version id is
the same content hash. No Slack here.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from pydantic import ValidationError

from bot.core.config import Settings
from bot.core.importer import parse_min_months, parse_thresholds, render, write_atomically
from bot.core.knowledge import Knowledge, Level, Track, load_knowledge
from bot.storage.store import Store, now

FIELDS = ("experience", "responsibilities", "skills")


class EditError(ValueError):
    """Invalid edit: ``errors`` maps a field (experience, responsibilities, skills, note) to a message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def _track_data(track: Track) -> dict:
    return {"id": track.id, "title": track.title, "default": track.default,
            "levels": [lv.model_dump(mode="json", exclude={"track"}) for lv in track.levels]}


def parse_skills(text: str) -> list[dict]:
    skills = []
    for n, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip().lstrip("-•* ").strip()
        if not line:
            continue
        name, sep, desc = line.partition(":")
        if not sep or not name.strip() or not desc.strip():
            raise EditError({"skills": f"line {n} is not 'Name: description'"})
        skills.append({"name": " ".join(name.split()), "description": " ".join(desc.split())})
    return skills


def edited_level(level: Level, experience: str, responsibilities: str, skills: str) -> dict:
    """The level with HR's text, numbers re-parsed from it; EditError names each bad field."""
    errors: dict[str, str] = {}
    experience = " ".join((experience or "").split())
    resp = [" ".join(r.strip().lstrip("-•* ").split()) for r in (responsibilities or "").splitlines()]
    resp = [r for r in resp if r]
    try:
        skill_list = parse_skills(skills)
    except EditError as exc:
        errors.update(exc.errors)
        skill_list = []
    if not experience:
        errors["experience"] = "must not be empty"
    if not resp:
        errors["responsibilities"] = "list at least one responsibility, one per line"
    if not skill_list and "skills" not in errors:
        errors["skills"] = "list at least one skill, one per line as 'Name: description'"
    names = [s["name"].lower() for s in skill_list]
    if len(set(names)) != len(names):
        errors["skills"] = "two skills have the same name"
    if errors:
        raise EditError(errors)
    data = level.model_dump(mode="json", exclude={"track"})
    data.update({
        "experience": {"text": experience, "min_months": parse_min_months(experience)},
        "responsibilities": resp, "skills": skill_list,
        "thresholds": parse_thresholds(experience, resp, skill_list),
    })
    try:
        Level.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = str(err["loc"][0]) if err.get("loc") else "experience"
        raise EditError({field if field in FIELDS else "experience": err["msg"]}) from None
    return data


def level_diff(old: Level, new: dict) -> dict:
    old_skills = {s.name: s.description for s in old.skills}
    new_skills = {s["name"]: s["description"] for s in new["skills"]}
    old_t = sorted(t.describe() + f" ({t.metric})" for t in old.thresholds)
    new_level = Level.model_validate(new)
    new_t = sorted(t.describe() + f" ({t.metric})" for t in new_level.thresholds)
    return {
        "skills_added": [n for n in new_skills if n not in old_skills],
        "skills_removed": [n for n in old_skills if n not in new_skills],
        "skills_changed": [n for n in new_skills if n in old_skills and new_skills[n] != old_skills[n]],
        "responsibilities_added": [r for r in new["responsibilities"] if r not in old.responsibilities],
        "responsibilities_removed": [r for r in old.responsibilities if r not in new["responsibilities"]],
        "experience": [old.experience.text, new["experience"]["text"]] if old.experience.text != new["experience"]["text"] else None,
        "thresholds": [old_t, new_t] if old_t != new_t else None,
    }


def diff_text(diff: dict) -> str:
    """Readable, plain text (escape it for Slack)."""
    lines = []
    for key, label in (("skills_added", "Skills added"), ("skills_removed", "Skills removed"),
                       ("skills_changed", "Skills changed")):
        if diff.get(key):
            lines.append(f"{label}: {', '.join(diff[key])}")
    if diff.get("thresholds"):
        before, after = diff["thresholds"]
        lines.append(f"Numbers: {', '.join(before) or 'none'} → {', '.join(after) or 'none'}")
    if diff.get("experience"):
        lines.append(f"Experience: “{diff['experience'][0]}” → “{diff['experience'][1]}”")
    if diff.get("responsibilities_added"):
        lines.append(f"Responsibilities added: {len(diff['responsibilities_added'])}")
    if diff.get("responsibilities_removed"):
        lines.append(f"Responsibilities removed: {len(diff['responsibilities_removed'])}")
    return "\n".join(lines) or "No change to the level's text."


class EditConflict(RuntimeError):
    """The newest stored version is not the one the edit started from: someone else saved first."""


# -- storing and materialising ----------------------------------------------------------------------

def _materialise(base: Path, tracks: list[dict], root: Path) -> Path:
    """Write tracks + base paths/reference into a fresh dir under ``root``; return it (loaded later)."""
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".kb-", dir=root))
    (tmp / "tracks").mkdir()
    for data in tracks:
        (tmp / "tracks" / f"{data['id']}.yaml").write_text(render(data), encoding="utf-8")
    if (base / "paths.yaml").exists():
        shutil.copyfile(base / "paths.yaml", tmp / "paths.yaml")
    if (base / "reference").is_dir():
        shutil.copytree(base / "reference", tmp / "reference")
    if (base / "requests").is_dir():   # the request bank: HR's level edits leave it as it is
        shutil.copytree(base / "requests", tmp / "requests")
    version = load_knowledge(tmp).version
    final = root / version
    if final.exists():
        shutil.rmtree(tmp)
    else:
        os.replace(tmp, final)
    return final


def _newest(db, select: str = "version") -> dict | None:
    """The newest stored version's row (``select``: its columns); None when HR has never edited (the
    committed knowledge is live)."""
    rows = list(db["knowledge_versions"].rows_where(select=select, order_by="id desc", limit=1))
    return rows[0] if rows else None


def live(store: Store, base: Path, root: Path) -> Knowledge:
    """The newest stored version, or the committed knowledge when there is none."""
    with store.db() as db:
        row = _newest(db, "version, tracks")
    if row is None:
        return load_knowledge(base)
    path = root / row["version"]
    if not path.is_dir():
        path = _materialise(base, json.loads(row["tracks"]), root)
    return load_knowledge(path)


def live_knowledge(settings: Settings, store: Store | None = None) -> Knowledge:
    """The knowledge Ladder serves: HR's newest stored version (SQLite), else the committed files.
    Without a store and with no database file yet, the committed files (nothing is created)."""
    if store is None:
        if not Path(settings.db_path).exists():
            return load_knowledge(settings.knowledge_dir)
        store = Store(settings.db_path)
    return live(store, settings.knowledge_dir, settings.versions_dir)


def newest_version(store: Store) -> str | None:
    """The newest stored version id; None when HR has never edited (the committed knowledge is live)."""
    with store.db() as db:
        row = _newest(db)
    return row["version"] if row else None


def save_edit(store: Store, kb: Knowledge, base: Path, root: Path, level_id: str, level_data: dict, *,
              author: str, note: str, also=None, parent: str | None = None,
              job_id: int | None = None) -> tuple[Knowledge, dict]:
    """Store a new version with this level replaced; return it loaded, and the diff.

    ``also(db, new_kb, diff)`` runs inside the same transaction (the broadcast's outbox rows).
    With ``parent`` (the version the edit started from), EditConflict when the newest stored version,
    read inside the write transaction, is another one: nothing is stored then."""
    if not note.strip():
        raise EditError({"note": "say what changed and why (it goes into the history)"})
    old = kb.level(level_id)
    tracks = []
    for track in kb.tracks.values():
        data = _track_data(track)
        if track.id == old.track:
            data["levels"] = [level_data if lv["id"] == level_id else lv for lv in data["levels"]]
        tracks.append(data)
    path = _materialise(base, tracks, root)
    new_kb = load_knowledge(path)
    diff = level_diff(old, level_data)
    with store.immediate() as db:
        if parent is not None:
            row = _newest(db)
            newest = row["version"] if row else kb.version  # no stored version: the committed knowledge is live
            if newest != parent:
                raise EditConflict(f"newest version is {newest}, the edit started from {parent}")
        db["knowledge_versions"].insert({
            "version": new_kb.version, "parent": kb.version, "level_id": level_id, "created_by": author,
            "created_at": now(), "note": note.strip()[:1000], "diff": json.dumps(diff), "tracks": json.dumps(tracks),
            "job_id": job_id,
        })
        if also is not None:
            also(db, new_kb, diff)
    return new_kb, diff


def saved_by_job(store: Store, job_id: int) -> dict | None:
    """The version an inbox job (an edit) stored, if it got that far."""
    with store.db() as db:
        rows = list(db["knowledge_versions"].rows_where("job_id = ?", [job_id], limit=1))
    return rows[0] if rows else None


def history(store: Store, level_id: str) -> list[dict]:
    with store.db() as db:
        return list(db["knowledge_versions"].rows_where("level_id = ?", [level_id], order_by="id desc"))


def export(kb: Knowledge, out_dir: Path) -> list[Path]:
    """Write the tracks of ``kb`` in the importer's YAML format (atomic per file)."""
    written = []
    for track in kb.tracks.values():
        path = Path(out_dir) / f"{track.id}.yaml"
        write_atomically(path, render(_track_data(track)))
        written.append(path)
    return written
