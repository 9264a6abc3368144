"""The training loop: heads for some tasks on one encoder, trained, calibrated on dev and
written as a packed weights file with its log."""

from __future__ import annotations

import json
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors.numpy import save_file
from tqdm import tqdm
from transformers import AutoTokenizer

from training.inputs_file import read_inputs
from training.multitask.batches import _batches, _encode, _repeated, _target
from training.multitask.calibrate import calibrate, logits_of, quick_metrics
from training.multitask.loss import _example_weights, _loss
from training.multitask.model import (
    FROZEN,
    HeadSpec,
    MultiHeadModel,
    bf16_autocast,
    head_specs,
)
from training.multitask.weights import load_base, load_trained, pack


def fit(
    inputs: Path,
    base_dir: Path,
    name: str,
    tasks: list[str],
    out_dir: Path,
    epochs: int = 3,
    batch_size: int = 32,
    learning_rate: float = 5e-5,
    deadline_s: float = float("inf"),
    seed: int = 0,
    limit: int | None = None,
    max_tokens: dict[str, int] | None = None,
    init: Path | None = None,
    balance: str = "label",
    repeat: dict[str, float] | None = None,
) -> dict:
    """Train heads for `tasks` on one encoder; write <out>/<name>.safetensors (packed,
    calibration and labels in its metadata) and <out>/<name>.json (dev figures).
    `balance` and `repeat` shape the softmax heads' training rows (`_example_weights`,
    `_repeated`)."""
    start = time.monotonic()
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    bf16 = bf16_autocast(device)
    labels, rows = read_inputs(inputs)
    specs = head_specs(labels, tasks, max_tokens)
    train, dev = _split(rows, tasks, limit, repeat or {}, seed)
    tokenizer = AutoTokenizer.from_pretrained(base_dir)
    model, specs = _model(base_dir, specs, tasks, init, device)
    spec_of = {s.task: s for s in specs}
    weights = {
        t: None if spec_of[t].multilabel else _example_weights(train[t], balance) for t in tasks
    }
    rng = random.Random(seed)
    steps = epochs * len(_batches(train, batch_size, random.Random(0)))
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer, schedule = _optimizer(params, learning_rate, steps, start, deadline_s)
    log = {
        "name": name,
        "tasks": tasks,
        "device": device,
        "precision": "bf16 autocast" if bf16 else "fp32",
        "epochs": epochs,
        "steps": steps,
        "learning_rate": learning_rate,
        "balance": balance,
        "repeat": repeat or {},
        "train": {t: len(v) for t, v in train.items()},
        "dev": {t: len(v) for t, v in dev.items()},
    }
    loop = _Loop(name, epochs, batch_size, steps, device, bf16, start, deadline_s)
    log |= _train(model, tokenizer, train, spec_of, weights, params, optimizer, schedule, rng, loop)
    calibration, metrics = _on_dev(model, tokenizer, specs, dev, device)
    log["dev"] = metrics
    log["calibration"] = calibration
    log["seconds"] = round(time.monotonic() - start, 1)
    _save(model, specs, calibration, log, out_dir, name)
    print(json.dumps(log))
    return log


def _split(
    rows: list[dict], tasks: list[str], limit: int | None, repeat: dict[str, float], seed: int
) -> tuple[dict[str, list[dict]], dict[str, list[dict]]]:
    """Each task's train rows (as `repeat` says) and dev rows, the first `limit` of each."""
    train = {
        t: _repeated(
            [r for r in rows if r["task"] == t and r["split"] == "train"][:limit],
            repeat,
            seed,
        )
        for t in tasks
    }
    dev = {t: [r for r in rows if r["task"] == t and r["split"] == "dev"][:limit] for t in tasks}
    return train, dev


def _model(
    base_dir: Path, specs: list[HeadSpec], tasks: list[str], init: Path | None, device: str
) -> tuple[MultiHeadModel, list[HeadSpec]]:
    """A new model over the packed base, or trained weights to go on from (their heads
    must be these tasks); its word embeddings frozen either way."""
    if init is not None:
        model, specs, _ = load_trained(init, base_dir)
        if [s.task for s in specs] != tasks:
            raise ValueError(f"{init} has heads {[s.task for s in specs]}, not {tasks}")
        model = model.to(device)
    else:
        model = MultiHeadModel(load_base(base_dir), specs).to(device)
    model.transformer.get_parameter(FROZEN).requires_grad_(False)
    return model, specs


