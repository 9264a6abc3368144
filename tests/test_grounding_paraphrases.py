"""The hand-written paraphrase cases (data/grounding/paraphrase_cases.json) through the
real pipeline: each claim sent as a comment on its article, as a reader would send it.

A faithful paraphrase must come out `supported`, the same paraphrase with one fact
changed `contradicted`, a fact the article never gives `not_in_article`. The file is a
test set: nothing was trained or tuned on it. `rebut eval grounding` reports the same
cases by kind and by change, grounded without the check-worthiness gate."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from model import ArticleIn, CommentIn, Pipeline

CASES_FILE = Path(__file__).resolve().parents[1] / "data/grounding/paraphrase_cases.json"
SPEC = json.loads(CASES_FILE.read_text(encoding="utf-8"))
ARTICLES = {
    a["id"]: ArticleIn(id=a["id"], title=a["title"], body=a["body"]) for a in SPEC["articles"]
}
KIND_LABEL = {"paraphrase": "supported", "changed": "contradicted", "new_fact": "not_in_article"}
SEVERITY = ("contradicted", "not_in_article", "supported")  # a comment is its worst claim

# the bars; where the shipped model falls short, the case is a strict xfail with
# its measured figure, so the day it is met the mark has to come off
BARS = [
    pytest.param(
        "paraphrase",
        0.90,
        marks=pytest.mark.xfail(
            strict=True, reason="model 0.6.0 serves 0.25: 42 of 60 read as contradicted"
        ),
    ),
    ("changed", 0.75),  # 0.833 served
    pytest.param(
        "new_fact",
        0.85,
        marks=pytest.mark.xfail(
            strict=True, reason="model 0.6.0 serves 0.417: 35 of 60 read as contradicted"
        ),
    ),
]
CLAIM_MISS_RATE = 0.05  # cases the check-worthiness gate may drop


def test_the_case_file_is_what_it_says() -> None:
    assert len(SPEC["cases"]) >= 150 and len(ARTICLES) >= 10
    claims = [c["claim"] for c in SPEC["cases"]]
    assert len(set(claims)) == len(claims)
    for case in SPEC["cases"]:
        assert KIND_LABEL[case["kind"]] == case["label"], case
        if case["passage"] is not None:
            assert case["passage"] in ARTICLES[case["article"]].body, case
    changes = Counter(c["change"] for c in SPEC["cases"] if c["kind"] == "changed")
    assert set(changes) == {"number", "unit", "date", "place", "actor", "negation", "quantifier"}


@pytest.fixture(scope="module")
def verdicts(pipeline: Pipeline) -> list[str]:
    """Each case's verdict as served: its worst claim's status, or `no_claim`."""
    items = [
        (
            CommentIn(id=f"case-{i}", article_id=c["article"], text=c["claim"]),
            ARTICLES[c["article"]],
        )
        for i, c in enumerate(SPEC["cases"])
    ]
    out = []
    for result in pipeline.score_batch(items):
        statuses = [c.status for c in result.claims]
        out.append(min(statuses, key=SEVERITY.index) if statuses else "no_claim")
    return out


def _accuracy(verdicts: list[str], kind: str) -> float:
    rows = [(c, v) for c, v in zip(SPEC["cases"], verdicts) if c["kind"] == kind]
    return sum(v == c["label"] for c, v in rows) / len(rows)


def test_every_case_is_taken_for_a_claim(verdicts: list[str]) -> None:
    """Every case states a fact: the check-worthiness gate must let it through."""
    assert verdicts.count("no_claim") / len(verdicts) <= CLAIM_MISS_RATE


@pytest.mark.parametrize(("kind", "bar"), BARS)
def test_cases_get_their_label(verdicts: list[str], kind: str, bar: float) -> None:
    assert _accuracy(verdicts, kind) >= bar
