"""Claim grounding: find the article passages closest to a claim, then decide whether the
article supports it, contradicts it, or does not mention it.

Retrieval fuses dense similarity (the shared encoder) with BM25 by reciprocal rank, so a
claim is matched both by meaning and by its rare words (names, numbers). The decision is a
learned head over features of the claim and its best passages; training/ builds the same
features with `pair_features`, so train and serve cannot drift.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from model.article_index import ArticleIndex, lexical_tokens, numbers_in

# Negation cues: a claim that negates what its passage asserts (or the reverse) is the
# commonest shape of contradiction; the head learns how much the mismatch counts.
_NEGATION = re.compile(
    r"\b(?:not|no|never|none|nobody|nothing|neither|nor|without|denied|denies|deny)\b|n't\b",
    re.IGNORECASE,
)
RRF_K = 60  # the constant from Cormack et al. 2009; not tuned


@dataclass
class Retrieval:
    """The passages chosen for one claim, best first, and the features the head reads."""

    passage_ids: list[int]  # indexes into ArticleIndex.passages
    similarities: list[float]  # cosine of each chosen passage to the claim, clipped to [0, 1]
    features: np.ndarray  # (2 * dim + N_SCALARS,)


def _share(part: set[str], whole: set[str] | frozenset[str]) -> float:
    return len(part & whole) / len(part) if part else 1.0


def pair_features(
    claim: str, claim_embedding: np.ndarray, index: ArticleIndex, top_k: int = 3
) -> Retrieval:
    """Retrieve the claim's passages from the article and describe the match.

    Features: the claim and best-passage vectors compared (product, absolute difference),
    then scalars: the top three cosines, the best passage's BM25 share, how many of the
    claim's words, numbers and capitalised names the passage and the article contain,
    and whether claim and passage disagree on negation.
    """
    cosines = index.embeddings @ claim_embedding  # (P,)
    claim_tokens = lexical_tokens([claim])[0]
    lexical = index.lexical_scores(claim_tokens)
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

    best = index.passages[chosen[0]]
    top_cos = np.sort(cosines)[::-1][:3]
    top_cos = np.pad(top_cos, (0, 3 - len(top_cos)))
    claim_words = set(claim_tokens)
    passage_words = index.passage_words[chosen[0]]  # tokenised once, when indexed
    claim_numbers = numbers_in(claim)
    names = {w.lower() for w in re.findall(r"\b[A-Z][\w'-]+", claim[1:])}  # skip the first word
    claim_negated = bool(_NEGATION.search(claim))
    scalars = np.array(
        [
            *top_cos,
            float(lexical[chosen[0]]),
            _share(claim_words, passage_words),
            _share(claim_words, index.vocabulary),
            _share(claim_numbers, numbers_in(best.text)),
            _share(claim_numbers, index.numbers),
            float(bool(claim_numbers)),
            _share(names, index.vocabulary),
            float(claim_negated != bool(_NEGATION.search(best.text))),
            float(claim_negated),
        ],
        dtype=np.float32,
    )
    best_vector = index.embeddings[chosen[0]]
    features = np.concatenate(
        [claim_embedding * best_vector, np.abs(claim_embedding - best_vector), scalars]
    ).astype(np.float32)
    return Retrieval(
        passage_ids=chosen,
        similarities=[float(np.clip(cosines[p], 0.0, 1.0)) for p in chosen],
        features=features,
    )


CROSS_ENCODER_PASSAGES = 2


def evidence_text(index: ArticleIndex, retrieval: Retrieval) -> str:
    """What the grounding cross-encoder reads beside the claim: its best passages, best
    first, so that truncation drops the weaker one. Two, because a fact the article
    spreads over distant sentences needs both in view."""
    return " ".join(index.passages[p].text for p in retrieval.passage_ids[:CROSS_ENCODER_PASSAGES])
