"""The second text each pair task reads, built as the pipeline builds it at serving time:
the evidence retrieved for a claim, the article context for a comment's stance. Train
and serve call the same model/ functions, so they cannot drift."""

from __future__ import annotations

import numpy as np
from tqdm import tqdm

from model.article_index import ArticleIndex, content_hash
from model.grounding import evidence_text, retrieve
from model.sentences import split_sentences
from model.stance import stance_context
from training.data.examples import GroundingExample, StanceExample
from training.embedding_cache import CachingEncoder

# CLEF 2019 marks only the sentences journalists chose to check: most plain factual claims
# are negatives there, against rebut's (ClaimBuster's) definition. It stays in dev, per
# source, but neither trains the classifier nor sets its threshold (data/cards/checkworthy.md).
CHECKWORTHY_TRAIN_SOURCES = (
    "claimbuster",
    "clef2020_tweets",
    "rebut_news_facts",  # plain news statements: claims in a comment, whatever ClaimBuster says
    "rebut_opinions",
)


class Featurizer:
    def __init__(self, encoder: CachingEncoder) -> None:
        self.encoder = encoder
        self.indexes: dict[str, ArticleIndex] = {}

    def sentence_vectors(self, texts: list[str]) -> list[np.ndarray]:
        split = [[s.text for s in split_sentences(t)] or [t.strip() or "."] for t in texts]
        flat = self.encoder.encode([s for ss in split for s in ss])
        bounds = np.cumsum([0] + [len(ss) for ss in split])
        return [flat[bounds[i] : bounds[i + 1]] for i in range(len(texts))]

    def index(self, title: str, body: str) -> ArticleIndex:
        key = content_hash(title, body)
        if key not in self.indexes:
            self.indexes[key] = ArticleIndex.build(key, title, body, self.encoder)
        return self.indexes[key]

    def warm_articles(self, articles: list[tuple[str, str]]) -> None:
        """Embed every sentence of these (title, body) articles in one sorted pass, so
        building their indexes afterwards only reads the cache."""
        texts: set[str] = set()
        for title, body in set(articles):
            sentences = [s.text for s in split_sentences(body)]
            texts.update(sentences)
            texts.add(" ".join([title, *sentences[:2]]).strip() or body[:500])
        self.encoder.encode(sorted(texts, key=len))

    def grounding_pairs(self, examples: list[GroundingExample]) -> list[tuple[str, str]]:
        """(claim, evidence text) as the cross-encoder reads them at serving time: the
        evidence is what the pipeline's retrieval picks from the claim's article."""
        self.warm_articles([("", e.article) for e in examples])
        claims = self.encoder.encode([e.claim for e in examples])
        pairs = []
        for i, e in enumerate(tqdm(examples, desc="grounding evidence", leave=False)):
            index = self.index("", e.article)
            pairs.append((e.claim, evidence_text(index, retrieve(e.claim, claims[i], index))))
        return pairs

    def stance_pairs(self, examples: list[StanceExample]) -> list[tuple[str, str]]:
        """(comment, article context) as the stance cross-encoder reads them at serving
        time (model/stance.py `stance_context`)."""
        self.warm_articles([(e.article_title, e.article_body) for e in examples])
        vectors = self.sentence_vectors([e.comment for e in examples])
        return [
            (e.comment, stance_context(self.index(e.article_title, e.article_body), vectors[i]))
            for i, e in enumerate(tqdm(examples, desc="stance context", leave=False))
        ]
