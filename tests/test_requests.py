"""The request bank (knowledge/requests/) and the classifier learned from it: validated data, abstention."""

from __future__ import annotations

import numpy as np
import pytest

from bot.core.knowledge import KnowledgeError, load_knowledge
from bot.core.requestbank import KINDS, STEPS, load_bank
from bot.search.classifier import RequestClassifier, calibrate, calibrate_refusal


def classifier(threshold=0.6, refuse=0.8):
    # three kinds on three axes: a vector along one axis is that kind, in between is unsure
    coef = np.eye(3, dtype=np.float32) * 6.0
    return RequestClassifier(("skills", "oos_pay", "oos_it"), coef, np.zeros(3, dtype=np.float32), threshold, refuse)


def test_a_clear_question_gets_its_kind_and_an_unsure_one_abstains():
    clf = classifier()
    sure = clf.predict(np.array([1.0, 0.0, 0.0]))
    assert sure.kind == "skills" and sure.confidence > 0.9 and not sure.refuse
    unsure = clf.predict(np.array([0.5, 0.5, 0.45]))
    assert unsure.kind is None and unsure.abstained and unsure.best == "skills"


def test_refusal_adds_up_the_out_of_scope_kinds():
    # neither pay nor IT is sure alone, together they are: refused, with the likelier refusal
    guess = classifier().predict(np.array([0.0, 0.52, 0.5]))
    assert guess.kind is None and guess.refuse and guess.best_out_of_scope == "oos_pay"
    assert classifier(refuse=1.01).predict(np.array([0.0, 1.0, 0.0])).refuse is False


def test_thresholds_are_calibrated_on_held_out_predictions():
    classes = ["oos_pay", "skills"]
    probs = np.array([[0.9, 0.1], [0.95, 0.05], [0.6, 0.4], [0.55, 0.45], [0.2, 0.8], [0.1, 0.9]])
    truth = np.array(["oos_pay", "oos_pay", "skills", "oos_pay", "skills", "skills"])
    threshold, report = calibrate(probs, truth, classes)
    assert threshold == pytest.approx(0.65) and report["precision_kept"] == 1.0
    refuse, report = calibrate_refusal(probs, truth, classes)
    assert refuse == pytest.approx(0.61) and report["in_scope_refused"] == 0   # 0.60 would refuse the career question


def test_the_committed_bank_is_valid_and_covers_every_kind():
    kb = load_knowledge("knowledge")
    kinds = {ex.kind for ex in kb.requests}
    assert kinds == set(KINDS) and len(kb.requests) >= 1500
    assert {ex.kind for ex in kb.steps} == set(STEPS) and len(kb.steps) >= 600


def test_a_bad_step_bank_names_the_file_and_the_problem(knowledge_dir):
    (knowledge_dir / "steps" / "zz.yaml").write_text("upward:\n  - a\n  - b\n  - c\n", encoding="utf-8")
    with pytest.raises(KnowledgeError) as err:
        load_knowledge(knowledge_dir)
    assert "zz.yaml" in str(err.value) and "unknown kind 'upward' (kinds: same, up, down, between)" in str(err.value)


def test_a_rebuild_reuses_the_classifiers_an_earlier_build_trained_on_the_same_bank(knowledge_dir, tmp_path, monkeypatch):
    """Training (~10 s with the real model) is skipped when an earlier build trained on the same examples, level
    names and model: an edit of a level's text, a damaged model file. A changed bank, or a change in what the
    model is given for its questions (a new version of Ladder's understanding), is trained again."""
    import bot.search.classifier as classifier_module
    from bot.core.config import Settings
    from bot.search.query import Query
    from bot.search.embedders import FakeEmbedder
    from bot.wiring import build

    settings = Settings(knowledge_dir=knowledge_dir, index_dir=tmp_path / "index")
    first = build(load_knowledge(knowledge_dir), settings, embedder=FakeEmbedder())
    classifier_module._TRAINED.clear()     # a new process: nothing trained in memory

    def no_training(*args, **kwargs):
        raise AssertionError("trained again")

    monkeypatch.setattr(classifier_module, "train", no_training)
    senior = knowledge_dir / "tracks" / "call-center.yaml"
    senior.write_text(senior.read_text(encoding="utf-8").replace("Handles complex", "Handles really complex", 1),
                      encoding="utf-8")
    second = build(load_knowledge(knowledge_dir), settings, embedder=FakeEmbedder())
    assert second.knowledge_version != first.knowledge_version
    for name in ("requests.npz", "steps.npz"):
        assert (second.path / name).read_bytes() == (first.path / name).read_bytes()
    assert second.manifest["requests"] == first.manifest["requests"]

    bank = knowledge_dir / "steps" / "steps.yaml"
    bank.write_text(bank.read_text(encoding="utf-8") + "\n# one more\n", encoding="utf-8")   # same examples: reused
    build(load_knowledge(knowledge_dir), settings, embedder=FakeEmbedder())
    with monkeypatch.context() as patch:    # an upgrade that masks other words as level names: trained again
        masked = Query.masked
        patch.setattr(Query, "masked", property(lambda query: masked.fget(query).replace(" level", "")))
        with pytest.raises(AssertionError, match="trained again"):
            build(load_knowledge(knowledge_dir), settings, embedder=FakeEmbedder())
    bank.write_text(bank.read_text(encoding="utf-8").replace("\nup:\n", "\nup:\n- and the rung past that one?\n", 1),
                    encoding="utf-8")
    with pytest.raises(AssertionError, match="trained again"):
        build(load_knowledge(knowledge_dir), settings, embedder=FakeEmbedder())


