"""Examples -> the label arrays the heads learn, one function per kind of head."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from model.result import ATTRIBUTES

# Sources curated for abuse (talk pages, news comments, tweets) contain no commercial spam,
# so their texts are spam negatives. Without them the spam head only ever sees YouTube
# comments and learns "not YouTube" as spam (it scored the seed comment 0.97).
SPAM_NEGATIVE_SOURCES = frozenset({"jigsaw", "civil_comments_spans", "davidson", "olid"})


def moderation_matrix(examples: list) -> np.ndarray:
    """(n, len(ATTRIBUTES)) of 0/1, NaN where the source says nothing about an attribute."""
    examples = [
        replace(e, labels={**e.labels, "spam": 0.0})
        if e.source in SPAM_NEGATIVE_SOURCES and e.labels.get("spam") is None
        else e
        for e in examples
    ]
    return np.array(
        [
            [np.nan if e.labels.get(a) is None else float(e.labels[a]) for a in ATTRIBUTES]
            for e in examples
        ],
        dtype=np.float64,
    )


def class_indexes(examples: list, labels: list[str]) -> np.ndarray:
    """Index of each example's label: `label` strings, or check-worthiness's 0/1 ints."""
    return np.array(
        [e.label if isinstance(e.label, int) else labels.index(e.label) for e in examples]
    )
