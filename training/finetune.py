"""Fine-tune the base encoder end to end as a classifier and export it to ONNX.

    clf = FineTunedClassifier(["not_claim", "claim"]).fit(texts, y)
    clf.export(Path("runs/full/checkworthy"))     # model.onnx (int8), tokenizer.json

The frozen sentence vectors that the shared encoder gives every head are not enough where
the decision hangs on a few tokens (a number, a hedge, "I think"): this trains all the
encoder's weights for one task. Mean pooling, dropout, one linear layer; softmax is
inside the exported graph, so model/classifier.py needs no numpy post-processing.
Texts may be pairs (claim, passage): the tokenizer joins them with [SEP] and
token_type_ids, as a cross-encoder reads them.
"""

from __future__ import annotations

import math
import random
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm
from transformers import AutoModel, AutoTokenizer, get_linear_schedule_with_warmup

from training.export_encoder import default_base_model, quantize_int8

Input = str | tuple[str, str]


class PooledClassifier(torch.nn.Module):
    def __init__(self, transformer: torch.nn.Module, n_labels: int) -> None:
        super().__init__()
        self.transformer = transformer
        self.dropout = torch.nn.Dropout(0.1)
        self.classifier = torch.nn.Linear(transformer.config.hidden_size, n_labels)

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
    ) -> torch.Tensor:
        tokens = self.transformer(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
        ).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(tokens.dtype)
        pooled = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return self.classifier(self.dropout(pooled))  # logits


class _Probabilities(torch.nn.Module):
    """What is exported: logits / temperature -> softmax."""

    def __init__(self, model: PooledClassifier, temperature: float) -> None:
        super().__init__()
        self.model = model
        self.temperature = temperature

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
    ) -> torch.Tensor:
        logits = self.model(input_ids, attention_mask, token_type_ids)
        return torch.softmax(logits / self.temperature, dim=-1)


