"""The training loss of each kind of head, and the per-row weights that let a softmax
head's rare labels count."""

from __future__ import annotations

from collections import Counter

import torch

from training.multitask.model import HeadSpec


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
