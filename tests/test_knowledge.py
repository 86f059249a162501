"""The loader: what Ladder knows, and the clear errors it gives when a knowledge file is wrong."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bot.core.knowledge import KnowledgeError, LevelNotFound, load_knowledge


def edit_track(knowledge_dir: Path, track: str, change) -> Path:
    path = knowledge_dir / "tracks" / f"{track}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def test_committed_knowledge_loads(knowledge_dir):
    kb = load_knowledge(knowledge_dir)
    assert list(kb.tracks) == ["call-center", "frontend"]
    assert kb.default_track.id == "call-center"
    assert len(kb.levels("call-center")) == 10 and len(kb.levels("frontend")) == 8
    assert kb.next_level(kb.level("senior-agent")).id == "expert-agent"
    assert kb.previous_level(kb.level("agent")) is None
    assert {n.id for n in kb.references} == {"kpi-glossary", "other-roles", "agent-career-paths"}
    assert all(n.kind == "background" and n.source for n in kb.references)
    assert any(s.heading.startswith("FCR") for s in kb.reference("kpi-glossary").sections)


def test_paths_cover_every_promotion_and_the_documented_branches(knowledge_dir):
    kb = load_knowledge(knowledge_dir)
    for track in kb.tracks.values():
        for level in track.levels[1:]:   # one promotion into each, from a lower level of the same track
            [source] = [m.from_ for m in kb.moves if m.kind == "promotion" and m.to == level.id]
            assert kb.level(source).track == track.id and kb.level(source).number < level.number
    moves = {(m.from_, m.to) for m in kb.moves}
    for pair in [("senior-agent", "qa-specialist"), ("expert-agent", "team-lead"),
                 ("qa-specialist", "training-quality-lead"), ("team-lead", "call-center-manager")]:
        assert pair in moves
    first = next(m for m in kb.moves if m.from_ == "agent")
    assert first.min_months == 6 and "6–12 months" in first.typical_time


def test_version_changes_with_content(knowledge_dir):
    before = load_knowledge(knowledge_dir).version
    edit_track(knowledge_dir, "frontend", lambda d: d["levels"][0]["skills"].append({"name": "A11y", "description": "Basics"}))
    assert load_knowledge(knowledge_dir).version != before


@pytest.mark.parametrize(
    "track, change, expected",
    [
        ("call-center", lambda d: d["levels"][2].__setitem__("skills", []),
         "call-center.yaml: level senior-agent: skills: must not be empty"),
        ("call-center", lambda d: d["levels"][4].__setitem__("number", 7),
         "call-center.yaml: level qa-specialist: number: expected 5"),
        ("call-center", lambda d: d["levels"][1].__setitem__("id", "agent"),
         "call-center.yaml: level agent: id: duplicate id in this track"),
        ("call-center", lambda d: d["levels"][0]["experience"].__setitem__("text", "  "),
         "call-center.yaml: level agent: experience.text"),
        ("frontend", lambda d: d["levels"][3].__setitem__("responsibilities", []),
         "frontend.yaml: level frontend-senior: responsibilities: must not be empty"),
        ("frontend", lambda d: d["levels"][0].__setitem__("salary", 1),
         "frontend.yaml: level frontend-trainee: salary: Extra inputs are not permitted"),
        ("frontend", lambda d: d["levels"][0]["skills"][0].pop("description"),
         "frontend.yaml: level frontend-trainee: skills.0.description: Field required"),
        ("frontend", lambda d: d.__setitem__("id", "backend"),
         "frontend.yaml: id: track id 'backend' does not match the file name"),
        ("frontend", lambda d: d["levels"][0].__setitem__("id", "agent"),
         "frontend.yaml: level agent: id: id also used in call-center.yaml"),
        ("frontend", lambda d: d.__setitem__("default", True),
         "exactly one track must have 'default: true' (found 2)"),
    ],
)
def test_invalid_track_files_name_file_level_and_field(knowledge_dir, track, change, expected):
    edit_track(knowledge_dir, track, change)
    with pytest.raises(KnowledgeError) as err:
        load_knowledge(knowledge_dir)
    assert expected in str(err.value)


def test_malformed_yaml_names_the_line(knowledge_dir):
    path = knowledge_dir / "tracks" / "frontend.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "\n  bad: [unclosed\n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"frontend.yaml: invalid YAML at line \d+"):
        load_knowledge(knowledge_dir)


def test_paths_must_name_known_levels(knowledge_dir):
    path = knowledge_dir / "paths.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "- {from: agent, to: astronaut, kind: branch}\n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"paths.yaml: moves.\d+: unknown level 'astronaut'"):
        load_knowledge(knowledge_dir)


def test_background_notes_must_say_they_are_background(knowledge_dir):
    path = knowledge_dir / "reference" / "kpi-glossary.md"
    path.write_text(path.read_text(encoding="utf-8").replace("kind: background", "kind: policy"), encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"kpi-glossary.md: kind: kind must be 'background'"):
        load_knowledge(knowledge_dir)


def test_no_tracks_is_a_clear_error(tmp_path):
    with pytest.raises(KnowledgeError, match="no track files"):
        load_knowledge(tmp_path)


@pytest.mark.parametrize(
    "name, level_id",
    [("senior-agent", "senior-agent"), ("Senior Agent", "senior-agent"), ("SENIOR AGENT", "senior-agent"),
     ("senoir agent", "senior-agent"), ("L3", "senior-agent"), ("l3", "senior-agent"), ("level 3", "senior-agent"),
     ("Level 10", "chief-customer-officer"), ("lvl 9", "head-of-customer-operations"),
     ("team leader", "team-lead"), ("supervisor", "team-lead"), ("team leed", "team-lead"),
     ("CCO", "chief-customer-officer"), ("quality analyst", "qa-specialist"), ("L&D lead", "training-quality-lead"),
     ("contact centre manager", "call-center-manager"), ("operations manager", "call-center-manager"),
     ("call centre director", "head-of-customer-operations"), ("expirienced agnet", "experienced-agent"),
     ("frontend L3", "frontend-middle"), ("head of frontend", "frontend-head"), ("Training & Quality Lead", "training-quality-lead")],
)
def test_resolve_level_names_people_use(knowledge_dir, name, level_id):
    assert load_knowledge(knowledge_dir).resolve(name).id == level_id


def test_resolve_with_a_track(knowledge_dir):
    kb = load_knowledge(knowledge_dir)
    assert kb.resolve("L4", track="frontend").id == "frontend-senior"
    with pytest.raises(LevelNotFound, match="There is no track 'backend'"):
        kb.resolve("L1", track="backend")


@pytest.mark.parametrize(
    "name, message, suggested",
    [("L42", "There is no level L42: Call Center – Sales &amp; Support has L1–L10.", []),
     ("frontend L9", "Frontend Development has L1–L8", []),
     ("astronaut", "I don't know a level called 'astronaut'", []),
     ("senior", "Did you mean", ["senior-agent", "frontend-senior"]),
     ("", "Please name a level", [])],
)
def test_unknown_levels_get_clear_messages_and_close_matches(knowledge_dir, name, message, suggested):
    with pytest.raises(LevelNotFound) as err:
        load_knowledge(knowledge_dir).resolve(name)
    assert message in err.value.message
    assert [lv.id for lv in err.value.suggestions] == suggested



def test_the_career_maps_own_words_are_its_texts_not_its_field_names():
    """A name the career map never says is an outsider's, even one that is the name of a field of its data."""
    from bot.core.levelnames import texts_of
    from bot.search.scope import names_an_outsider
    from tests.conftest import KNOWLEDGE

    kb = load_knowledge(KNOWLEDGE)
    words = set(re.findall(r"[a-z0-9&]+", " ".join(texts_of([kb.levels(), kb.references])).lower()))
    assert {"senior", "mentorship", "escalations", "18"} <= words       # 18: a level's months, a number
    assert not {"aliases", "thresholds", "min_months", "referencesection"} & words
    assert names_an_outsider(kb, "what do senior engineers need at Threshold?", owner_or_place=True)
    assert not names_an_outsider(kb, "what do senior agents need at Mentorship?", owner_or_place=True)
