"""The task loaders of training/data/ against the real ../shared/datasets: labels in
range, no group on both sides of a split, no FRANK test article anywhere. Skipped where
the data is absent."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

import training.data
from model.result import ATTRIBUTES, GROUNDING_LABELS, STANCE_LABELS
from model.sentences import split_sentences
from training.data.checkworthy import load_checkworthy
from training.data.examples import TASKS, StanceExample
from training.data.grounding_human import _frank, _xsum_hallucinations, load_grounding
from training.data.grounding_synthetic import MAX_LABEL_SHARE
from training.data.moderation_sources import (
    READER_SENTENCE_WORDS,
    _threat_frames,
    load_moderation,
)
from training.data.perturbations import _claimable_sentences
from training.data.provenance import source_files
from training.data.splits import _norm, _rows, default_data_dir, in_dev
from training.data.stance import load_stance, load_stance_test
from training.data.stance_synthetic import (
    OFFTOPIC_SOURCES,
    _comment_frames,
    negate_claim,
    negated_claims,
    turned_reports,
)

DATA = default_data_dir()
needs_data = pytest.mark.skipif(
    not (DATA / "MANIFEST.json").is_file(),
    reason=f"public datasets not found at {DATA} (set REBUT_DATA_DIR)",
)
LIMIT = 100  # per source and split: enough to see every label, fast enough for CI


@pytest.fixture(scope="module")
def frank_test_hashes() -> set[str]:
    entries = json.loads((DATA / "grounding/frank/human_annotations.json").read_text())
    return {e["hash"] for e in entries if e["split"] == "test"}


@needs_data
def test_moderation_labels_and_groups() -> None:
    # full load (a few seconds): the disjointness check must see the real splits
    train, dev = load_moderation()
    assert train and dev
    for e in train + dev:
        assert set(e.labels) == set(ATTRIBUTES)
        assert all(v is None or 0.0 <= v <= 1.0 for v in e.labels.values())
        assert any(v is not None for v in e.labels.values()), e
        assert e.text.strip()
    assert not {e.group for e in train} & {e.group for e in dev}
    assert not {_norm(e.text) for e in train} & {_norm(e.text) for e in dev}
    assert {e.source for e in dev} == {
        "jigsaw",
        "civil_comments_spans",
        "davidson",
        "olid",
        "youtube_spam",
        "reader_comments",
        "reader_sentences",
        "rebut_threats",
    }


@needs_data
def test_reader_comments_are_arcs_train_comments_on_their_stance_side() -> None:
    train, dev = load_moderation()
    comments = {
        s: [e for e in part if e.source == "reader_comments"]
        for s, part in (("train", train), ("dev", dev))
    }
    assert len(comments["train"]) > 3000 and comments["dev"]
    for e in comments["train"] + comments["dev"]:
        assert e.labels["spam"] == e.labels["toxicity"] == e.labels["profanity"] == 0.0
        assert e.labels["insult"] is None  # the pages allow calling a politician a joke
    # a comment's group is its claim cluster in the stance split, so it sits on the same
    # side there (stance caps unrelated pairs, so not every comment is a stance example)
    stance_train, stance_dev = load_stance()
    stance_dev_groups = {e.group for e in stance_dev if e.source == "arc"}
    stance_train_groups = {e.group for e in stance_train if e.source == "arc"}
    assert {e.group for e in comments["dev"]} & stance_dev_groups
    assert not {e.group for e in comments["dev"]} & stance_train_groups
    assert {e.group for e in comments["train"]} & stance_train_groups
    assert not {e.group for e in comments["train"]} & stance_dev_groups
    # only comments that ARC's training file pairs with a claim
    paired = {r["Body ID"] for r in _rows(DATA / "stance/arc/arc_stances_train.csv")}
    texts = {
        r["Body ID"]: r["articleBody"].strip() for r in _rows(DATA / "stance/arc/arc_bodies.csv")
    }
    unpaired = {t for b, t in texts.items() if b not in paired} - {
        t for b, t in texts.items() if b in paired
    }
    assert unpaired and not unpaired & {e.text for e in comments["train"] + comments["dev"]}


@needs_data
def test_reader_sentences_are_sentences_of_the_comments_on_their_side() -> None:
    train, dev = load_moderation()
    low, high = READER_SENTENCE_WORDS
    for part in (train, dev):
        comments = [e for e in part if e.source == "reader_comments"]
        sentences = [e for e in part if e.source == "reader_sentences"]
        assert len(sentences) > len(comments)  # most comments give two
        # what serving scores as a span: sentences split as model.sentences splits them
        served: dict[str, set[str]] = {}
        whole: set[str] = set()
        for c in comments:
            served.setdefault(c.group, set()).update(s.text for s in split_sentences(c.text))
            whole.add(c.text)
        for e in sentences:
            # a sentence of a comment of its own claim cluster, never a whole comment
            assert e.text in served[e.group] and e.text not in whole
            assert low <= len(e.text.split()) <= high
            assert e.labels == comments[0].labels
        assert len({_norm(e.text) for e in sentences}) == len(sentences)


def test_threat_frames_keep_their_split_and_stay_apart_from_the_tests() -> None:
    train, dev = _threat_frames(DATA)
    assert train and dev
    assert not {e.group for e in train} & {e.group for e in dev}  # a frame is on one side
    for e in train + dev:
        assert "{" not in e.text and e.text[0].isupper()
        threat = e.group.startswith("rebut_threats:threat")
        assert e.labels["threat"] == e.labels["toxicity"] == (1.0 if threat else 0.0)
    # both kinds on both sides: dev measures threats and violence mentioned civilly
    for part in (train, dev):
        assert {e.labels["threat"] for e in part} == {0.0, 1.0}
    # no frame yields a sentence the moderation tests score
    tests = (Path(__file__).parent / "test_moderation_policy.py").read_text()
    assert not [e.text for e in train + dev if e.text in tests]


@needs_data
def test_checkworthy_labels_and_no_shared_text() -> None:
    train, dev = load_checkworthy()
    assert train and dev
    assert {e.label for e in train} == {0, 1} and {e.label for e in dev} == {0, 1}
    # CheckworthyExample carries no group; a sentence must still not be on both sides
    assert not {_norm(e.text) for e in train} & {_norm(e.text) for e in dev}


@needs_data
def test_news_facts_and_opinions_keep_their_benchmarks_splits() -> None:
    train, dev = load_checkworthy()
    sides = (("train", train), ("dev", dev))
    facts = {s: [e for e in part if e.source == "rebut_news_facts"] for s, part in sides}
    opinions = {s: [e for e in part if e.source == "rebut_opinions"] for s, part in sides}
    assert len(facts["train"]) > 1000 and facts["dev"]
    assert {e.label for e in facts["train"] + facts["dev"]} == {1}
    assert {e.label for e in opinions["train"] + opinions["dev"]} == {0}
    # a news fact is a sentence of an FNC-1 body on the same side of the stance split
    _, stance_dev = load_stance()
    dev_bodies = " ".join(e.article_body for e in stance_dev if e.source == "fnc1")
    assert all(e.text in dev_bodies for e in facts["dev"])
    assert not any(e.text in dev_bodies for e in facts["train"])
    assert not any('"' in e.text or "“" in e.text for e in facts["train"])
    # an opinion is a Perspectrum claim of its own split; test claims are never read
    folder = DATA / "stance/perspectrum"
    split = json.loads((folder / "dataset_split_v1.0.json").read_text())
    sides_of: dict[str, set[str]] = {}
    for claim in json.loads((folder / "perspectrum_with_answers_v1.0.json").read_text()):
        sides_of.setdefault(claim["text"].strip(), set()).add(split[str(claim["cId"])])
    assert len(opinions["train"]) > 400 and opinions["dev"]
    assert all("train" in sides_of[e.text] for e in opinions["train"])
    assert all("dev" in sides_of[e.text] for e in opinions["dev"])


@needs_data
def test_stance_labels_and_groups() -> None:
    train, dev = load_stance()
    assert train and dev
    assert {e.label for e in train} == set(STANCE_LABELS)
    assert {e.label for e in dev} <= set(STANCE_LABELS)
    assert not {e.group for e in train} & {e.group for e in dev}
    # FNC-1 bodies never straddle the split either (clusters contain whole bodies)
    fnc_train = {e.article_body for e in train if e.source == "fnc1"}
    assert not fnc_train & {e.article_body for e in dev if e.source == "fnc1"}


@needs_data
def test_the_stance_test_split_shares_no_claim_or_comment_with_train_or_dev() -> None:
    """ARC's held-out claim clusters: none of their claims or comments reaches train or dev,
    as an unrelated pair either; Perspectrum's test claims are its upstream test split."""
    test = load_stance_test()
    train, dev = load_stance()
    assert len(test["arc"]) > 300 and {e.label for e in test["arc"]} == set(STANCE_LABELS)
    assert len(test["perspectrum"]) > 1500
    seen = {_norm(e.comment) for e in train + dev} | {_norm(e.article_body) for e in train + dev}
    for source, rows in test.items():
        assert not {_norm(e.comment) for e in rows} & seen, source
        assert not {_norm(e.article_body) for e in rows} & seen, source
        assert not {e.group for e in rows} & {e.group for e in train + dev}, source


