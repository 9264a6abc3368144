"""Dev accuracy of the served int8 models against their fp32 originals, per task.

    python bench/accuracy.py [--metrics model/artifacts/metrics.json]

Reads the model card's metrics.json: `rebut train` measured every task's dev split with
the int8 graphs that ship and with the fp32 graphs they were quantised from, in one run.
`rebut eval all` recomputes the int8 figures from the committed model (the fp32 graphs are
not committed, so fp32 is only measured at training time). A task without an fp32 block
is printed as such: the check-worthiness model is served from an older folder whose
fp32 figures were not kept.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

METRICS = Path(__file__).resolve().parents[1] / "model" / "artifacts" / "metrics.json"
# each task's headline figure, printed first
HEADLINE = {
    "moderation": "jigsaw_flagged_accuracy",
    "checkworthy": "accuracy",
    "grounding": "accuracy",
    "stance": "accuracy",
}
POINTS = 100  # metrics in [0, 1] differ by this many points per unit; fnc1's is in points


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--metrics", type=Path, default=METRICS)
    args = parser.parse_args()
    metrics = json.loads(args.metrics.read_text())["metrics"]
    print(f"{args.metrics}")
    print("| task | metric | int8 | fp32 | int8 - fp32 (points) |")
    print("|---|---|---|---|---|")
    for task, head in metrics.items():
        fp32 = head.get("fp32") or {}
        names = [HEADLINE[task], *(k for k in fp32 if k not in (HEADLINE[task], "n"))]
        for name in names:
            if not isinstance(head.get(name), float):
                continue
            if name not in fp32:
                print(f"| {task} | {name} | {head[name]:.4f} | not kept | |")
                continue
            scale = 1 if name == "fnc1_weighted_score" else POINTS
            delta = (head[name] - fp32[name]) * scale
            print(f"| {task} | {name} | {head[name]:.4f} | {fp32[name]:.4f} | {delta:+.2f} |")


if __name__ == "__main__":
    main()
