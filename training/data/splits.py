"""Where the public data lies, and how the loaders split, sample and read it.

Dev is carved by hashing a group key (article, claim, debate or comment id) with `in_dev`,
so a group never sits on both sides; where a source ships its own dev split, that split is
used. `_limit` keeps a CI-sized sample per source, picked by a hash of the example rather
than by file order.
"""

from __future__ import annotations

import csv
import hashlib
import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from training.data.examples import E, Split

_REPO = Path(__file__).resolve().parents[2]  # data/ holds the files written for rebut

SPLIT_SALT = "rebut-split-v1"  # changing it reshuffles every dev split
DEV_PERCENT = 10
SMALL_DEV_PERCENT = 15  # small sources: a 10% dev would hold too few groups to measure


def default_data_dir() -> Path:
    """$REBUT_DATA_DIR, else ../shared/datasets beside the repository."""
    env = os.environ.get("REBUT_DATA_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2].parent / "shared" / "datasets"


def _root(data_dir: Path | str | None) -> Path:
    root = Path(data_dir) if data_dir is not None else default_data_dir()
    if not (root / "MANIFEST.json").is_file():
        raise FileNotFoundError(f"no MANIFEST.json in {root}; set REBUT_DATA_DIR")
    return root


def _hash(key: str) -> int:
    return int(hashlib.sha1(key.encode()).hexdigest(), 16)


def in_dev(group: str, dev_percent: int = DEV_PERCENT) -> bool:
    """Whether `group` falls in dev: a pure function of the group, so all its examples agree."""
    return _hash(f"{SPLIT_SALT}:{group}") % 100 < dev_percent


def _split(items: Iterable[tuple[E, str]], dev_percent: int) -> Split[E]:
    """(example, group) pairs -> (train, dev)."""
    train: list[E] = []
    dev: list[E] = []
    for example, group in items:
        (dev if in_dev(group, dev_percent) else train).append(example)
    return train, dev


def _norm(text: str) -> str:
    """Key for duplicate detection: case and whitespace do not make a new text."""
    return " ".join(text.casefold().split())


def _key(purpose: str, example: object) -> int:
    """A stable pseudo-random rank for sampling; every field, long ones cut to 300 chars
    (repr of a whole article per example made the stance loader 2x slower)."""
    fields = "|".join(str(v)[:300] for v in vars(example).values())
    return _hash(f"{purpose}:{fields}")


def _limit(examples: list[E], limit: int | None) -> list[E]:
    """At most `limit` examples per source, picked by a hash of the example (not by file
    order, which is often sorted by label), original order kept."""
    if limit is None:
        return examples
    by_source: dict[str, list[int]] = defaultdict(list)
    for i, example in enumerate(examples):
        by_source[example.source].append(i)
    keep: set[int] = set()
    for indices in by_source.values():
        keep.update(sorted(indices, key=lambda i: _key("limit", examples[i]))[:limit])
    return [e for i, e in enumerate(examples) if i in keep]


def _assemble(
    parts: Sequence[Split[E]], limit: int | None, text_key: Callable[[E], str] | None = None
) -> Split[E]:
    """Concatenate per-source splits, subsample, and (for single-text tasks) drop dev
    examples whose text also occurs in train: duplicates cross group boundaries."""
    train = _limit([e for part in parts for e in part[0]], limit)
    dev = _limit([e for part in parts for e in part[1]], limit)
    if text_key is not None:
        seen = {text_key(e) for e in train}
        dev = [e for e in dev if text_key(e) not in seen]
    return train, dev


def _rows(path: Path, delimiter: str = ",", quoting: int = csv.QUOTE_MINIMAL) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter=delimiter, quoting=quoting))
