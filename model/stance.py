"""The comment's stance toward the article as a whole: agrees, disputes, discusses or is
unrelated. A learned head reads the comment's own vector (how it argues), the comment
compared with the article's title and lead (what it is about), and how closely its
sentences match the article's passages. training/ builds the same features here."""

from __future__ import annotations

import numpy as np

from model.article_index import ArticleIndex, lexical_tokens


def unit_mean(vectors: np.ndarray) -> np.ndarray:
    """The mean of unit vectors, scaled back to unit length."""
    mean = vectors.mean(axis=0)
    return mean / max(float(np.linalg.norm(mean)), 1e-9)


def stance_features(
    comment_text: str, sentence_embeddings: np.ndarray, index: ArticleIndex
) -> np.ndarray:
    """Features of (comment, article) for the stance head; sentence_embeddings is (S, dim)."""
    comment = unit_mean(sentence_embeddings)
    lead = index.title_embedding
    best_per_sentence = (sentence_embeddings @ index.embeddings.T).max(axis=1)  # (S,)
    words = set(lexical_tokens([comment_text])[0])
    scalars = np.array(
        [
            float(comment @ lead),
            float(best_per_sentence.max()),
            float(best_per_sentence.mean()),
            float(best_per_sentence.min()),
            len(words & index.vocabulary) / len(words) if words else 0.0,
        ],
        dtype=np.float32,
    )
    return np.concatenate([comment, comment * lead, np.abs(comment - lead), scalars]).astype(
        np.float32
    )
