"""The comment's stance toward the article as a whole: agrees, disputes, discusses or is
unrelated. The `pair` model's stance head reads the comment beside the article context
built here; training/featurizer.py builds its training pairs with the same function."""

from __future__ import annotations

import numpy as np

from model.article_index import ArticleIndex

STANCE_PASSAGES = 3


def stance_context(index: ArticleIndex, sentence_embeddings: np.ndarray) -> str:
    """What the stance cross-encoder reads beside the comment: the article's title and
    lead (what the story says), then the passages closest to the comment's sentences (what
    the comment answers), in article order. The whole article does not fit in 256 tokens,
    and a rebuttal argues with particular passages, so those are the ones worth the room.
    """
    lead = [index.title] if index.title else []
    lead += [s.text for s in index.sentences[:2]]
    n_sentences = len(index.sentences)
    if n_sentences <= 2 or len(sentence_embeddings) == 0:
        return " ".join(lead).strip() or index.body[:1000]
    # sentences only (not windows): windows repeat their sentences and would waste room
    similarity = sentence_embeddings @ index.embeddings[:n_sentences].T  # (S, sentences)
    similarity[:, :2] = -np.inf  # the lead is already in
    best = np.argsort(-similarity.max(axis=0), kind="stable")[:STANCE_PASSAGES]
    chosen = sorted(int(p) for p in best if np.isfinite(similarity[:, p].max()))
    return " ".join([*lead, "…", *(index.sentences[p].text for p in chosen)]).strip()
