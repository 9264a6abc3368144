"""An article, read once: its passages, their embeddings and a BM25 index.

Passages are the article's sentences plus every window of two adjacent sentences, so a
fact told across a sentence boundary can still be found. A window's vector is the
normalised sum of its two sentence vectors rather than another encoder pass: on this
2-core AVX2 CPU that keeps indexing an article to one pass over its sentences.

Indexes are cached per (article id, content hash): a second comment on the same article
costs no encoding, and an edited article is indexed afresh.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass

import bm25s
import numpy as np

from model.encoder import Encoder, TextEncoder
from model.sentences import Span, split_sentences


def content_hash(title: str | None, body: str) -> str:
    return hashlib.sha256(f"{title or ''}\x00{body}".encode()).hexdigest()


def lexical_tokens(texts: list[str]) -> list[list[str]]:
    """Lower-cased word tokens without English stop words: what BM25 compares."""
    return bm25s.tokenize(texts, stopwords="en", show_progress=False, return_ids=False)


@dataclass
class ArticleIndex:
    article_id: str
    body: str
    title: str
    sentences: list[Span]
    passages: list[Span]  # sentences first, then two-sentence windows
    embeddings: np.ndarray  # (len(passages), dim), unit vectors
    bm25: bm25s.BM25 | None  # None for an article with no word to index

    @classmethod
    def build(
        cls, article_id: str, title: str | None, body: str, encoder: TextEncoder
    ) -> ArticleIndex:
        sentences = split_sentences(body)
        windows = [
            Span(body[a.start : b.end], a.start, b.end) for a, b in zip(sentences, sentences[1:])
        ]
        passages = sentences + windows
        sentence_vectors = encoder.encode([s.text for s in sentences])
        window_vectors = sentence_vectors[:-1] + sentence_vectors[1:]
        window_vectors /= np.maximum(np.linalg.norm(window_vectors, axis=1, keepdims=True), 1e-9)
        tokens = lexical_tokens([p.text for p in passages])
        bm25 = None
        if any(tokens):
            bm25 = bm25s.BM25()
            bm25.index(tokens, show_progress=False)
        return cls(
            article_id=article_id,
            body=body,
            title=title or "",
            sentences=sentences,
            passages=passages,
            embeddings=np.concatenate([sentence_vectors, window_vectors]).astype(np.float32),
            bm25=bm25,
        )

    def lexical_scores(self, query_tokens: list[str]) -> np.ndarray:
        """BM25 score of every passage for the query, scaled to [0, 1] by the best one."""
        if self.bm25 is None or not query_tokens:
            return np.zeros(len(self.passages), dtype=np.float32)
        scores = self.bm25.get_scores(query_tokens).astype(np.float32)
        top = float(scores.max())
        return scores / top if top > 0 else scores


class ArticleIndexCache:
    """A thread-safe LRU of ArticleIndex keyed by (article id, content hash)."""

    def __init__(self, encoder: Encoder, max_size: int = 256) -> None:
        self.encoder = encoder
        self.max_size = max_size
        self._items: OrderedDict[tuple[str, str], ArticleIndex] = OrderedDict()
        self._lock = threading.Lock()
        self.builds = 0  # how many indexes were built: lets tests and metrics see cache hits

    def get(self, article_id: str, title: str | None, body: str) -> ArticleIndex:
        key = (article_id, content_hash(title, body))
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        index = ArticleIndex.build(article_id, title, body, self.encoder)
        with self._lock:
            self.builds += 1
            self._items[key] = index
            while len(self._items) > self.max_size:
                self._items.popitem(last=False)
        return index
