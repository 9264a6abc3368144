"""training/data/ against the real ../shared/datasets: the grounding test split is real,
several sources, never trained on; no group or claim crosses splits; binary negatives
train only what they say. Skipped where the data is absent."""

from __future__ import annotations

import math
from collections import Counter

import pytest
import torch

from model.result import GROUNDING_LABELS
from training.data import nli
from training.data.grounding import (
    NOT_SUPPORTED,
    TRAINABLE,
    capped,
    load_pairs,
    passage_rows,
    training_rows,
)
from training.data.pairs import GroundingPair, norm
from training.data.splits import default_data_dir
from training.multitask.loss import _softmax_losses

DATA = default_data_dir()
needs_data = pytest.mark.skipif(
    not (DATA / "MANIFEST.json").is_file(),
    reason=f"public datasets not found at {DATA} (set REBUT_DATA_DIR)",
)


@pytest.fixture(scope="module")
def pairs() -> list[GroundingPair]:
    return load_pairs(DATA)


@needs_data
def test_the_test_split_is_real_and_wide(pairs: list[GroundingPair]) -> None:
    test = [p for p in pairs if p.split == "test"]
    by_source = Counter(p.source for p in test)
    assert len(test) >= 1000 and len([s for s, n in by_source.items() if n >= 100]) >= 3
    assert "frank" in by_source  # news summaries against their articles
    assert "edits" not in by_source  # synthetic rows are never test rows


@needs_data
def test_no_group_or_claim_crosses_from_train_to_test(pairs: list[GroundingPair]) -> None:
    groups = {split: {p.group for p in pairs if p.split == split} for split in ("train", "test")}
    assert not groups["train"] & groups["test"]
    # the same claim may be judged against other evidence within a split, never across
    # (RTE reuses hypotheses, MRPC and STS-B share sentences: training_rows drops them)
    claims = {
        split: {norm(p.claim) for p in pairs if p.split == split} for split in ("train", "test")
    }
    shared = claims["train"] & claims["test"]
    assert not shared, sorted(shared)[:5]


@needs_data
def test_evaluation_only_sources_never_train() -> None:
    held = nli.evaluation_only(DATA)
    assert {p.source for p in held} == {"anli", "sick", "control"}
    assert all(p.split == "test" for p in held)
    assert not {"anli", "sick", "control"} & set(TRAINABLE)


@needs_data
def test_training_rows_hold_no_test_row_and_mark_binary_negatives(
    pairs: list[GroundingPair],
) -> None:
    kept = capped(pairs)
    rows = list(training_rows(kept, lambda p: p.evidence[:500]))
    assert {r["split"] for r in rows} == {"train", "dev"}
    test_claims = {norm(p.claim) for p in pairs if p.split == "test"}
    assert not [r for r in rows if norm(r["a"]) in test_claims]
    ys = Counter(r["y"] for r in rows)
    assert set(ys) == {NOT_SUPPORTED, *range(len(GROUNDING_LABELS))}
    binary = {r["source"] for r in rows if r["y"] == NOT_SUPPORTED}
    assert binary == {"mnli", "rte", "mrpc", "fever"}


def test_a_binary_negative_asks_only_that_the_pair_is_not_supported() -> None:
    logits = torch.tensor([[2.0, 0.5, -1.0], [0.1, 3.0, -2.0]])
    losses = _softmax_losses(logits, torch.tensor([NOT_SUPPORTED, 1]))
    p = torch.softmax(logits, dim=-1)
    assert math.isclose(float(losses[0]), -math.log(1 - float(p[0, 0])), rel_tol=1e-5)
    assert math.isclose(float(losses[1]), -math.log(float(p[1, 1])), rel_tol=1e-5)


def test_a_document_row_trains_only_what_its_passage_can_carry() -> None:
    body = "The mill opened in 1887. It closed in May. Two hundred people worked there."
    summary = "The mill opened in 1887. It closed in May."
    rows = [
        GroundingPair(summary, body, "supported", "frank", "a", "train", document=True),
        GroundingPair(
            "The mill opened in 1912.", body, "contradicted", "frank", "a", "train", True
        ),
        GroundingPair("It was sold.", body, "not_in_article", "frank", "a", "train", True),
        GroundingPair("It was sold. It burned.", body, "not_in_article", "frank", "a", "dev", True),
        GroundingPair("The mill closed.", body, "supported", "frank", "a", "test", True),
    ]
    kept = passage_rows(rows)
    assert [(r.claim, r.label) for r in kept] == [
        ("The mill opened in 1887.", "supported"),
        ("It closed in May.", "supported"),
        ("It was sold.", "not_in_article"),
    ]
