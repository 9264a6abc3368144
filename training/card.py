"""The model folder's card: README.md beside the weights, written from pipeline.json and the
files themselves. It says what each folder is and serves, its sha256, the thresholds,
where each task's figures, data sources and licences are (data/cards/) and which recipe
makes each folder (training/configs/). It carries no figures of its own: the dev figures of the run
that measured the files are in metrics.json, and `rebut eval` recomputes every figure."""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

TASKS = ("moderation", "checkworthy", "grounding", "stance")
WHAT = {
    "encoder": "the base encoder, unchanged: sentence vectors for evidence retrieval",
    "text": "one fine-tuned encoder with a moderation head and a check-worthiness head, and "
    "the n-gram members (TF-IDF and a logistic regression) heads.json blends into some "
    "attributes (model/ngram.py)",
    "pair": "one fine-tuned encoder reading a comment beside its article: a stance head and "
    "a grounding head",
    "checkworthy": "a fine-tuned encoder with one check-worthiness head",
    "grounding": "a cross-encoder reading a claim beside one article passage",
}
RECIPE = {"text": "text.toml, moderation-ngrams.toml"}


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16] if path.is_file() else "?"


def _folder_rows(out: Path, pipeline: dict) -> list[str]:
    serves: dict[str, list[str]] = {}
    for task, folder in pipeline.get("tasks", {}).items():
        serves.setdefault(folder, []).append(task)
    rows = [
        "| folder | what it is | serves | model.onnx sha256 | recipe (training/configs/) |",
        "|---|---|---|---|---|",
        f"| `encoder/` | {WHAT['encoder']} | claim and sentence vectors | "
        f"`{_sha(out / 'encoder' / 'model.onnx')}…` | every `rebut train` exports it |",
    ]
    for name in sorted(set(pipeline["models"].values())):
        rows.append(
            f"| `{name}/` | {WHAT.get(name, 'a fine-tuned encoder')} | "
            f"{', '.join(serves.get(name, [])) or 'nothing (kept for its other head)'} | "
            f"`{_sha(out / name / 'model.onnx')}…` | {RECIPE.get(name, f'{name}.toml')} |"
        )
    return rows


def _threshold_lines(thresholds: dict) -> list[str]:
    moderation = thresholds["moderation"]
    flag = ", ".join(f"{k} {v}" for k, v in moderation["flag"].items())
    reject = ", ".join(f"{k} {v}" for k, v in moderation["reject"].items())
    return [
        f"- a sentence or clause is a claim at check-worthiness ≥ {thresholds['checkworthy']}",
        f"- `flagged` when an attribute reaches its flag threshold: {flag}",
        f"- held (`reject`) at: {reject}",
    ]


def write_card(out: Path, pipeline: dict) -> None:
    """README.md in `out`, from its pipeline.json and files."""
    lines = [
        f"# rebut model {pipeline['version']}",
        "",
        f"Exported {pipeline['created']}. Base encoder: {pipeline['base_model']}. Each folder "
        "holds an int8 ONNX graph (weights stored as uint8 so that every CPU multiplies them "
        "exactly: training/export_encoder.py), its tokenizer.json and, for a fine-tuned "
        "model, heads.json (heads, labels, input length, calibration). pipeline.json says "
        "which folder serves each task; model.Pipeline loads the folder.",
        "",
        *_folder_rows(out, pipeline),
        "",
        "## Figures, data and limits",
        "",
        "Each task's card has its data and licences, its figures on the real test split per "
        "source, its limits and how to reproduce it: "
        + ", ".join(f"[{t}](../../data/cards/{t}.md)" for t in TASKS)
        + ". `rebut eval TASK --model-dir DIR` recomputes them from these files; "
        "metrics.json holds the dev figures of the `rebut train` run that measured them.",
        "",
        "## Thresholds",
        "",
        "Picked on the dev splits; a newsroom's policy file overrides them "
        "(docs/configuration.md).",
        "",
        *_threshold_lines(pipeline["thresholds"]),
        "",
    ]
    (out / "README.md").write_text("\n".join(lines))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write a model folder's README.md again.")
    parser.add_argument("--model-dir", type=Path, default=Path("model/artifacts"))
    folder = parser.parse_args(argv).model_dir
    write_card(folder, json.loads((folder / "pipeline.json").read_text()))


if __name__ == "__main__":
    main()
