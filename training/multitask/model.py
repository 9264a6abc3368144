"""The multi-head model: one transformer, a linear head per task over the mean-pooled
tokens, and the calibrated module that is exported."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch

FROZEN = "embeddings.word_embeddings.weight"


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