@needs_data
def test_framed_stance_rows_are_train_only_and_read_no_dev_body() -> None:
    train, dev = load_stance()
    framed = [e for e in train if e.source == "rebut_frames"]
    assert not [e for e in dev if e.source == "rebut_frames"]
    assert {e.label for e in framed} == {"agrees", "disputes", "discusses"}
    dev_bodies = {e.article_body for e in dev if e.source == "fnc1"}
    assert not {e.article_body for e in framed} & dev_bodies
    # the fact inside a frame comes from a training body: no sentence only dev holds
    # (boilerplate such as "Disclosure: ..." is in bodies on both sides, and may be one)
    train_bodies = {e.article_body for e in train if e.source == "fnc1"}
    train_sentences = {s for body in train_bodies for s in _claimable_sentences(body)}
    dev_only = {s for body in dev_bodies for s in _claimable_sentences(body)}
    dev_only -= train_sentences
    assert dev_only
    assert not [e.comment for e in framed if any(s in e.comment for s in dev_only)]
    # every frame wraps a fact; the seed comment's wording is in none of them
    frames = _comment_frames()
    assert all("{fact}" in f for kind in frames.values() for f in kind["frames"])
    assert not [f for kind in frames.values() for f in kind["frames"] if "mention" in f]


@needs_data
def test_offtopic_stance_rows_are_real_train_comments_beside_train_bodies() -> None:
    train, dev = load_stance()
    offtopic = [e for e in train if e.source == "rebut_offtopic"]
    assert len(offtopic) > 500 and {e.label for e in offtopic} == {"unrelated"}
    assert not [e for e in dev if e.source == "rebut_offtopic"]
    dev_bodies = {e.article_body for e in dev if e.source == "fnc1"}
    assert not {e.article_body for e in offtopic} & dev_bodies
    # each comment is a non-abusive comment of a moderation *train* split, used once
    moderation_train, moderation_dev = load_moderation()
    clean_train = {
        e.text
        for e in moderation_train
        if e.source in OFFTOPIC_SOURCES and not e.labels["toxicity"]
    }
    comments = [e.comment for e in offtopic]
    assert set(comments) <= clean_train and len(set(comments)) == len(comments)
    assert not set(comments) & {e.text for e in moderation_dev}


