"""The model card: README.md beside the weights, written from pipeline.json and metrics.json."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from training import datasets

TASKS = ("moderation", "checkworthy", "grounding", "stance")


def _figures(block: dict, indent: str = "") -> list[str]:
    lines = []
    for key, value in block.items():
        if isinstance(value, int | float):
            lines.append(f"{indent}- {key}: {value}")
        elif key in (
            "fp32",
            "calibration",
            "identity_false_positive_rate",
            "obfuscation",
            "shared_head",
            "fnc1_uncapped",
            "negated_claims",
            "turned_reports",
        ):
            figures = ", ".join(f"{k} {v}" for k, v in value.items())
            lines.append(f"{indent}- {key}: {figures}")
        elif key in ("per_source", "per_attribute", "per_label_f1", "flagged_by_source"):
            lines.append(f"{indent}- {key}:")
            for name, sub in value.items():
                if isinstance(sub, dict):
                    figures = ", ".join(
                        f"{k} {v}" for k, v in sub.items() if isinstance(v, int | float)
                    )
                else:
                    figures = str(sub)
                lines.append(f"{indent}  - {name}: {figures}")
        elif key == "ngram" and value.get("sha256"):
            blended = {k: v for k, v in value["labels"].items() if v["weight"]}
            lines.append(
                f"{indent}- n-gram blend: {', '.join(blended)} blended with `text/"
                f"{value['onnx_file']}` (sha256 `{value['sha256']}…`, "
                f"{value['train_examples']:,} training rows) in log-odds; per attribute, "
                "the weight and its 5-fold cross-validated dev score by weight:"
            )
            for label, chosen in value["labels"].items():
                scores = chosen.get(f"cv_{chosen.get('by')}_by_weight", {})
                by_weight = ", ".join(f"{w} {f}" for w, f in scores.items())
                platt = (
                    f"; then Platt scale {chosen['scale']}, bias {chosen['bias']}"
                    if "scale" in chosen
                    else ""
                )
                lines.append(
                    f"{indent}  - {label}: weight {chosen['weight']}"
                    + (f"; {chosen['by']}: {by_weight}" if by_weight else "")
                    + platt
                )
        elif key == "confusion_matrix":
            lines.append(
                f"{indent}- confusion matrix (rows true, columns predicted, "
                f"{' / '.join(value['labels'])}): {value['rows_true_cols_pred']}"
            )
    return lines


def confusion_picture(block: dict, path: Path, title: str) -> None:
    """A PNG of a confusion matrix block ({labels, rows_true_cols_pred}) via scikit-learn."""
    import matplotlib

    matplotlib.use("Agg")  # no screen on a server
    import matplotlib.pyplot as plt
    import numpy as np
    from sklearn.metrics import ConfusionMatrixDisplay

    figure, axes = plt.subplots(figsize=(5, 4.2), dpi=100)
    ConfusionMatrixDisplay(
        np.array(block["rows_true_cols_pred"]), display_labels=block["labels"]
    ).plot(ax=axes, cmap="Blues", colorbar=False, values_format="d")
    axes.set_title(title)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def _training_lines(training: dict) -> list[str]:
    """One line per fine-tuned model: where and how long it trained, and its weights."""
    lines = []
    for name, entry in training.items():
        log = entry.get("log", entry)
        parts = [f"device {log.get('device', '?')}", f"{log.get('epochs', '?')} epochs"]
        if "steps_done" in log:
            parts.append(f"{log['steps_done']} of {log.get('steps', '?')} steps")
        if "seconds" in log:
            parts.append(f"{log['seconds']} s")
        if "train" in log:
            parts.append("train rows " + ", ".join(f"{k} {v:,}" for k, v in log["train"].items()))
        line = f"- `{name}`: " + "; ".join(parts)
        if "sha256" in entry:
            line += f"; weights sha256 `{entry['sha256'][:16]}…`"
        if "kept_from" in entry:
            line += f"; kept unchanged from {entry['kept_from']}"
        if log.get("note"):
            line += f". {log['note']}"
        lines.append(line + ".")
    return [*lines, ""] if lines else []


def _revision_lines(revisions: list[dict]) -> list[str]:
    """Changes made to the exported files after the training run that measured them."""
    if not revisions:
        return []
    lines = ["Revisions of these files since that run:", ""]
    lines += [f"- {r['version']}: {r['note']}" for r in revisions]
    return [*lines, ""]


def write_card(out: Path, pipeline: dict, report: dict) -> None:
    lines = [
        f"# rebut model {pipeline['version']}",
        "",
        f"Exported {pipeline['created']}; the `rebut train` call that measured it took "
        f"{report['seconds']} s. Base encoder: {pipeline['base_model']}. ONNX graphs, "
        "each int8 (per-channel dynamic quantisation, weights stored as uint8 so that every "
        "CPU multiplies them exactly: training/export_encoder.py; run as int8 where the CPU's "
        "kernel is exact too: model/runtime.py) beside its tokenizer.json: "
        "`encoder/` "
        "(the base encoder, unchanged: sentence vectors for evidence retrieval), `text/` "
        "(one fine-tuned encoder with a moderation head and a check-worthiness head, and "
        "any n-gram model, TF-IDF and a logistic regression in float, that heads.json blends "
        "into an attribute: model/ngram.py), "
        "`pair/` (one fine-tuned encoder reading two texts, with a grounding head and a "
        "stance head) and any single-task model that pipeline.json's `tasks` serves instead "
        "of a shared head (`checkworthy/`); heads.json in each says its heads, labels, "
        "input length and calibration (training/multitask.py). Training inputs: sha256 "
        f"`{report.get('inputs_sha256', '?')[:16]}…` (training/task_inputs.py).",
        "",
        *_training_lines(report.get("training", {})),
        *_revision_lines(report.get("revisions", [])),
        "Every figure below is on a dev split carved from the training sources by article, "
        "claim or id (training/datasets.py); `rebut eval TASK` recomputes it from these files.",
        "",
        "## Thresholds",
        "",
        "```json",
        json.dumps(pipeline["thresholds"], indent=2),
        "```",
        "",
    ]
    for task in TASKS:
        lines += [f"## {task}", ""]
        metrics = report["metrics"].get(task, {})
        if isinstance(metrics.get("provenance"), str):  # how a model left the usual recipe
            lines += [metrics["provenance"], ""]
        lines += _figures(metrics)
        if "confusion_matrix" in metrics:
            picture = f"confusion_{task}.png"
            confusion_picture(metrics["confusion_matrix"], out / picture, f"{task} (dev)")
            lines += ["", f"![{task} confusion matrix on dev]({picture})"]
        lines += ["", "Data:", ""]
        by_folder: dict[str, list[dict]] = {}
        for f in datasets.source_files(task):
            by_folder.setdefault(f["file"].rsplit("/", 1)[0], []).append(f)
        for folder, files in by_folder.items():
            if len(files) > 5:  # e.g. FRANK's article files: one line, one combined hash
                joined = "".join(sorted(f["sha256"] for f in files)).encode()
                digest = hashlib.sha256(joined).hexdigest()
                lines.append(
                    f"- `{folder}/` ({len(files)} files, sha256 of their sorted sha256s "
                    f"`{digest[:16]}…`) from {files[0]['repository']}@"
                    f"{files[0]['commit'][:10]} ({files[0]['license']})"
                )
                continue
            for f in files:
                lines.append(
                    f"- `{f['file']}` sha256 `{f['sha256'][:16]}…` from {f['repository']}@"
                    f"{f['commit'][:10]} ({f['license']})"
                )
        for f in datasets.own_files(task):
            lines.append(f"- `{f['file']}` sha256 `{f['sha256'][:16]}…`, written for rebut")
        lines.append("")
    lines += [
        "## Training configuration",
        "",
        "```json",
        json.dumps(report["config"], indent=2),
        "```",
        "",
        "Data cards with label mappings and counts: data/cards/.",
        "",
    ]
    (out / "README.md").write_text("\n".join(lines))
