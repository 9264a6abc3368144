"""One fine-tuned encoder, several task heads: train, calibrate, export to ONNX.

    # where the GPU is (reads only what training/task_inputs.py wrote, and a packed base)
    python -m training.multitask pack-base --out .gpu/base
    python -m training.multitask fit --inputs .gpu/inputs.jsonl.xz --base .gpu/base \\
        --name text --tasks moderation,checkworthy --out runs/gpu
    # back here: ONNX (fp32 + int8) with calibration inside the graph
    python -m training.multitask export --weights runs/gpu/text.safetensors --out runs/text
    # only the committed ONNX left? weights to go on from (`fit --init`), read back from it
    python -m training.multitask from-onnx --model-dir model/artifacts/text --base .gpu/base \
        --out runs/text.safetensors

Two models serve rebut: `text` reads one text (moderation attributes of a comment or a
sentence, and whether a sentence is a check-worthy claim) and `pair` reads two (a claim
against its evidence: supported / contradicted / not_in_article; a comment against the
article's lead and closest passages: agrees / disputes / discusses / unrelated). Tasks
that read the same kind of input share one encoder pass, which is what makes serving
cheap; each head is one linear layer over the mean-pooled tokens.

The word-embedding table (half of MiniLM's weights) stays frozen at the packed base's
values: little is lost, and a trained model then packs into ~11 MB (the rest of its
matrices as per-row int8, vectors as fp16), which is what a lent GPU machine can send
back. Calibration: temperature for softmax heads, per-label Platt scaling for sigmoid
heads (their training data were resampled, so the prior needs moving too), both fitted
on dev logits and exported inside the graph.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.numpy import load_file, save_file
from tqdm import tqdm
from transformers import AutoConfig, AutoModel, AutoTokenizer

from training.inputs_file import read_inputs

FROZEN = "embeddings.word_embeddings.weight"
MIN_CALIBRATION_POSITIVES = 30  # per sigmoid label, on dev, to fit its Platt scaling
BASE_FILES = (
    "config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "vocab.txt",
    "special_tokens_map.json",
)


@dataclass(frozen=True)
class HeadSpec:
    task: str
    labels: list[str]
    multilabel: bool  # sigmoid per label (labels may be unknown) vs one softmax
    max_tokens: int


MAX_TOKENS = {"moderation": 128, "checkworthy": 64, "grounding": 160, "stance": 256}


def head_specs(
    labels: dict[str, list[str]], tasks: list[str], max_tokens: dict[str, int] | None = None
) -> list[HeadSpec]:
    lengths = {**MAX_TOKENS, **(max_tokens or {})}
    return [HeadSpec(t, labels[t], t == "moderation", lengths[t]) for t in tasks]


# --------------------------------------------------------------------------- packing


def pack(state: dict[str, torch.Tensor], skip: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    """Matrices -> per-row symmetric int8 and an fp32 scale per row; the rest -> fp16."""
    out: dict[str, np.ndarray] = {}
    for name, tensor in state.items():
        if name in skip:
            continue
        w = tensor.detach().float().cpu().numpy()
        if w.ndim == 2:
            scale = np.maximum(np.abs(w).max(axis=1), 1e-12) / 127.0
            out[f"{name}::q"] = np.round(w / scale[:, None]).astype(np.int8)
            out[f"{name}::scale"] = scale.astype(np.float32)
        else:
            out[f"{name}::h"] = w.astype(np.float16)
    return out


def unpack(packed: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    state: dict[str, torch.Tensor] = {}
    for key, value in packed.items():
        name, kind = key.rsplit("::", 1)
        if kind == "q":
            scale = packed[f"{name}::scale"]
            state[name] = torch.from_numpy(value.astype(np.float32) * scale[:, None])
        elif kind == "h":
            state[name] = torch.from_numpy(value.astype(np.float32))
    return state


def pack_base(base_model: str, out_dir: Path) -> Path:
    """The base encoder as a small folder: config, tokenizer, packed weights."""
    out_dir.mkdir(parents=True, exist_ok=True)
    model = AutoModel.from_pretrained(base_model)
    save_file(pack(model.state_dict()), str(out_dir / "weights.safetensors"))
    for name in BASE_FILES:
        if (Path(base_model) / name).is_file():
            shutil.copy(Path(base_model) / name, out_dir / name)
    return out_dir


def load_base(base_dir: Path) -> torch.nn.Module:
    """The transformer as pack_base left it: unpack(pack(w)) is what both sides start from."""
    config = AutoConfig.from_pretrained(base_dir)
    model = AutoModel.from_config(config, add_pooling_layer=False)
    missing, _ = model.load_state_dict(
        unpack(load_file(str(base_dir / "weights.safetensors"))), strict=False
    )
    assert not missing, f"base weights lack {missing}"
    return model


# --------------------------------------------------------------------------- the model


class MultiHeadModel(torch.nn.Module):
    def __init__(self, transformer: torch.nn.Module, specs: list[HeadSpec]) -> None:
        super().__init__()
        self.transformer = transformer
        self.dropout = torch.nn.Dropout(0.1)
        hidden = transformer.config.hidden_size
        self.heads = torch.nn.ModuleDict(
            {s.task: torch.nn.Linear(hidden, len(s.labels)) for s in specs}
        )

    def pooled(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
    ) -> torch.Tensor:
        tokens = self.transformer(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
        ).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(tokens.dtype)
        return (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        token_type_ids: torch.Tensor,
        task: str,
    ) -> torch.Tensor:
        return self.heads[task](
            self.dropout(self.pooled(input_ids, attention_mask, token_type_ids))
        )


class Calibrated(torch.nn.Module):
    """What is exported: every head's calibrated probabilities from one encoder pass."""

    def __init__(self, model: MultiHeadModel, specs: list[HeadSpec], calibration: dict) -> None:
        super().__init__()
        self.model = model
        self.specs = specs
        self.scale = {s.task: torch.tensor(calibration[s.task]["scale"]) for s in specs}
        self.bias = {s.task: torch.tensor(calibration[s.task]["bias"]) for s in specs}

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
    ) -> tuple[torch.Tensor, ...]:
        pooled = self.model.pooled(input_ids, attention_mask, token_type_ids)
        out = []
        for s in self.specs:
            z = self.model.heads[s.task](pooled) * self.scale[s.task] + self.bias[s.task]
            out.append(torch.sigmoid(z) if s.multilabel else torch.softmax(z, dim=-1))
        return tuple(out)