@dataclass
class FineTunedClassifier:
    """Args:
    labels: class names; y holds their indexes.
    base_model: path or hub id; default the packaged all-MiniLM-L6-v2.
    max_tokens: truncation length (pairs: the longer side first).
    epochs, batch_size, learning_rate, warmup: the usual; defaults suit ~10k examples on
        2 CPU cores (minutes an epoch for sentences).
    class_weight: "balanced" weighs the loss by inverse class frequency.
    """

    labels: list[str]
    base_model: str | None = None
    max_tokens: int = 64
    epochs: int = 3
    batch_size: int = 32
    learning_rate: float = 5e-5
    warmup: float = 0.1
    class_weight: str | None = "balanced"
    seed: int = 0

    def initialize(self) -> FineTunedClassifier:
        """Load the base encoder under a freshly seeded linear layer (fit starts here)."""
        random.seed(self.seed)
        np.random.seed(self.seed)
        torch.manual_seed(self.seed)
        base = self.base_model or default_base_model()
        self.tokenizer_ = AutoTokenizer.from_pretrained(base)
        self.model_ = PooledClassifier(AutoModel.from_pretrained(base), len(self.labels)).eval()
        self.temperature_ = 1.0
        return self

    def fit(self, inputs: list[Input], y: list[int] | np.ndarray) -> FineTunedClassifier:
        self.initialize()
        y = np.asarray(y, dtype=np.int64)
        weights = None
        if self.class_weight == "balanced":
            counts = np.bincount(y, minlength=len(self.labels)).astype(np.float64)
            w = len(y) / (len(self.labels) * np.maximum(counts, 1))
            weights = torch.tensor(w, dtype=torch.float32)
        loss_fn = torch.nn.CrossEntropyLoss(weight=weights)
        steps_per_epoch = math.ceil(len(inputs) / self.batch_size)
        optimizer = torch.optim.AdamW(self.model_.parameters(), lr=self.learning_rate)
        schedule = get_linear_schedule_with_warmup(
            optimizer,
            int(self.warmup * steps_per_epoch * self.epochs),
            steps_per_epoch * self.epochs,
        )
        rng = np.random.default_rng(self.seed)
        lengths = np.array(
            [len(x) if isinstance(x, str) else len(x[0]) + len(x[1]) for x in inputs]
        )
        self.model_.train()
        for epoch in range(self.epochs):
            order = _length_bucketed(rng.permutation(len(inputs)), lengths, self.batch_size, rng)
            bar = tqdm(range(steps_per_epoch), desc=f"fine-tune epoch {epoch + 1}/{self.epochs}")
            for step in bar:
                idx = order[step * self.batch_size : (step + 1) * self.batch_size]
                batch = self._tokenize([inputs[i] for i in idx])
                loss = loss_fn(self.model_(**batch), torch.from_numpy(y[idx]))
                loss.backward()
                torch.nn.utils.clip_grad_norm_(self.model_.parameters(), 1.0)
                optimizer.step()
                schedule.step()
                optimizer.zero_grad()
                bar.set_postfix(loss=f"{loss.item():.3f}")
        self.model_.eval()
        return self

    def _tokenize(self, inputs: list[Input]) -> dict[str, torch.Tensor]:
        if inputs and isinstance(inputs[0], tuple):
            first, second = zip(*inputs)
            enc = self.tokenizer_(
                list(first), list(second), truncation="longest_first",
                max_length=self.max_tokens, padding=True, return_tensors="pt",
            )  # fmt: skip
        else:
            enc = self.tokenizer_(
                list(inputs), truncation=True, max_length=self.max_tokens,
                padding=True, return_tensors="pt",
            )  # fmt: skip
        return {k: enc[k] for k in ("input_ids", "attention_mask", "token_type_ids")}

    @torch.no_grad()
    def logits(self, inputs: list[Input], batch_size: int = 64) -> np.ndarray:
        self.model_.eval()
        out = []
        for i in range(0, len(inputs), batch_size):
            out.append(self.model_(**self._tokenize(inputs[i : i + batch_size])).numpy())
        return np.concatenate(out) if out else np.zeros((0, len(self.labels)), np.float32)

    def predict_proba(self, inputs: list[Input]) -> np.ndarray:
        z = self.logits(inputs) / self.temperature_
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def calibrate(self, inputs: list[Input], y: list[int] | np.ndarray) -> float:
        """Temperature scaling (Guo et al. 2017) on held-out examples: one scalar that
        minimises their negative log-likelihood; accuracy is unchanged."""
        logits = torch.from_numpy(self.logits(inputs))
        target = torch.from_numpy(np.asarray(y, dtype=np.int64))
        log_t = torch.zeros(1, requires_grad=True)
        optimizer = torch.optim.LBFGS([log_t], lr=0.1, max_iter=100)

        def closure() -> torch.Tensor:
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(logits / log_t.exp(), target)
            loss.backward()
            return loss

        optimizer.step(closure)
        self.temperature_ = float(log_t.exp().item())
        return self.temperature_

    def export(self, out_dir: Path, keep_fp32: bool = False) -> Path:
        """Write model.onnx (int8, per-channel) and tokenizer.json; model.fp32.onnx too if
        keep_fp32 (to compare the two)."""
        out_dir.mkdir(parents=True, exist_ok=True)
        sample = self._tokenize(["a short sentence", "and another, longer one here"])
        axes = {0: "batch", 1: "tokens"}
        fp32 = out_dir / "model.fp32.onnx"
        with torch.no_grad():
            torch.onnx.export(
                _Probabilities(self.model_, self.temperature_).eval(),
                (sample["input_ids"], sample["attention_mask"], sample["token_type_ids"]),
                str(fp32),
                input_names=["input_ids", "attention_mask", "token_type_ids"],
                output_names=["probabilities"],
                dynamic_axes={
                    "input_ids": axes,
                    "attention_mask": axes,
                    "token_type_ids": axes,
                    "probabilities": {0: "batch"},
                },
                opset_version=17,
                dynamo=False,
            )
        quantize_int8(fp32, out_dir / "model.onnx")
        if not keep_fp32:
            fp32.unlink()
        base = self.base_model or default_base_model()
        tokenizer_file = Path(base) / "tokenizer.json"
        if tokenizer_file.is_file():
            shutil.copy(tokenizer_file, out_dir / "tokenizer.json")
        else:  # a hub id: the fast tokenizer writes the same file
            self.tokenizer_.backend_tokenizer.save(str(out_dir / "tokenizer.json"))
        return out_dir


def _length_bucketed(
    order: np.ndarray, lengths: np.ndarray, batch_size: int, rng: np.random.Generator
) -> np.ndarray:
    """A shuffled order in which each batch holds texts of similar length: padding is
    most of the work on a CPU. Sorted within windows of 50 batches, then the batches
    are shuffled, so an epoch still mixes short and long."""
    window = 50 * batch_size
    chunks = [
        order[i : i + window][np.argsort(lengths[order[i : i + window]], kind="stable")]
        for i in range(0, len(order), window)
    ]
    batches = [b for c in chunks for b in np.array_split(c, max(1, len(c) // batch_size))]
    return np.concatenate([batches[i] for i in rng.permutation(len(batches))])
