"""The served retrieval, run over document rows: which passages of a document the
pipeline would read for a claim, and how often the annotators' evidence is among them.

Both go through model/grounding.py `retrieve` on an ArticleIndex built as serving builds
it, so training rows, retrieval recall and `rebut eval grounding` see what a comment's
claim would see."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from model.article_index import ArticleIndex, content_hash
from model.grounding import TOP_PASSAGES, retrieve
from model.pipeline import BUNDLED_MODEL_DIR
from model.sentences import split_sentences
from training.data.pairs import GroundingPair
from training.embedding_cache import CachingEncoder


class Retriever:
    def __init__(self, encoder: CachingEncoder) -> None:
        self.encoder = encoder
        self.indexes: dict[str, ArticleIndex] = {}

    @classmethod
    def bundled(cls, cache_dir: Path, model_dir: Path = BUNDLED_MODEL_DIR) -> Retriever:
        return cls(CachingEncoder.for_model(model_dir / "encoder", cache_dir))

    def index(self, body: str) -> ArticleIndex:
        key = content_hash("", body)
        if key not in self.indexes:
            self.indexes[key] = ArticleIndex.build(key, "", body, self.encoder)
        return self.indexes[key]

    def warm(self, rows: list[GroundingPair]) -> None:
        """Every sentence and claim embedded in one sorted pass (the cache then answers)."""
        texts = {s.text for body in {r.evidence for r in rows} for s in split_sentences(body)}
        texts |= {r.claim for r in rows}
        self.encoder.encode(sorted(texts, key=len))

    def passage_spans(self, rows: list[GroundingPair], k: int = TOP_PASSAGES) -> list[list]:
        """Each row's retrieved passages (model.sentences.Span), best first."""
        self.warm(rows)
        claims = self.encoder.encode([r.claim for r in rows])
        out = []
        for row, vector in zip(rows, claims):
            index = self.index(row.evidence)
            found = retrieve(row.claim, vector, index, top_k=k)
            out.append([index.passages[p] for p in found.passage_ids])
        return out

    def top_passages(self, rows: list[GroundingPair], k: int = TOP_PASSAGES) -> list[list[str]]:
        return [[s.text for s in spans] for spans in self.passage_spans(rows, k)]

    def recall(self, rows: list[GroundingPair], ks: tuple[int, ...] = (1, 3)) -> dict[str, float]:
        """Share of rows with gold evidence whose gold sentence (any of them) lies inside
        one of the first k passages retrieved."""
        rows = [r for r in rows if r.gold]
        if not rows:
            return {}
        found = self.passage_spans(rows, max(ks))
        hits = np.zeros((len(rows), len(ks)))
        for i, (row, spans) in enumerate(zip(rows, found)):
            for j, k in enumerate(ks):
                hits[i, j] = any(covers(s, a, b) for s in spans[:k] for a, b in row.gold)
        figures = {f"recall@{k}": round(float(hits[:, j].mean()), 4) for j, k in enumerate(ks)}
        return {"rows": len(rows), **figures}

    def save(self) -> None:
        self.encoder.save()


def covers(passage, start: int, end: int) -> bool:  # noqa: ANN001
    """A passage holds a gold sentence when it covers most of it (the splitter may cut a
    gold sentence in two, and a two-sentence window then holds both halves)."""
    overlap = min(end, passage.end) - max(start, passage.start)
    return overlap >= 0.5 * (end - start)
