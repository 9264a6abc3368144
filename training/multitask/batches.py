"""Training rows (from training/task_inputs.py) to tensors: token ids, targets, and an
epoch's single-task batches."""

from __future__ import annotations

import math
import random

import torch

from training.multitask.model import HeadSpec


def _encode(tokenizer, rows: list[dict], max_tokens: int) -> dict[str, torch.Tensor]:  # noqa: ANN001
    if "b" in rows[0]:
        enc = tokenizer(
            [r["a"] for r in rows],
            [r["b"] for r in rows],
            truncation="longest_first",
            max_length=max_tokens,
            padding=True,
            return_tensors="pt",
        )
    else:
        enc = tokenizer(
            [r["a"] for r in rows],
            truncation=True,
            max_length=max_tokens,
            padding=True,
            return_tensors="pt",
        )
    return {k: enc[k] for k in ("input_ids", "attention_mask", "token_type_ids")}


def _target(rows: list[dict], spec: HeadSpec) -> torch.Tensor:
    if spec.multilabel:  # unknown labels are NaN: masked out of the loss
        return torch.tensor(
            [[math.nan if v is None else v for v in r["y"]] for r in rows], dtype=torch.float32
        )
    return torch.tensor([r["y"] for r in rows], dtype=torch.long)


def _batches(
    rows_by_task: dict[str, list[dict]], batch_size: int, rng: random.Random
) -> list[tuple[str, list[int]]]:
    """One epoch of single-task batches, each of similar lengths (less padding), in a
    shuffled order that interleaves the tasks."""
    batches = []
    for task, rows in rows_by_task.items():
        order = list(range(len(rows)))
        rng.shuffle(order)
        window = 50 * batch_size
        for i in range(0, len(order), window):
            chunk = sorted(
                order[i : i + window], key=lambda j: len(rows[j]["a"]) + len(rows[j].get("b", ""))
            )
            batches += [(task, chunk[k : k + batch_size]) for k in range(0, len(chunk), batch_size)]
    rng.shuffle(batches)
    return batches


def _repeated(rows: list[dict], repeat: dict[str, float], seed: int = 0) -> list[dict]:
    """Rows of the sources named in `repeat` that many times over (each epoch sees them
    so often): ARC is the only source of reader comments, and a sixth of stance's rows.
    `*` sets the factor of every source not named. A fraction keeps a seeded share of a
    source's rows (2.5: every row twice, half of them a third time), so that a short run
    on a CPU can go on from a trained model with a sample of the old rows beside new ones."""
    rng = random.Random(seed)
    out = []
    for r in rows:
        factor = repeat.get(r["source"], repeat.get("*", 1))
        copies = int(factor) + (rng.random() < factor - int(factor))
        out += [r] * copies
    return out
