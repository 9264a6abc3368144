"""FNC-1 and ARC (headline or claim, body) pairs, and the claim clusters that split them.

FNC-1 pairs every headline of a claim with every body of it, and ARC pairs each reader
comment with a claim; both are split by claim cluster, so no story's headline or body
sits on both sides. The stance, grounding, check-worthiness and moderation loaders all
read FNC-1 or ARC through here, so a cluster is on the same side in every task.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from training.data.examples import StanceExample
from training.data.splits import DEV_PERCENT, _key, _rows, in_dev

UNRELATED_SHARE = 0.25  # FNC-1 / ARC: unrelated pairs are ~75% and would swamp the rest


@dataclass(frozen=True)
class _Pair:
    headline: str
    body_id: str
    stance: str
    held_out: bool  # from UKP's train_test_stances.csv: may go to dev, never to train


def _claim_clusters(pairs: Iterable[_Pair]) -> dict[str, str]:
    """Body id -> its claim cluster (smallest body id in it). Bodies are joined through any
    headline they relate to: FNC-1 pairs every headline of a claim with every body of it,
    so grouping by body alone would put the same headline/label in train and dev."""
    parent: dict[str, str] = {}

    def find(node: str) -> str:
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for pair in pairs:
        body = find(f"b:{pair.body_id}")
        if pair.stance != "unrelated":
            parent[find(f"h:{pair.headline}")] = body
    members: dict[str, list[str]] = defaultdict(list)
    for node in list(parent):
        if node.startswith("b:"):
            members[find(node)].append(node[2:])
    return {
        body: min(bodies, key=lambda b: (len(b), b))
        for bodies in members.values()
        for body in bodies
    }


# (bodies by id, pairs, claim cluster by body id)
_PairData = tuple[dict[str, str], list[_Pair], dict[str, str]]
_GroupedPairs = list[tuple[_Pair, str]]


@lru_cache(maxsize=4)
def _pairs(
    folder: Path, bodies_file: str, stance_file: str, held_out_file: str | None = None
) -> _PairData:
    bodies = {r["Body ID"]: r["articleBody"].strip() for r in _rows(folder / bodies_file)}
    pairs, seen = [], set()
    for name in (stance_file, held_out_file) if held_out_file else (stance_file,):
        for r in _rows(folder / name):
            key = (r["Headline"], r["Body ID"])
            if key not in seen:  # a pair in both files keeps its train-file copy
                seen.add(key)
                held_out = name == held_out_file
                pairs.append(_Pair(r["Headline"].strip(), r["Body ID"], r["Stance"], held_out))
    return bodies, pairs, _claim_clusters(pairs)


def _fnc(root: Path) -> _PairData:
    return _pairs(
        root / "stance/fnc1",
        "train_bodies.csv",
        "train_train_stances.csv",
        "train_test_stances.csv",
    )


def _split_pairs(
    pairs: list[_Pair], cluster: dict[str, str], prefix: str
) -> tuple[_GroupedPairs, _GroupedPairs]:
    """Pairs -> (train, dev) by claim cluster; held-out pairs only ever reach dev."""
    train: _GroupedPairs = []
    dev: _GroupedPairs = []
    for pair in pairs:
        group = f"{prefix}:claim{cluster[pair.body_id]}"
        if in_dev(group, DEV_PERCENT):
            dev.append((pair, group))
        elif not pair.held_out:
            train.append((pair, group))
    return train, dev


def _cap_unrelated(examples: list[StanceExample]) -> list[StanceExample]:
    related = [e for e in examples if e.label != "unrelated"]
    unrelated = sorted(
        (e for e in examples if e.label == "unrelated"), key=lambda e: _key("cap", e)
    )
    n = math.floor(len(related) * UNRELATED_SHARE / (1 - UNRELATED_SHARE))
    keep = {id(e) for e in unrelated[:n]}
    return [e for e in examples if e.label != "unrelated" or id(e) in keep]
