"""Moderation: attribute probabilities from the comment's sentence vectors, and the
policy that turns them into `flagged` and an action.

The head reads the mean and the element-wise maximum of the sentence vectors: the mean
says what the comment is, the maximum keeps one abusive sentence in a long comment from
being averaged away.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from model.stance import unit_mean


def comment_features(sentence_embeddings: np.ndarray) -> np.ndarray:
    """(S, dim) sentence vectors -> (2 * dim,) features for the moderation head."""
    return np.concatenate([unit_mean(sentence_embeddings), sentence_embeddings.max(axis=0)]).astype(
        np.float32
    )


@dataclass
class Policy:
    """Thresholds: an attribute at or over `flag` flags the comment; over `reject`, the
    suggested action is reject. Defaults are chosen on dev data (training/heads.py) and
    stored in pipeline.json; a publisher can override them."""

    flag: dict[str, float]
    reject: dict[str, float] = field(default_factory=dict)

    def decide(
        self, attributes: dict[str, float], has_fact_hints: bool
    ) -> tuple[bool, str, list[str]]:
        reasons = [
            f"{name} {attributes[name]:.2f} >= {limit:.2f}"
            for name, limit in self.flag.items()
            if attributes.get(name, 0.0) >= limit
        ]
        flagged = bool(reasons)
        if any(attributes.get(name, 0.0) >= limit for name, limit in self.reject.items()):
            return flagged, "reject", reasons
        if flagged or has_fact_hints:
            # a claim the article does not support is for a person to look at, not to hide
            return flagged, "review", reasons
        return flagged, "approve", reasons
