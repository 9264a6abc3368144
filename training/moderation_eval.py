"""Moderation figures on real rows no model of rebut's has trained on: the test split of
training/data/moderation.py's sources, scored as the service scores a comment without an
article (Pipeline.score_batch, no claims), per source.

    python -m training.moderation_eval [--model-dir DIR] [--split test]

Reported per source: ROC-AUC of `toxicity` and `identity_attack` against the rows that
label them, and `flagged` (the policy's decision) against `toxicity`: accuracy, recall on
abusive rows and the false-positive rate on the rest.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from model.pipeline import Pipeline
from model.result import CommentIn
from training.data import moderation
from training.data.examples import ModerationExample
from training.data.moderation_sources import load_moderation
from training.data.pairs import norm
from training.data.splits import default_data_dir

BATCH = 64


def scores(pipeline: Pipeline, rows: list[ModerationExample]) -> tuple[np.ndarray, np.ndarray]:
    """(flagged, attributes (n, 2): toxicity, identity_attack) as the service scores them."""
    flagged, attributes = [], []
    for at in range(0, len(rows), BATCH):
        chunk = rows[at : at + BATCH]
        items = [
            (CommentIn(id=f"m{at + k}", text=e.text[:20_000]), None) for k, e in enumerate(chunk)
        ]
        for result in pipeline.score_batch(items, with_claims=False):
            flagged.append(result.moderation.flagged)
            a = result.moderation.attributes
            attributes.append([a["toxicity"], a["identity_attack"]])
    return np.array(flagged), np.array(attributes)


def figures(rows: list[ModerationExample], flagged: np.ndarray, attributes: np.ndarray) -> dict:
    out: dict = {"n": len(rows)}
    for k, name in enumerate(("toxicity", "identity_attack")):
        gold = np.array([np.nan if e.labels[name] is None else e.labels[name] for e in rows])
        known = ~np.isnan(gold)
        y = gold[known] >= 0.5
        if known.any() and 0 < y.sum() < len(y):
            out[f"{name}_roc_auc"] = round(float(roc_auc_score(y, attributes[known, k])), 4)
    abusive = np.array([(e.labels["toxicity"] or 0) >= 0.5 for e in rows])
    out["abusive"] = int(abusive.sum())
    out["flagged_accuracy"] = round(float(np.mean(flagged == abusive)), 4)
    out["flagged_recall"] = round(float(flagged[abusive].mean()), 4) if abusive.any() else None
    out["false_positive_rate"] = (
        round(float(flagged[~abusive].mean()), 4) if (~abusive).any() else None
    )
    return out


def evaluate(model_dir: Path | None, data_dir: Path | None, split: str = "test") -> dict:
    root = data_dir or default_data_dir()
    train, dev = load_moderation(root)
    known = {norm(e.text) for e in train + dev}
    rows = moderation.load(root, known)[split]
    pipeline = Pipeline.from_dir(model_dir)
    flagged, attributes = scores(pipeline, rows)
    out = {"model_version": pipeline.model_version, "split": split}
    for source in sorted({e.source for e in rows}):
        mask = np.array([e.source == source for e in rows])
        out[source] = figures(
            [e for e in rows if e.source == source], flagged[mask], attributes[mask]
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, default=None)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--split", choices=("dev", "test"), default="test")
    args = parser.parse_args()
    print(json.dumps(evaluate(args.model_dir, args.data_dir, args.split), indent=1))


if __name__ == "__main__":
    main()
