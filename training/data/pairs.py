"""The record a grounding loader returns, and the rule that puts each row in a split.

A split is decided by a row's group (an article, an abstract, a claim), never by the row,
so no claim or document sits on both sides. Upstream test splits are rebut's test split:
never trained on, never used to choose thresholds or runs. The rest of a source is
carved by group into train and dev.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Split = Literal["train", "dev", "test"]
# labels a row may carry: the three served ones, and `not_supported` for binary sources
# that merge contradicted and not_in_article (RTE, MRPC, DocNLI)
PAIR_LABELS = ("supported", "contradicted", "not_in_article", "not_supported")
SPLIT_SALT = "rebut-grounding-v1"


@dataclass(frozen=True)
class GroundingPair:
    """A claim judged against evidence. `document` rows hold a whole article (or
    abstract) in `evidence`: the served path retrieves the passages itself."""

    claim: str
    evidence: str
    label: str
    source: str
    group: str
    split: Split
    document: bool = False
    # where the gold evidence lies in `evidence` (document rows with sentence-level gold):
    # character spans, for retrieval recall
    gold: tuple[tuple[int, int], ...] = ()

    def __post_init__(self) -> None:
        if self.label not in PAIR_LABELS:
            raise ValueError(f"{self.source}: unknown label {self.label!r}")


def carve(group: str, dev_percent: int = 15, test_percent: int = 0) -> Split:
    """train / dev (/ test) by a hash of the group: every row of a group agrees."""
    bucket = int(hashlib.sha1(f"{SPLIT_SALT}:{group}".encode()).hexdigest(), 16) % 100
    if bucket < test_percent:
        return "test"
    return "dev" if bucket < test_percent + dev_percent else "train"


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def norm(text: str) -> str:
    """Case and spacing do not make a new text."""
    return " ".join(text.casefold().split())