@pytest.mark.parametrize(
    ("claim", "negated"),
    [
        ("Electric cars will not succeed", "Electric cars will succeed"),
        ("We don't need libraries", "We do need libraries"),
        ("Supreme court is not too powerful", "Supreme court is too powerful"),
        (
            "Home-schoolers can't play for high school teams",
            "Home-schoolers can play for high school teams",
        ),
        ("College should be free", "College should not be free"),
        ("Julian Assange is a journalist", "Julian Assange is not a journalist"),
        ("Tenure protects bad teachers", None),  # no auxiliary to carry the negation
        ("No, it can't denounce", None),  # two negations: turning one is not the opposite
    ],
)
def test_negate_claim_turns_one_auxiliary(claim: str, negated: str | None) -> None:
    assert negate_claim(claim) == negated


def test_negated_claims_keep_the_comment_and_swap_agrees_and_disputes() -> None:
    rows = [
        StanceExample(
            "Cars are the future.", "", "Electric cars will not succeed", label, "arc", "g"
        )
        for label in ("agrees", "disputes", "discusses", "unrelated")
    ]
    negated = negated_claims(rows)
    assert [(e.label, e.article_body, e.source) for e in negated] == [
        ("disputes", "Electric cars will succeed", "arc_negated"),
        ("agrees", "Electric cars will succeed", "arc_negated"),
    ]
    assert {(e.comment, e.group) for e in negated} == {("Cars are the future.", "g")}