@pytest.mark.parametrize("text, message", [
    ("skils:\n  - a\n  - b\n  - c\n", "unknown kind 'skils'"),
    ("skills: what skills\n", "skills: must be a non-empty list"),
    ("skills:\n  - a\n  - ''\n  - c\n", "skills: example 2 is not a question"),
    ("skills:\n  - a b\n  - c\n  - d\n", "'a b' is also labelled 'numbers' in yy.yaml"),
])
def test_a_bad_bank_names_the_file_and_the_problem(knowledge_dir, text, message):
    extra = knowledge_dir / "requests" / "zz-extra.yaml"
    if "also labelled" in message:
        (knowledge_dir / "requests" / "yy.yaml").write_text("numbers:\n  - A  B\n  - e\n  - f\n", encoding="utf-8")
    extra.write_text(text, encoding="utf-8")
    with pytest.raises(KnowledgeError) as err:
        load_knowledge(knowledge_dir)
    assert message in str(err.value)
    assert ".yaml" in str(err.value)


def test_a_kind_needs_a_few_examples(knowledge_dir):
    import shutil

    shutil.rmtree(knowledge_dir / "requests")
    (knowledge_dir / "requests").mkdir()
    (knowledge_dir / "requests" / "bank.yaml").write_text("skills:\n  - a\n  - b\n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match="skills: 2 example.s.; a kind needs at least 3"):
        load_knowledge(knowledge_dir)


def test_no_bank_means_no_classifier_not_an_error(knowledge_dir):
    import shutil

    shutil.rmtree(knowledge_dir / "requests")
    assert load_bank(knowledge_dir) == () and load_knowledge(knowledge_dir).requests == ()


def test_a_name_outside_the_career_map_is_noticed():
    from bot.core.knowledge import load_knowledge
    from bot.search.scope import names_an_outsider
    from tests.conftest import KNOWLEDGE

    kb = load_knowledge(KNOWLEDGE)
    assert names_an_outsider(kb, "what are Accenture's support levels?")
    assert names_an_outsider(kb, "how does the frontend ladder at Shopify work")
    assert not names_an_outsider(kb, "what's the Team Lead's team size?")
    assert not names_an_outsider(kb, "what does a TL do in COPC terms")
    # a capitalised word inside a sentence is a name too, unless the career map uses it or it is a typo of its words
    assert names_an_outsider(kb, "what does a Google L5 software engineer need?")
    assert names_an_outsider(kb, "how does Teleperformance structure its team lead levels?")
    assert not names_an_outsider(kb, "Cheif Custmer Oficer expirience?")
    assert not names_an_outsider(kb, "what does the Head of Customer Operations own?")
    # the surest form, an owner or a place with a proper name's case, decides alone when the classifier is unsure
    assert names_an_outsider(kb, "what does Level 3 mean at Salesforce?", owner_or_place=True)
    assert names_an_outsider(kb, "what are the levels at Microsoft for product managers?", owner_or_place=True)
    assert not names_an_outsider(kb, "how does Google structure its levels?", owner_or_place=True)   # a name, no place
    assert not names_an_outsider(kb, "how much experience do you need for L8", owner_or_place=True)
    assert not names_an_outsider(kb, "the FE wizard who hangs out with POs all day, what grade is that", owner_or_place=True)
    assert not names_an_outsider(kb, "wat are the skils for Senoir Agent", owner_or_place=True,
                                 levels=frozenset({"senoir", "agent"}))   # read as a level's name


def test_the_step_classifier_reads_the_banks_words_beside_the_vector_and_ignores_others():
    from bot.search.classifier import vocabulary_of, with_words
    from bot.search.query import understand

    kb = load_knowledge("knowledge")
    vocab = vocabulary_of(["the level above", "the level below", "one rung above", "below that"])
    assert vocab == ("above", "below", "level", "the", "the level")     # used by at least two
    terms = {t: i for i, t in enumerate(vocab)}
    x = np.zeros(4, dtype=np.float32)
    x[0] = 1.0
    above, unseen = with_words(np.stack([x, x]), [understand(kb, "the level above senior agent"),
                                   understand(kb, "zorblax senior agent")], terms)
    assert above.shape == (4 + len(vocab),) and above[4 + terms["above"]] > 0 and above[4 + terms["below"]] == 0
    assert np.allclose(unseen, np.concatenate([x, np.zeros(len(vocab))]))   # nothing but the vector
    assert np.isclose(np.linalg.norm(above), 1.0)


def test_plain_questions_of_the_request_bank_teach_the_step_classifier_what_is_no_step():
    from bot.search.classifier import step_examples

    kb = load_knowledge("knowledge")
    examples = step_examples(kb)
    written = len(kb.steps)
    plain = examples[written:]
    assert examples[:written] == tuple(kb.steps) and len(plain) > 1000
    assert {ex.kind for ex in plain} == {"same"}
    texts = {ex.text for ex in plain}
    assert "what comes after senior agent" not in {t.lower() for t in texts}   # 'next' questions are not 'same'
