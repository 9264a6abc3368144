"""The hand-written reader comments (data/stance/comment_cases.json) through the real
pipeline: each comment sent under its article, and its stance compared with the one its
kind takes.

Omissions, corrections and sarcasm dispute the article, praise and restatements agree
with it, questions and asides discuss it, and a comment about something else is
unrelated. The file is a test set: nothing was trained or tuned on it, and no comment
reuses a training frame (data/stance/comment_frames.json), so a kind that passes shows
the model generalises rather than recognises its own training wording.

    CI=true .venv/bin/pytest -q -p no:cacheprovider -s tests/test_stance_cases.py
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from model import ArticleIn, CommentIn, Pipeline

ROOT = Path(__file__).resolve().parents[1]
CASES_FILE = ROOT / "data/stance/comment_cases.json"
FRAMES_FILE = ROOT / "data/stance/comment_frames.json"
SPEC = json.loads(CASES_FILE.read_text(encoding="utf-8"))
ARTICLES = {
    a["id"]: ArticleIn(id=a["id"], title=a["title"], body=a["body"])
    for a in json.loads((ROOT / SPEC["articles_from"]).read_text(encoding="utf-8"))["articles"]
}
KIND_STANCE = {
    "omission": "disputes",
    "correction": "disputes",
    "sarcasm": "disputes",
    "praise": "agrees",
    "restate": "agrees",
    "question": "discusses",
    "aside": "discusses",
    "off_topic": "unrelated",
}
REBUTTALS = ("omission", "correction", "sarcasm")
MIN_PER_KIND = 8
BAR = 0.70
REBUTTAL_BAR = 0.65


def _short(kind: str, reason: str) -> Any:  # pytest's ParameterSet is not public
    """A kind the shipped model does not reach the bar on: a strict xfail carrying the
    measured figure, so the day a model passes it the mark has to come off."""
    return pytest.param(kind, marks=pytest.mark.xfail(strict=True, reason=reason))


# measured on the shipped model; a kind without a mark reaches BAR (its share beside it)
KIND_PARAMS = [
    _short("omission", "model 0.6.0+20261207: 0.250 (3 of 12)"),
    _short("correction", "model 0.6.0+20261207: 0.286 (4 of 14)"),
    _short("sarcasm", "model 0.6.0+20261207: 0.250 (3 of 12)"),
    _short("praise", "model 0.6.0+20261207: 0.333 (4 of 12)"),
    _short("restate", "model 0.6.0+20261207: 0.583 (7 of 12)"),
    "question",  # 0.917 (11 of 12)
    "aside",  # 0.750 (9 of 12)
    "off_topic",  # 0.833 (10 of 12)
]
KINDS = list(KIND_STANCE)


def _frame_wording() -> list[str]:
    """The fixed words of every training frame, around its {fact}, in lower case."""
    frames = json.loads(FRAMES_FILE.read_text(encoding="utf-8"))
    parts = []
    for key, value in frames.items():
        if key == "about":
            continue
        for frame in value["frames"]:
            parts += [p.strip().lower() for p in frame.split("{fact}") if p.strip()]
    return parts


def test_the_case_file_is_what_it_says() -> None:
    cases = SPEC["cases"]
    counts = Counter(c["kind"] for c in cases)
    assert set(counts) == set(KIND_STANCE), counts
    assert all(n >= MIN_PER_KIND for n in counts.values()), counts
    comments = [c["comment"] for c in cases]
    assert len(set(comments)) == len(comments)
    for case in cases:
        assert KIND_STANCE[case["kind"]] == case["stance"], case
        assert case["article"] in ARTICLES, case
    # every kind is spread over the articles, so no one story decides a kind's share
    for kind in KIND_STANCE:
        assert len({c["article"] for c in cases if c["kind"] == kind}) >= 8, kind
    # a test set, not training data: no comment is in the training frames' file, and none
    # uses a frame's fixed wording (the frames would otherwise be tested on themselves)
    frames_text = FRAMES_FILE.read_text(encoding="utf-8")
    wording = _frame_wording()
    for comment in comments:
        assert comment not in frames_text, comment
        used = [w for w in wording if w in comment.lower()]
        assert not used, (comment, used)


@pytest.fixture(scope="module")
def labels(pipeline: Pipeline) -> list[str]:
    """Each case's stance as served, all cases in one batch; prints the table by kind."""
    items = [
        (
            CommentIn(id=f"case-{i}", text=c["comment"], article_id=c["article"]),
            ARTICLES[c["article"]],
        )
        for i, c in enumerate(SPEC["cases"])
    ]
    out = []
    for result in pipeline.score_batch(items):
        assert result.stance is not None, result
        out.append(result.stance.label)
    print(f"\nstance by kind, model {pipeline.model_version}")
    print(f"{'kind':<12}{'n':>4}{'right':>7}{'share':>8}")
    for kind in KINDS:
        right, n = _right(labels=out, kinds=(kind,))
        print(f"{kind:<12}{n:>4}{right:>7}{right / n:>8.3f}")
    right, n = _right(labels=out, kinds=REBUTTALS)
    print(f"{'rebuttals':<12}{n:>4}{right:>7}{right / n:>8.3f}")
    return out


def _right(labels: list[str], kinds: tuple[str, ...]) -> tuple[int, int]:
    """How many of the cases of `kinds` got their stance, and how many there are."""
    rows = [(c, label) for c, label in zip(SPEC["cases"], labels) if c["kind"] in kinds]
    return sum(label == c["stance"] for c, label in rows), len(rows)


@pytest.mark.parametrize("kind", KIND_PARAMS)
def test_each_kind_gets_its_stance(labels: list[str], kind: str) -> None:
    right, n = _right(labels, (kind,))
    assert right / n >= BAR, f"{kind}: {right} of {n}"


@pytest.mark.xfail(strict=True, reason="model 0.6.0+20261207: 0.263 (10 of 38)")
def test_rebuttals_read_as_disputes(labels: list[str]) -> None:
    """Omission, correction and sarcasm together: the comments a fact-checker most needs
    told apart from agreement and discussion."""
    right, n = _right(labels, REBUTTALS)
    assert right / n >= REBUTTAL_BAR, f"{right} of {n}"
