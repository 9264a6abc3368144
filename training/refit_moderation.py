"""Refit a model folder's moderation n-gram members on its kept text head, and re-pick the
flag thresholds on dev: the CPU half of the moderation model, minutes on two cores.

    python -m training.refit_moderation --model-dir runs/m   # a copy of model/artifacts

Rows are `rebut train`'s (training/task_inputs.py: the head's sources, the identity
sentences, and training/data/moderation.py's train and dev splits); their test splits are
never read. The n-grams are offered to `--labels` (default: spam, threat, identity_attack,
the attributes whose blend does not cost `flagged` accuracy on the head's sources); each
label's weight is cross-validated on dev (training/ngram.py), then the flag thresholds are
chosen on dev for the blended model (training/evaluate.py pick_flag_thresholds) and
written into the folder's pipeline.json.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from model.result import ATTRIBUTES
from training import ngram
from training.data.splits import default_data_dir
from training.evaluate import moderation_targets, pick_flag_thresholds, predict_task
from training.task_inputs import task_rows

BLENDED = ("spam", "threat", "identity_attack")


def refit(model_dir: Path, data_dir: Path, labels: tuple[str, ...] = BLENDED) -> dict:
    rows = list(task_rows("moderation", None, data_dir))  # type: ignore[arg-type]
    train = [r for r in rows if r["split"] == "train"]
    dev = [r for r in rows if r["split"] == "dev"]
    report = ngram.add_to_text_model(model_dir / "text", train, dev, labels=labels)
    config = json.loads((model_dir / "pipeline.json").read_text())
    folder = config.get("tasks", {}).get("moderation", "text")
    probabilities = predict_task(model_dir, "moderation", dev, folder=folder)
    chosen = pick_flag_thresholds(moderation_targets(dev), probabilities, list(ATTRIBUTES))
    flag = config["thresholds"]["moderation"]["flag"]
    config["thresholds"]["moderation"]["flag"] = {name: chosen[name] for name in flag}
    (model_dir / "pipeline.json").write_text(json.dumps(config, indent=2) + "\n")
    return {"ngram": report, "flag": config["thresholds"]["moderation"]["flag"]}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, required=True)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--labels", default=",".join(BLENDED))
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    labels = tuple(args.labels.split(","))
    print(json.dumps(refit(args.model_dir, args.data_dir or default_data_dir(), labels)))


if __name__ == "__main__":
    main()
