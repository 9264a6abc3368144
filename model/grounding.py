"""Claim grounding: find the article passages closest to a claim, score the claim against
each with the grounding cross-encoder, and let the passage that decides carry the verdict.

As SummaC and MiniCheck do, the cross-encoder reads one passage (a sentence, or two
adjacent ones) beside the claim, never the whole article: it was trained on pairs of that
size. The claim's verdict is the verdict of its most decisive passage, the one with the
most probability on `supported` or `contradicted`; that passage is quoted first, whole.

Retrieval fuses dense similarity (the shared encoder) with BM25 by reciprocal rank, so a
claim is matched both by meaning and by its rare words (names, numbers). training/ builds
its grounding pairs with `retrieve`, so train and serve cannot drift.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.article_index import ArticleIndex, lexical_tokens

RRF_K = 60  # the constant from Cormack et al. 2009; not tuned


@dataclass
class Retrieval:
    """The passages chosen for one claim, best first."""

    passage_ids: list[int]  # indexes into ArticleIndex.passages
    similarities: list[float]  # cosine of each chosen passage to the claim, clipped to [0, 1]


def retrieve(
    claim: str, claim_embedding: np.ndarray, index: ArticleIndex, top_k: int = 3
) -> Retrieval:
    """The claim's `top_k` passages of the article, best first, none overlapping another."""
    cosines = index.embeddings @ claim_embedding  # (P,)
    lexical = index.lexical_scores(lexical_tokens([claim])[0])
    dense_rank = np.argsort(np.argsort(-cosines, kind="stable"), kind="stable")
    lexical_rank = np.argsort(np.argsort(-lexical, kind="stable"), kind="stable")
    fused = 1.0 / (RRF_K + dense_rank) + 1.0 / (RRF_K + lexical_rank)
    order = np.argsort(-fused, kind="stable")

    chosen: list[int] = []
    for p in order:  # skip passages that overlap one already chosen: show distinct evidence
        span = index.passages[p]
        if all(
            span.end <= index.passages[q].start or span.start >= index.passages[q].end
            for q in chosen
        ):
            chosen.append(int(p))
        if len(chosen) == top_k:
            break
    return Retrieval(
        passage_ids=chosen,
        similarities=[float(np.clip(cosines[p], 0.0, 1.0)) for p in chosen],
    )


# passages the cross-encoder reads per claim: the smallest count that held every gold
# evidence sentence of the grounding dev split's documents (`rebut eval grounding`)
TOP_PASSAGES = 8
SHOWN_PASSAGES = 3  # evidence a claim shows, the decisive passage first
CROSS_ENCODER_PASSAGES = 2  # the older `pair` model's grounding head read two passages joined


def verdict_mass(probabilities: np.ndarray, labels: list[str]) -> np.ndarray:
    """(passages, labels) probabilities -> each passage's mass on a verdict (supported or
    contradicted): how much that passage says about the claim."""
    return probabilities[:, [labels.index("supported"), labels.index("contradicted")]].sum(axis=1)


def decisive(probabilities: np.ndarray, labels: list[str]) -> int:
    """Which of a claim's passages decides: the one with the most verdict mass. Ties go
    to the passage retrieved first."""
    return int(np.argmax(verdict_mass(probabilities, labels)))


def by_relevance(probabilities: np.ndarray, labels: list[str]) -> list[int]:
    """A claim's passages, most decisive first (stable: retrieval order breaks ties)."""
    return [int(k) for k in np.argsort(-verdict_mass(probabilities, labels), kind="stable")]


def evidence_text(index: ArticleIndex, retrieval: Retrieval) -> str:
    """What the grounding cross-encoder reads beside the claim: its best passages, best
    first, so that truncation drops the weaker one. Two, because a fact the article
    spreads over distant sentences needs both in view."""
    return " ".join(index.passages[p].text for p in retrieval.passage_ids[:CROSS_ENCODER_PASSAGES])
