"""The importer on the real export and on variations of it that a re-export could produce."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bot.core.importer import ImportMapError, import_map, parse_min_months
from bot.core.knowledge import load_knowledge
from tests.conftest import EXPORT, KNOWLEDGE, split_export

TITLES = KNOWLEDGE / "titles.yaml"


def run_import(tmp_path: Path, export_text: str, titles: Path = TITLES):
    export = tmp_path / "export.txt"
    export.write_text(export_text, encoding="utf-8")
    out = tmp_path / "tracks"
    lines: list[str] = []
    result = import_map(export, titles, out, progress=lines.append)
    return result, out, lines


def tracks_of(out: Path) -> dict[str, dict]:
    return {p.stem: yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted(out.glob("*.yaml"))}


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("real")
    return run_import(tmp, EXPORT.read_text(encoding="utf-8"))


def test_real_export_gives_ten_call_center_and_eight_frontend_levels(real):
    result, out, lines = real
    assert result.blocks == 26
    assert result.duplicates == 8
    tracks = tracks_of(out)
    assert [lv["id"] for lv in tracks["call-center"]["levels"]] == [
        "agent", "experienced-agent", "senior-agent", "expert-agent", "qa-specialist",
        "training-quality-lead", "team-lead", "call-center-manager", "head-of-customer-operations",
        "chief-customer-officer",
    ]
    assert [lv["id"] for lv in tracks["frontend"]["levels"]] == [
        "frontend-trainee", "frontend-junior", "frontend-middle", "frontend-senior", "frontend-lead",
        "frontend-expert", "frontend-principal", "frontend-head",
    ]
    assert tracks["call-center"]["default"] is True
    # one progress line per track
    assert len(lines) == 2 and lines[0].startswith("call-center: 10 levels") and lines[1].startswith("frontend: 8 levels")


def test_each_level_keeps_every_skill_of_its_block(real):
    """Counted straight from the export text, independently of the parser."""
    _, blocks = split_export(EXPORT.read_text(encoding="utf-8"))
    seen, counts = set(), {"call-center": [], "frontend": []}
    for block in blocks:
        if block in seen:
            continue
        seen.add(block)
        skills = block.split("\nSkills\n", 1)[1]
        n = sum(1 for line in skills.splitlines() if line.strip())
        track = "frontend" if "frontend" in block.lower() else "call-center"
        counts[track].append(n)
    tracks = tracks_of(real[1])
    for track, expected in counts.items():
        assert [len(lv["skills"]) for lv in tracks[track]["levels"]] == expected
    # both skill styles ("- Name: text" and "Name: text") parse into name + description
    agent = tracks["call-center"]["levels"][0]["skills"][0]
    trainee = tracks["frontend"]["levels"][0]["skills"][0]
    assert agent == {"name": "Core Communication", "description": "Handles inquiries through voice and/or text channels according to scripts and standards"}
    assert trainee == {"name": "HTML/CSS", "description": "Understanding and using basic HTML elements and CSS styles."}


def _level(real, level_id):
    for track in tracks_of(real[1]).values():
        for lv in track["levels"]:
            if lv["id"] == level_id:
                return lv
    raise AssertionError(level_id)


def _thresholds(real, level_id, metric):
    return [(t["min"], t["max"]) for t in _level(real, level_id)["thresholds"] if t["metric"] == metric]


def test_thresholds_parsed_from_the_text(real):
    assert _thresholds(real, "senior-agent", "kpi_achievement") == [(105, None)]
    assert _thresholds(real, "agent", "kpi_achievement") == [(90, 100)]
    assert _thresholds(real, "experienced-agent", "kpi_achievement") == [(100, None)]
    assert _thresholds(real, "team-lead", "team_size") == [(10, 15)]
    assert _thresholds(real, "call-center-manager", "operation_size") == [(100, None)]
    assert _thresholds(real, "head-of-customer-operations", "operation_size") == [(200, None)]
    assert _thresholds(real, "chief-customer-officer", "operation_size") == [(300, None)]
    # the KPI threshold is tied to the skill that states it, so a gap check can ask for the number
    senior_kpi = _level(real, "senior-agent")["thresholds"][0]
    assert senior_kpi["skill"] == "Performance Consistency"


@pytest.mark.parametrize(
    "level_id, months",
    [("agent", 6), ("experienced-agent", 6), ("senior-agent", 18), ("expert-agent", 24), ("qa-specialist", 12),
     ("training-quality-lead", 36), ("team-lead", 24), ("call-center-manager", 36),
     ("head-of-customer-operations", 48), ("chief-customer-officer", 84),
     ("frontend-trainee", None), ("frontend-junior", 12), ("frontend-lead", 48), ("frontend-head", None)],
)
def test_experience_minimum_in_months(real, level_id, months):
    assert _level(real, level_id)["experience"]["min_months"] == months


@pytest.mark.parametrize("text, months", [("2+ years", 24), ("6–12 months", 6), ("1,5-2 years", 18),
                                          ("approximately 6 months to 1 year", 6), ("no number here", None)])
def test_parse_min_months(text, months):
    assert parse_min_months(text) == months


def test_reimporting_the_committed_export_reproduces_the_committed_files(real):
    _, out, _ = real
    for name in ("call-center.yaml", "frontend.yaml"):
        assert (out / name).read_bytes() == (KNOWLEDGE / "tracks" / name).read_bytes(), name


def test_the_committed_export_is_the_seed():
    seed = KNOWLEDGE.parent.parent / "shared" / "seeds" / "000_aba4ab9a00bf8313.txt"
    if not seed.exists():
        pytest.skip("../shared not beside the checkout")
    assert EXPORT.read_bytes() == seed.read_bytes()


# -- variations a re-export may bring -----------------------------------------------------------

def test_blocks_moved_around_give_the_same_ladder(tmp_path, real):
    preamble, blocks = split_export(EXPORT.read_text(encoding="utf-8"))
    frontend = [b for b in blocks if "frontend" in b.lower()]
    call_center = [b for b in blocks if "frontend" not in b.lower()]
    # frontend copies first, then the call-centre blocks interleaved differently
    reordered = preamble + "".join(frontend[:8]) + "".join(call_center[:3]) + "".join(frontend[8:]) + "".join(call_center[3:])
    _, out, _ = run_import(tmp_path, reordered)
    assert tracks_of(out) == tracks_of(real[1])


def test_a_third_copy_is_dropped_too(tmp_path, real):
    preamble, blocks = split_export(EXPORT.read_text(encoding="utf-8"))
    frontend = [b for b in blocks if "frontend" in b.lower()][:8]
    result, out, _ = run_import(tmp_path, preamble + "".join(blocks) + "".join(frontend))
    assert result.duplicates == 16
    assert tracks_of(out) == tracks_of(real[1])


def _assert_fails_and_writes_nothing(tmp_path: Path, export_text: str, message: str, titles: Path = TITLES):
    out = tmp_path / "tracks"
    out.mkdir(exist_ok=True)
    (out / "call-center.yaml").write_text("old content\n")
    with pytest.raises(ImportMapError, match=message):
        run_import(tmp_path, export_text, titles)
    assert sorted(p.name for p in out.iterdir()) == ["call-center.yaml"]
    assert (out / "call-center.yaml").read_text() == "old content\n"


def test_missing_skills_section_fails_and_writes_nothing(tmp_path):
    text = EXPORT.read_text(encoding="utf-8")
    preamble, blocks = split_export(text)
    blocks[2] = blocks[2].split("Skills\n")[0]
    _assert_fails_and_writes_nothing(tmp_path, preamble + "".join(blocks), r"section 'Skills' is missing")


def test_titles_count_off_by_one_fails_and_writes_nothing(tmp_path):
    titles = yaml.safe_load(TITLES.read_text(encoding="utf-8"))
    titles["tracks"][0]["levels"].pop()
    short = tmp_path / "titles.yaml"
    short.write_text(yaml.safe_dump(titles, allow_unicode=True), encoding="utf-8")
    _assert_fails_and_writes_nothing(
        tmp_path, EXPORT.read_text(encoding="utf-8"),
        r"track 'call-center': the export has 10 distinct level blocks but titles.yaml lists 9 titles", short,
    )


def test_a_missing_block_is_a_count_mismatch(tmp_path):
    preamble, blocks = split_export(EXPORT.read_text(encoding="utf-8"))
    _assert_fails_and_writes_nothing(tmp_path, preamble + "".join(blocks[1:]), r"has 9 distinct level blocks")


def test_unknown_heading_fails_and_writes_nothing(tmp_path):
    text = EXPORT.read_text(encoding="utf-8").replace("Area of Responsibility\n", "Education\nA degree.\nArea of Responsibility\n", 1)
    _assert_fails_and_writes_nothing(tmp_path, text, r"unknown heading 'Education'")


def test_a_block_that_fits_no_track_fails(tmp_path):
    text = EXPORT.read_text(encoding="utf-8") + "Experience\nLots.\nArea of Responsibility\nGardening.\nSkills\n- Pruning: trees\n"
    _assert_fails_and_writes_nothing(tmp_path, text, r"cannot tell which track")


def test_written_files_load_with_the_real_loader(tmp_path, real):
    kb_dir = tmp_path / "kb"
    (kb_dir / "tracks").mkdir(parents=True)
    for p in real[1].glob("*.yaml"):
        (kb_dir / "tracks" / p.name).write_bytes(p.read_bytes())
    kb = load_knowledge(kb_dir)
    assert kb.default_track.id == "call-center"
    assert kb.level("team-lead").label == "L7 Team Lead"
    assert re.fullmatch(r"[0-9a-f]{12}", kb.version)
