"""What is fitted and measured on the dev rows once training is done: each head's logits,
its calibration (exported inside the graph), and the dev figures printed in the log."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from safetensors.numpy import load_file, save_file
from transformers import AutoTokenizer

from training.inputs_file import read_inputs
from training.multitask.batches import _encode, _target
from training.multitask.model import HeadSpec, MultiHeadModel, bf16_autocast
from training.multitask.weights import load_trained

MIN_CALIBRATION_POSITIVES = 30  # per sigmoid label, on dev, to fit its Platt scaling


@torch.no_grad()
def logits_of(
    model: MultiHeadModel,
    tokenizer,
    rows: list[dict],
    spec: HeadSpec,  # noqa: ANN001
    device: str,
    batch_size: int = 128,
) -> np.ndarray:
    model.eval()
    bf16 = bf16_autocast(device)
    order = sorted(range(len(rows)), key=lambda j: len(rows[j]["a"]) + len(rows[j].get("b", "")))
    out = np.zeros((len(rows), len(spec.labels)), dtype=np.float32)
    for i in range(0, len(order), batch_size):
        idx = order[i : i + batch_size]
        batch = {
            k: v.to(device)
            for k, v in _encode(tokenizer, [rows[j] for j in idx], spec.max_tokens).items()
        }
        with torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=bf16):
            z = model(**batch, task=spec.task)
        out[idx] = z.float().cpu().numpy()
    return out


def calibrate(logits: np.ndarray, rows: list[dict], spec: HeadSpec) -> dict[str, list[float]]:
    """Softmax heads: one temperature (scale = 1/T, no bias). Sigmoid heads: a scale and
    a bias per label, on the examples that know the label. Both minimise dev NLL."""
    z = torch.from_numpy(logits)
    if not spec.multilabel:
        target = torch.tensor([r["y"] for r in rows])
        z, target = z[target >= 0], target[target >= 0]  # binary negatives: no one label
        log_t = torch.zeros(1, requires_grad=True)
        opt = torch.optim.LBFGS([log_t], lr=0.1, max_iter=100)

        def closure() -> torch.Tensor:
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(z / log_t.exp(), target)
            loss.backward()
            return loss

        opt.step(closure)
        t = float(log_t.detach().exp())
        return {"scale": [1.0 / t] * len(spec.labels), "bias": [0.0] * len(spec.labels)}
    target = _target(rows, spec)
    scale, bias = [], []
    for k in range(len(spec.labels)):
        known = ~torch.isnan(target[:, k])
        y = target[known, k]
        # a few positives (threat: 14 on dev) fit a bias that inflates every other text:
        # keep the raw sigmoid there
        if min(int(y.sum()), int((1 - y).sum())) < MIN_CALIBRATION_POSITIVES:
            scale.append(1.0)
            bias.append(0.0)
            continue
        a = torch.ones(1, requires_grad=True)
        b = torch.zeros(1, requires_grad=True)
        opt = torch.optim.LBFGS([a, b], lr=0.1, max_iter=100)

        def closure_k(
            opt: torch.optim.LBFGS = opt,
            logits: torch.Tensor = z[known, k],
            target_k: torch.Tensor = y,
            a: torch.Tensor = a,
            b: torch.Tensor = b,
        ) -> torch.Tensor:
            opt.zero_grad()
            loss = torch.nn.functional.binary_cross_entropy_with_logits(logits * a + b, target_k)
            loss.backward()
            return loss

        opt.step(closure_k)
        ok = float(a.detach()) > 0  # a head that ranks backwards is not rescued by flipping it
        scale.append(float(a.detach()) if ok else 1.0)
        bias.append(float(b.detach()) if ok else 0.0)
    return {"scale": scale, "bias": bias}


def quick_metrics(logits: np.ndarray, rows: list[dict], spec: HeadSpec) -> dict:
    """Dev figures printed where training runs (the card's come from `rebut eval`)."""
    from sklearn.metrics import f1_score, roc_auc_score

    if spec.multilabel:
        y = _target(rows, spec).numpy()
        aucs = {}
        for k, name in enumerate(spec.labels):
            known = ~np.isnan(y[:, k])
            if known.sum() and 0 < y[known, k].mean() < 1:
                aucs[name] = round(float(roc_auc_score(y[known, k], logits[known, k])), 4)
        return {"roc_auc": aucs}
    from training.evaluate import fnc_score

    y = np.array([r["y"] for r in rows])
    pred = logits.argmax(1)
    # a binary source's negatives (y = -1) count as right when the prediction is not the
    # first label: their macro-F1 is supported against not
    y = np.where(y < 0, np.where(pred > 0, pred, 1), y)
    by_source, label_f1_by_source = {}, {}
    for source in sorted({r["source"] for r in rows}):
        m = np.array([r["source"] == source for r in rows])
        by_source[source] = round(float(f1_score(y[m], pred[m], average="macro")), 4)
        per_label = f1_score(y[m], pred[m], average=None, labels=range(len(spec.labels)))
        label_f1_by_source[source] = {
            name: round(float(f), 4) for name, f in zip(spec.labels, per_label)
        }
    out = {
        "macro_f1": round(float(f1_score(y, pred, average="macro")), 4),
        "accuracy": round(float((y == pred).mean()), 4),
        "macro_f1_by_source": by_source,
        "label_f1_by_source": label_f1_by_source,
    }
    if spec.task == "stance" and "fnc1" in by_source:
        fnc = [i for i, r in enumerate(rows) if r["source"] == "fnc1"]
        name = spec.labels
        out["fnc1_weighted_score"] = fnc_score(
            [name[y[i]] for i in fnc], [name[pred[i]] for i in fnc]
        )
    return out


def recalibrate(weights: Path, base_dir: Path, inputs: Path) -> dict:
    """Fit the calibration again here, on the dev rows of `inputs`, and store it in the
    weights file's metadata (a rule changed after the weights were trained)."""
    model, specs, _ = load_trained(weights, base_dir)
    tokenizer = AutoTokenizer.from_pretrained(base_dir)
    _, rows = read_inputs(inputs)
    calibration = {}
    for s in specs:
        dev = [r for r in rows if r["task"] == s.task and r["split"] == "dev"]
        calibration[s.task] = calibrate(logits_of(model, tokenizer, dev, s, "cpu"), dev, s)
    packed = load_file(str(weights))
    meta = {
        "specs": json.dumps([s.__dict__ for s in specs]),
        "calibration": json.dumps(calibration),
    }
    save_file(packed, str(weights), metadata=meta)
    return calibration