@needs_data
def test_negated_claim_rows_are_train_only() -> None:
    train, dev = load_stance()
    negated = [e for e in train if e.source.endswith("_negated")]
    assert {e.source for e in negated} == {"arc_negated", "perspectrum_negated"}
    assert len(negated) > 5000 and not [e for e in dev if e.source.endswith("_negated")]
    assert not {e.group for e in negated} & {e.group for e in dev}
    originals = {(e.comment, e.group, e.label) for e in train}
    opposite = {"agrees": "disputes", "disputes": "agrees"}
    assert all((e.comment, e.group, opposite[e.label]) in originals for e in negated)


@needs_data
def test_turned_reports_put_a_statement_and_its_negation_under_both_reports() -> None:
    rows = turned_reports(dev=True, limit=5)
    assert len(rows) == 20 and {e.source for e in rows} == {"rebut_turned_reports"}
    assert all(in_dev(e.group) for e in rows)  # dev bodies only: no training leaks in
    for said, said_turned, negated, negated_turned in zip(*[iter(rows)] * 4):
        labels = [e.label for e in (said, said_turned, negated, negated_turned)]
        assert labels == ["agrees", "disputes", "disputes", "agrees"]
        assert said.comment == said_turned.comment and negated.comment == negated_turned.comment
        assert negate_claim(said.comment) == negated.comment
        body, turned = said.article_body, said_turned.article_body
        assert said.comment in body and negated.comment in turned
        assert turned == body.replace(said.comment, negated.comment, 1)
        assert (negated.article_body, negated_turned.article_body) == (body, turned)
    training = turned_reports(dev=False, limit=50)  # the rows of the pass tried for 0.5.12
    assert len(training) == 200 and not [e for e in training if in_dev(e.group)]


@needs_data
def test_grounding_labels_groups_and_balance() -> None:
    train, dev = load_grounding(limit_per_source=LIMIT)
    assert train and dev
    for split in (train, dev):
        labels = [e.label for e in split]
        assert set(labels) == set(GROUNDING_LABELS)
        assert max(labels.count(x) for x in set(labels)) <= MAX_LABEL_SHARE * len(labels) + 1
    assert not {e.article_id for e in train} & {e.article_id for e in dev}


@needs_data
def test_no_frank_test_article_in_grounding(frank_test_hashes: set[str]) -> None:
    # the human-labelled sources in full (they are small); synthetic ones do not read FRANK
    examples = _frank(DATA) + _xsum_hallucinations(DATA)
    assert examples
    assert not {e.article_id.split(":", 1)[1] for e in examples} & frank_test_hashes
    test_files = {f"grounding/frank/articles/{h}.json" for h in frank_test_hashes}
    assert not test_files & {f["file"] for f in source_files("grounding")}


def test_split_is_a_function_of_the_group() -> None:
    rng = random.Random(0)
    groups = [f"g{rng.random()}" for _ in range(2000)]
    share = sum(in_dev(g, 10) for g in groups) / len(groups)
    assert 0.07 < share < 0.13
    assert all(in_dev(g, 10) == in_dev(g, 10) for g in groups[:50])


@needs_data
def test_limit_is_deterministic_and_per_source() -> None:
    a = load_stance(limit_per_source=20)
    b = load_stance(limit_per_source=20)
    assert a == b
    for split in a:
        counts: dict[str, int] = {}
        for e in split:
            counts[e.source] = counts.get(e.source, 0) + 1
        assert max(counts.values()) <= 20


@needs_data
def test_source_files_cite_the_manifest() -> None:
    for task in TASKS:
        files = source_files(task)
        assert files
        for f in files:
            assert set(f) == {"file", "sha256", "license", "repository", "commit"}
            assert (DATA / f["file"]).is_file()
    with pytest.raises(ValueError, match="valid tasks"):
        source_files("sentiment")


def test_no_torch_import() -> None:
    for path in Path(training.data.__file__).parent.glob("*.py"):
        source = path.read_text()
        assert "import torch" not in source and "import pandas" not in source, path.name
