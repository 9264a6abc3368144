"""Counts per source x label of each task's train and dev examples, with load timings.

    python -m training.data                          # every task
    python -m training.data stance --limit 100

The data cards in data/cards/ give these counts for their task.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from training.data.examples import TASKS
from training.data.loaders import LOADERS


def label_counts(examples: Iterable[object]) -> Counter[tuple[str, str]]:
    """(source, label) -> count. Moderation examples count once per known attribute, as
    `attribute=1` / `attribute=0` (scores >= 0.5 count as 1)."""
    counts: Counter[tuple[str, str]] = Counter()
    for e in examples:
        labels = getattr(e, "labels", None)
        if labels is None:
            counts[(e.source, str(e.label))] += 1  # type: ignore[attr-defined]
            continue
        for name, value in labels.items():
            if value is not None:
                counts[(e.source, f"{name}={int(value >= 0.5)}")] += 1
    return counts


def _table(train: list, dev: list) -> str:
    tr, dv = label_counts(train), label_counts(dev)
    tr.update({(s, "n"): n for s, n in Counter(e.source for e in train).items()})
    dv.update({(s, "n"): n for s, n in Counter(e.source for e in dev).items()})
    lines = ["| source | label | train | dev |", "|---|---|---:|---:|"]
    for source, label in sorted(set(tr) | set(dv), key=lambda k: (k[0], k[1] != "n", k[1])):
        lines.append(f"| {source} | {label} | {tr[(source, label)]} | {dv[(source, label)]} |")
    if not hasattr(train[0] if train else dev[0], "labels"):
        totals = Counter(e.label for e in train), Counter(e.label for e in dev)
        for label in sorted(set(totals[0]) | set(totals[1]), key=str):
            lines.append(f"| **all** | {label} | {totals[0][label]} | {totals[1][label]} |")
    lines.append(f"| **all** | n | {len(train)} | {len(dev)} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Print counts per source x label for each task.")
    parser.add_argument("tasks", nargs="*", help=f"any of {', '.join(TASKS)} (default: all)")
    parser.add_argument("--limit", type=int, default=None, help="limit_per_source")
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    unknown = sorted(set(args.tasks) - set(TASKS))
    if unknown:
        parser.error(f"unknown task(s) {', '.join(unknown)}; valid: {', '.join(TASKS)}")
    for task in args.tasks or TASKS:
        start = time.perf_counter()
        train, dev = LOADERS[task](args.data_dir, limit_per_source=args.limit)
        print(f"## {task} ({time.perf_counter() - start:.1f} s)\n\n{_table(train, dev)}\n")


if __name__ == "__main__":
    main()