def _optimizer(
    params: list[torch.nn.Parameter],
    learning_rate: float,
    steps: int,
    start: float,
    deadline_s: float,
) -> tuple[torch.optim.AdamW, torch.optim.lr_scheduler.LambdaLR]:
    optimizer = torch.optim.AdamW(params, lr=learning_rate, weight_decay=0.01)
    warmup = int(0.06 * steps)

    def lr_factor(step: int) -> float:
        # linear warm-up, then linear decay to zero by the last step or by the deadline,
        # whichever comes first: a run cut short by its deadline still ends annealed
        if step < warmup:
            return (step + 1) / warmup
        progress = max(step / steps, (time.monotonic() - start) / deadline_s)
        return max(0.0, 1.0 - progress) / max(1e-9, 1.0 - warmup / steps)

    return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor)


@dataclass(frozen=True)
class _Loop:
    """What the training loop is told besides the model, rows and optimiser."""

    name: str
    epochs: int
    batch_size: int
    steps: int
    device: str
    bf16: bool
    start: float  # time.monotonic() when fit began
    deadline_s: float

    def past_deadline(self) -> bool:
        return time.monotonic() - self.start > self.deadline_s


def _train(
    model: MultiHeadModel,
    tokenizer,  # noqa: ANN001
    train: dict[str, list[dict]],
    spec_of: dict[str, HeadSpec],
    weights: dict[str, list[float] | None],
    params: list[torch.nn.Parameter],
    optimizer: torch.optim.Optimizer,
    schedule: torch.optim.lr_scheduler.LambdaLR,
    rng: random.Random,
    loop: _Loop,
) -> dict:
    """The epochs, one optimiser step a batch, until the last or the deadline; returns
    the log's entries on how far they went."""
    log: dict = {}
    done = 0
    for epoch in range(loop.epochs):
        model.train()
        bar = tqdm(
            _batches(train, loop.batch_size, rng),
            desc=f"{loop.name} epoch {epoch + 1}/{loop.epochs}",
            mininterval=10,
            file=sys.stdout,
        )
        for task, idx in bar:
            weight = weights[task]
            loss = _batch_loss(
                model,
                tokenizer,
                [train[task][j] for j in idx],
                spec_of[task],
                None if weight is None else [weight[j] for j in idx],
                loop.device,
                loop.bf16,
            )
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad(set_to_none=True)
            done += 1
            if loop.past_deadline():
                break
        if loop.past_deadline():
            log["stopped_early"] = f"deadline after {done} of {loop.steps} steps"
            break
    log["steps_done"] = done
    return log


def _batch_loss(
    model: MultiHeadModel,
    tokenizer,  # noqa: ANN001
    batch_rows: list[dict],
    spec: HeadSpec,
    weight: list[float] | None,
    device: str,
    bf16: bool,
) -> torch.Tensor:
    """The loss of one single-task batch; `weight`: its rows' loss weights, if any."""
    batch = {k: v.to(device) for k, v in _encode(tokenizer, batch_rows, spec.max_tokens).items()}
    with torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=bf16):
        z = model(**batch, task=spec.task)
    return _loss(
        z,
        _target(batch_rows, spec).to(device),
        spec,
        None if weight is None else torch.tensor(weight, device=device),
    )


def _on_dev(
    model: MultiHeadModel,
    tokenizer,  # noqa: ANN001
    specs: list[HeadSpec],
    dev: dict[str, list[dict]],
    device: str,
) -> tuple[dict, dict]:
    """Each head's calibration and dev figures, from its dev logits."""
    model.eval()
    calibration, metrics = {}, {}
    for s in specs:
        z = logits_of(model, tokenizer, dev[s.task], s, device)
        calibration[s.task] = calibrate(z, dev[s.task], s)
        metrics[s.task] = quick_metrics(z, dev[s.task], s)
    return calibration, metrics


def _save(
    model: MultiHeadModel,
    specs: list[HeadSpec],
    calibration: dict,
    log: dict,
    out_dir: Path,
    name: str,
) -> None:
    """<out>/<name>.safetensors (packed, without the frozen embeddings; heads and
    calibration in its metadata) and <out>/<name>.json (the log)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    meta = {
        "specs": json.dumps([s.__dict__ for s in specs]),
        "calibration": json.dumps(calibration),
    }
    save_file(
        pack(model.state_dict(), skip=(f"transformer.{FROZEN}",)),
        str(out_dir / f"{name}.safetensors"),
        metadata=meta,
    )
    (out_dir / f"{name}.json").write_text(json.dumps(log, indent=1))