# --------------------------------------------------------------------------- data


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


def _loss(
    logits: torch.Tensor, target: torch.Tensor, spec: HeadSpec, weight: torch.Tensor | None
) -> torch.Tensor:
    """`weight`: one per example (softmax heads), from `_example_weights`."""
    if spec.multilabel:
        known = ~torch.isnan(target)
        losses = torch.nn.functional.binary_cross_entropy_with_logits(
            logits.float(), torch.nan_to_num(target), reduction="none"
        )
        return (losses * known).sum() / known.sum().clamp(min=1)
    losses = _softmax_losses(logits.float(), target)
    if weight is None:
        return losses.mean()
    return (losses * weight).sum() / weight.sum()


def _softmax_losses(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Cross-entropy per row; a row whose target is -1 (a binary source's "not the first
    label": grounding's not_supported) is asked only for little mass on the first label,
    -log(1 - p[0]), leaving how the rest is shared to the rows that know it."""
    log_p = torch.log_softmax(logits, dim=-1)
    known = -log_p.gather(1, target.clamp(min=0).unsqueeze(1)).squeeze(1)
    not_first = -torch.logsumexp(log_p[:, 1:], dim=-1)
    return torch.where(target >= 0, known, not_first)


BALANCE = ("label", "source")


def _example_weights(rows: list[dict], balance: str) -> list[float]:
    """Loss weight per training row of a softmax head, so that rare labels count.
    `label`: by the label's share of the whole task. `source`: by its share within the
    row's source, each source keeping its share of rows; FNC-1's 4% `disputes` is then
    weighed as FNC-1's, not lost among Perspectrum's many (data/cards/stance.md)."""
    if balance not in BALANCE:
        raise ValueError(f"balance must be one of {BALANCE}, not {balance!r}")
    keys = [(r["source"] if balance == "source" else "", r["y"]) for r in rows]
    count = Counter(keys)  # rows per (group, label)
    size = Counter(group for group, _ in keys)  # rows per group
    labels_in = Counter(group for group, _ in count)  # labels present per group
    return [size[g] / (labels_in[g] * count[(g, y)]) for g, y in keys]


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


def bf16_autocast(device: str) -> bool:
    """Whether to train and score in bfloat16 autocast: on a GPU, and on CPUs with native
    bfloat16 matrix units (AMX or AVX512-BF16), where a training step of MiniLM took 3.1 s
    against 5.1 s in float32 (32 rows x 256 tokens, 2 Xeon cores with AMX; bench/
    train_step.py), 6.9 s against 10.3 s on 2 EPYC cores with AVX512-BF16. Elsewhere
    bfloat16 is emulated (not measured here), so float32 stays.
    REBUT_TRAIN_FP32=1 forces float32 (to compare the two)."""
    if os.environ.get("REBUT_TRAIN_FP32") == "1":
        return False
    if device == "cuda":
        return True
    # private but stable since torch 2.1; no public query says "bf16 is native here"
    native = (
        getattr(torch.cpu, "_is_amx_tile_supported", lambda: False)()
        or getattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)()
    )
    return bool(native)


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


# --------------------------------------------------------------------------- fit


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
    spec_of = {s.task: s for s in specs}
    train = {
        t: _repeated(
            [r for r in rows if r["task"] == t and r["split"] == "train"][:limit],
            repeat or {},
            seed,
        )
        for t in tasks
    }
    dev = {t: [r for r in rows if r["task"] == t and r["split"] == "dev"][:limit] for t in tasks}
    tokenizer = AutoTokenizer.from_pretrained(base_dir)
    if init is not None:  # go on from trained weights (their heads must be these tasks)
        model, specs, _ = load_trained(init, base_dir)
        if [s.task for s in specs] != tasks:
            raise ValueError(f"{init} has heads {[s.task for s in specs]}, not {tasks}")
        spec_of = {s.task: s for s in specs}
        model = model.to(device)
    else:
        model = MultiHeadModel(load_base(base_dir), specs).to(device)
    model.transformer.get_parameter(FROZEN).requires_grad_(False)
    weights = {
        t: None if spec_of[t].multilabel else _example_weights(train[t], balance) for t in tasks
    }
    rng = random.Random(seed)
    steps = epochs * len(_batches(train, batch_size, random.Random(0)))
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=learning_rate, weight_decay=0.01)
    warmup = int(0.06 * steps)

    def lr_factor(step: int) -> float:
        # linear warm-up, then linear decay to zero by the last step or by the deadline,
        # whichever comes first: a run cut short by its deadline still ends annealed
        if step < warmup:
            return (step + 1) / warmup
        progress = max(step / steps, (time.monotonic() - start) / deadline_s)
        return max(0.0, 1.0 - progress) / max(1e-9, 1.0 - warmup / steps)

    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor)
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
    done = 0
    for epoch in range(epochs):
        model.train()
        bar = tqdm(
            _batches(train, batch_size, rng),
            desc=f"{name} epoch {epoch + 1}/{epochs}",
            mininterval=10,
            file=sys.stdout,
        )
        for task, idx in bar:
            batch_rows = [train[task][j] for j in idx]
            batch = {
                k: v.to(device)
                for k, v in _encode(tokenizer, batch_rows, spec_of[task].max_tokens).items()
            }
            with torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=bf16):
                z = model(**batch, task=task)
            weight = weights[task]
            loss = _loss(
                z,
                _target(batch_rows, spec_of[task]).to(device),
                spec_of[task],
                None if weight is None else torch.tensor([weight[j] for j in idx], device=device),
            )
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad(set_to_none=True)
            done += 1
            if time.monotonic() - start > deadline_s:
                break
        if time.monotonic() - start > deadline_s:
            log["stopped_early"] = f"deadline after {done} of {steps} steps"
            break
    log["steps_done"] = done
    model.eval()
    calibration, metrics = {}, {}
    for s in specs:
        z = logits_of(model, tokenizer, dev[s.task], s, device)
        calibration[s.task] = calibrate(z, dev[s.task], s)
        metrics[s.task] = quick_metrics(z, dev[s.task], s)
    log["dev"] = metrics
    log["calibration"] = calibration
    log["seconds"] = round(time.monotonic() - start, 1)
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
    print(json.dumps(log))
    return log


# --------------------------------------------------------------------------- export


def load_trained(weights: Path, base_dir: Path) -> tuple[MultiHeadModel, list[HeadSpec], dict]:
    from safetensors import safe_open

    with safe_open(str(weights), "np") as f:
        meta = f.metadata()
    specs = [HeadSpec(**s) for s in json.loads(meta["specs"])]
    model = MultiHeadModel(load_base(base_dir), specs)
    state = unpack(load_file(str(weights)))
    state[f"transformer.{FROZEN}"] = model.transformer.get_parameter(FROZEN).detach().clone()
    model.load_state_dict(state)
    return model.eval(), specs, json.loads(meta["calibration"])


def export(weights: Path, base_dir: Path, out_dir: Path, keep_fp32: bool = False) -> Path:
    """model.onnx (int8 per-channel; model.fp32.onnx too if keep_fp32), tokenizer.json and
    heads.json (each output's task, labels, multilabel, max_tokens)."""
    from training.export_encoder import quantize_int8

    model, specs, calibration = load_trained(weights, base_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tokenizer = AutoTokenizer.from_pretrained(base_dir)
    sample = _encode(tokenizer, [{"a": "a short sentence"}, {"a": "and another, longer one"}], 32)
    axes = {0: "batch", 1: "tokens"}
    fp32 = out_dir / "model.fp32.onnx"
    with torch.no_grad():
        torch.onnx.export(
            Calibrated(model, specs, calibration).eval(),
            (sample["input_ids"], sample["attention_mask"], sample["token_type_ids"]),
            str(fp32),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=[s.task for s in specs],
            dynamic_axes={
                "input_ids": axes,
                "attention_mask": axes,
                "token_type_ids": axes,
                **{s.task: {0: "batch"} for s in specs},
            },
            opset_version=17,
            dynamo=False,
        )
    quantize_int8(fp32, out_dir / "model.onnx")
    if not keep_fp32:
        fp32.unlink()
    shutil.copy(base_dir / "tokenizer.json", out_dir / "tokenizer.json")
    heads = [{**s.__dict__, "calibration": calibration[s.task]} for s in specs]
    (out_dir / "heads.json").write_text(json.dumps(heads, indent=1) + "\n")
    return out_dir


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


def from_onnx(model_dir: Path, base_dir: Path, out: Path) -> Path:
    """Weights to go on training from (`fit --init`), read back from an exported int8
    model folder (model.onnx + heads.json) when the trained weights file is gone: only
    the ONNX files are committed. Each quantised matrix is dequantised, so the result is
    the int8 model's own weights (its dev figures, not the fp32 model's); the frozen word
    embeddings come from the base as always."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(model_dir / "model.onnx")).graph
    arrays = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    consumers: dict[str, list] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)

    def bias_after(tensor: str) -> str:
        """The `.bias` initializer added to what this weight multiplies (the Linear)."""
        frontier = [tensor]
        for _ in range(6):
            nodes = [n for t in frontier for n in consumers.get(t, [])]
            for n in nodes:
                if n.op_type == "Add":
                    named = [x for x in n.input if x in arrays and x.endswith(".bias")]
                    if named:
                        return named[0]
            frontier = [o for n in nodes for o in n.output]
        raise ValueError(f"{model_dir}: no bias follows {tensor}")

    state: dict[str, torch.Tensor] = {}
    for name, value in arrays.items():
        if name.endswith("_quantized"):
            stem = name.removesuffix("_quantized")
            q = value.astype(np.float32) - arrays[f"{stem}_zero_point"].astype(np.float32)
            w = q * arrays[f"{stem}_scale"].astype(np.float32)
            if stem.endswith(".weight"):  # embeddings (quantised per tensor)
                state[stem.removeprefix("model.")] = torch.from_numpy(w)
            else:  # a Linear, stored [in, out] for MatMul: torch wants [out, in]
                linear = bias_after(name).removeprefix("model.").removesuffix(".bias")
                state[f"{linear}.weight"] = torch.from_numpy(w.T)
        elif name.startswith("model.") and not name.endswith(("_scale", "_zero_point")):
            state[name.removeprefix("model.")] = torch.from_numpy(value.astype(np.float32))
    heads = json.loads((model_dir / "heads.json").read_text())
    specs = [HeadSpec(h["task"], h["labels"], h["multilabel"], h["max_tokens"]) for h in heads]
    model = MultiHeadModel(load_base(base_dir), specs)
    state[f"transformer.{FROZEN}"] = model.transformer.get_parameter(FROZEN).detach().clone()
    model.load_state_dict(state)  # strict: every parameter found, nothing left over
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "specs": json.dumps([s.__dict__ for s in specs]),
        "calibration": json.dumps({h["task"]: h["calibration"] for h in heads}),
    }
    save_file(pack(model.state_dict(), skip=(f"transformer.{FROZEN}",)), str(out), metadata=meta)
    return out


def _numbers(text: str, kind: type = int) -> dict[str, Any]:
    """ "a=1,b=2" -> {"a": 1, "b": 2}"""
    return {k: kind(v) for k, v in (kv.split("=") for kv in text.split(",") if kv)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("pack-base")
    p.add_argument("--base-model", default=None)
    p.add_argument("--out", type=Path, required=True)
    p = sub.add_parser("fit")
    p.add_argument("--inputs", type=Path, required=True)
    p.add_argument("--base", type=Path, required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--tasks", required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--learning-rate", type=float, default=5e-5)
    p.add_argument("--deadline-s", type=float, default=float("inf"))
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--max-tokens", default="", help="e.g. stance=384,grounding=192")
    p.add_argument("--init", type=Path, default=None, help="trained weights to go on from")
    p.add_argument("--balance", choices=BALANCE, default="label", help="softmax loss weights")
    p.add_argument(
        "--repeat", default="", help="rows of a source per epoch: arc=3, or *=0.2,rebut_frames=1"
    )
    p = sub.add_parser("from-onnx")
    p.add_argument("--model-dir", type=Path, required=True, help="an exported text/ or pair/")
    p.add_argument("--base", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p = sub.add_parser("recalibrate")
    p.add_argument("--weights", type=Path, required=True)
    p.add_argument("--base", type=Path, required=True)
    p.add_argument("--inputs", type=Path, required=True)
    p = sub.add_parser("export")
    p.add_argument("--weights", type=Path, required=True)
    p.add_argument("--base", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--keep-fp32", action="store_true")
    args = parser.parse_args(argv)
    if args.command == "pack-base":
        from training.export_encoder import default_base_model

        pack_base(args.base_model or default_base_model(), args.out)
    elif args.command == "fit":
        lengths = _numbers(args.max_tokens)
        fit(
            args.inputs,
            args.base,
            args.name,
            args.tasks.split(","),
            args.out,
            args.epochs,
            args.batch_size,
            args.learning_rate,
            args.deadline_s,
            limit=args.limit,
            max_tokens=lengths,
            init=args.init,
            balance=args.balance,
            repeat=_numbers(args.repeat, float),
        )
    elif args.command == "from-onnx":
        print(from_onnx(args.model_dir, args.base, args.out))
    elif args.command == "recalibrate":
        print(json.dumps(recalibrate(args.weights, args.base, args.inputs)))
    else:
        export(args.weights, args.base, args.out, args.keep_fp32)


if __name__ == "__main__":
    main()
