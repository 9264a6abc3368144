"""The Pipeline: owns the loaded ONNX sessions and the article index cache, and turns
(comment, article) into a Result. Everything that serves comments holds one and shares it.

The model directory describes itself (pipeline.json: the encoder, each head's file and
labels, thresholds, version), in the manner of a sentence-transformers save.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from model.article_index import ArticleIndex, ArticleIndexCache
from model.claims import clause_parts
from model.classifier import TextClassifier
from model.encoder import Encoder
from model.errors import EmptyText, TextTooLong
from model.grounding import evidence_text, pair_features
from model.heads import Head
from model.hints import write_hints
from model.limits import MAX_ARTICLE_CHARS, MAX_COMMENT_CHARS
from model.moderation import Policy, comment_features
from model.result import (
    ArticleIn,
    Claim,
    CommentIn,
    Evidence,
    Moderation,
    Result,
    Stance,
)
from model.sentences import Span, split_sentences
from model.stance import stance_features

BUNDLED_MODEL_DIR = Path(__file__).parent / "artifacts"
HEAD_NAMES = ("moderation", "checkworthy", "grounding", "stance")


class Pipeline:
    """Args:
    model_dir: a folder written by `rebut export` (default: the bundled model/artifacts).
    article_cache_size: how many indexed articles to keep in memory.
    threads: onnxruntime intra-op threads (default REBUT_THREADS or all cores).
    """

    def __init__(
        self,
        model_dir: str | Path | None = None,
        *,
        article_cache_size: int = 256,
        threads: int | None = None,
    ) -> None:
        self.model_dir = Path(model_dir) if model_dir else BUNDLED_MODEL_DIR
        self.article_cache_size = article_cache_size
        self.threads = threads

    @classmethod
    def from_dir(cls, model_dir: str | Path | None = None, **kwargs: object) -> Pipeline:
        return cls(model_dir, **kwargs).load()  # type: ignore[arg-type]

    def load(self) -> Pipeline:
        config_path = self.model_dir / "pipeline.json"
        if not config_path.is_file():
            raise FileNotFoundError(
                f"{config_path} not found: point REBUT_MODEL_DIR at a folder written by "
                "`rebut export`, or reinstall rebut to get the bundled model"
            )
        config = json.loads(config_path.read_text())
        self.config_ = config
        self.model_version: str = config["version"]
        enc = config["encoder"]
        self.encoder_ = Encoder(
            self.model_dir / enc["path"],
            onnx_file=enc.get("onnx_file", "model.onnx"),
            max_tokens=enc.get("max_tokens", 128),
            batch_size=enc.get("batch_size", 1),
            threads=self.threads,
        ).load()
        self.heads_ = {
            name: Head(self.model_dir / spec["file"], spec["labels"], self.threads).load()
            for name, spec in config["heads"].items()
        }
        # a task is served by a head over shared vectors or by its own fine-tuned classifier
        self.classifiers_ = {
            name: TextClassifier(
                self.model_dir / spec["path"],
                spec["labels"],
                max_tokens=spec.get("max_tokens", 128),
                threads=self.threads,
            ).load()
            for name, spec in config.get("classifiers", {}).items()
        }
        missing = set(HEAD_NAMES) - set(self.heads_) - set(self.classifiers_)
        if missing:
            raise ValueError(f"{config_path} has no head or classifier for {sorted(missing)}")
        thresholds = config["thresholds"]
        self.claim_threshold_: float = thresholds["checkworthy"]
        self.policy_ = Policy(
            flag=thresholds["moderation"]["flag"], reject=thresholds["moderation"].get("reject", {})
        )
        self.articles_ = ArticleIndexCache(self.encoder_, self.article_cache_size)
        return self

    # -- input checks -----------------------------------------------------------------

    @staticmethod
    def validate_comment(comment: CommentIn) -> None:
        if not comment.text.strip():
            raise EmptyText("comment text is empty or only whitespace")
        if len(comment.text) > MAX_COMMENT_CHARS:
            raise TextTooLong(
                f"comment text has {len(comment.text):,} characters; the limit is "
                f"{MAX_COMMENT_CHARS:,}"
            )

    @staticmethod
    def validate_article(article: ArticleIn) -> None:
        if not article.body.strip():
            raise EmptyText(f"article {article.id!r} has an empty body")
        if len(article.body) > MAX_ARTICLE_CHARS:
            raise TextTooLong(
                f"article {article.id!r} has {len(article.body):,} characters; the limit is "
                f"{MAX_ARTICLE_CHARS:,}"
            )

    def index_article(self, article: ArticleIn) -> ArticleIndex:
        self.validate_article(article)
        return self.articles_.get(article.id, article.title, article.body)

    # -- scoring ----------------------------------------------------------------------

    def score(self, comment: CommentIn, article: ArticleIn | None = None) -> Result:
        return self.score_batch([(comment, article)])[0]

    def score_batch(self, items: Sequence[tuple[CommentIn, ArticleIn | None]]) -> list[Result]:
        """Score many comments with one encoder call for all their sentences and one call
        per head; the results equal scoring each alone."""
        if not hasattr(self, "encoder_"):
            raise RuntimeError("Pipeline.score called before load()")
        for comment, article in items:
            self.validate_comment(comment)
            if article is not None:
                self.validate_article(article)
        sentences = [_sentences(c.text) for c, _ in items]
        flat = [s.text for ss in sentences for s in ss]
        vectors = self.encoder_.encode(flat)
        bounds = np.cumsum([0] + [len(ss) for ss in sentences])
        per_comment = [vectors[bounds[i] : bounds[i + 1]] for i in range(len(items))]

        moderation_p = self.heads_["moderation"].predict_proba(
            np.stack([comment_features(v) for v in per_comment])
        )
        indexes = [self.index_article(a) if a is not None else None for _, a in items]
        claim_rows = self._claims(sentences, flat, vectors, bounds)

        # every claim of every comment that has an article goes through one grounding call
        grounded = [r for r, (i, *_rest) in enumerate(claim_rows) if indexes[i] is not None]
        retrievals = [
            pair_features(claim_rows[r][1].text, claim_rows[r][3], indexes[claim_rows[r][0]])
            for r in grounded
        ]
        grounding_p = self._grounding_proba(
            [claim_rows[r][1].text for r in grounded],
            [indexes[claim_rows[r][0]] for r in grounded],  # type: ignore[misc]
            retrievals,
        )
        with_article = [i for i, index in enumerate(indexes) if index is not None]
        stance_p = (
            self.heads_["stance"].predict_proba(
                np.stack(
                    [
                        stance_features(items[i][0].text, per_comment[i], indexes[i])
                        for i in with_article
                    ]
                )
            )
            if with_article
            else None
        )

        grounding_labels = self._labels("grounding")
        claims: list[list[Claim]] = [[] for _ in items]
        where = {r: k for k, r in enumerate(grounded)}
        for r, (i, span, p_claim, _vector) in enumerate(claim_rows):
            claim = Claim(
                text=span.text, start=span.start, end=span.end, check_worthiness=_p(p_claim)
            )
            if r in where:
                index, retrieval = indexes[i], retrievals[where[r]]
                probs = grounding_p[where[r]]
                claim.scores = {label: _p(p) for label, p in zip(grounding_labels, probs)}
                claim.status = grounding_labels[int(np.argmax(probs))]  # type: ignore[assignment]
                claim.evidence = [
                    Evidence(
                        text=index.passages[p].text,  # type: ignore[union-attr]
                        start=index.passages[p].start,  # type: ignore[union-attr]
                        end=index.passages[p].end,  # type: ignore[union-attr]
                        score=sim,
                    )
                    for p, sim in zip(retrieval.passage_ids, retrieval.similarities)
                ]
            claims[i].append(claim)

        stance_labels = self._labels("stance")
        stances: dict[int, Stance] = {}
        for row, i in enumerate(with_article):
            probs = stance_p[row]  # type: ignore[index]
            stances[i] = Stance(
                label=stance_labels[int(np.argmax(probs))],  # type: ignore[arg-type]
                scores={label: _p(p) for label, p in zip(stance_labels, probs)},
            )

        attribute_names = self._labels("moderation")
        results = []
        for i, (comment, article) in enumerate(items):
            attributes = {name: _p(p) for name, p in zip(attribute_names, moderation_p[i])}
            has_fact_hints = any(c.status in ("not_in_article", "contradicted") for c in claims[i])
            flagged, action, reasons = self.policy_.decide(attributes, has_fact_hints)
            moderation = Moderation(
                flagged=flagged,
                action=action,
                attributes=attributes,
                reasons=reasons,  # type: ignore[arg-type]
            )
            stance = stances.get(i)
            results.append(
                Result(
                    comment_id=comment.id,
                    article_id=article.id if article is not None else comment.article_id,
                    model_version=self.model_version,
                    moderation=moderation,
                    claims=claims[i],
                    stance=stance,
                    hints=write_hints(claims[i], moderation, stance),
                )
            )
        return results

    # -- the steps that a head or a fine-tuned classifier may serve ---------------------

    def _labels(self, task: str) -> list[str]:
        model = self.classifiers_.get(task) or self.heads_[task]
        return model.labels

    def _claim_proba(self, texts: list[str], vectors: np.ndarray | None = None) -> np.ndarray:
        """Check-worthiness of each text; `vectors` (their encodings) only for a head."""
        if "checkworthy" in self.classifiers_:
            return self.classifiers_["checkworthy"].predict_proba(texts)[:, 1]
        if vectors is None:
            vectors = self.encoder_.encode(texts)
        return self.heads_["checkworthy"].predict_proba(vectors)[:, 1]

    def _grounding_proba(
        self, claims: list[str], indexes: list[ArticleIndex], retrievals: list
    ) -> np.ndarray:
        labels = self._labels("grounding")
        if not claims:
            return np.zeros((0, len(labels)), dtype=np.float32)
        if "grounding" in self.classifiers_:
            evidence = [evidence_text(x, r) for x, r in zip(indexes, retrievals)]
            return self.classifiers_["grounding"].predict_proba(claims, evidence)
        return self.heads_["grounding"].predict_proba(np.stack([r.features for r in retrievals]))

    def _claims(
        self,
        sentences: list[list[Span]],
        flat: list[str],
        vectors: np.ndarray,
        bounds: np.ndarray,
    ) -> list[tuple[int, Span, float, np.ndarray]]:
        """(comment, span, check-worthiness, vector) of every claim, in comment order.

        A sentence is one claim, or, where at least two of its clauses are claims on
        their own, those clauses (model/claims.py)."""
        sentence_p = self._claim_proba(flat, vectors)
        parts = [[clause_parts(s) for s in ss] for ss in sentences]
        part_spans = [p for ss in parts for ps in ss for p in ps]
        part_p = self._claim_proba([p.text for p in part_spans])
        # (comment, span, p, row of `vectors` for a whole sentence / None for a clause)
        chosen: list[tuple[int, Span, float, int | None]] = []
        k = 0
        for i, ss in enumerate(sentences):
            for j, span in enumerate(ss):
                n = len(parts[i][j])
                claimed = [m for m in range(k, k + n) if part_p[m] >= self.claim_threshold_]
                k += n
                row = int(bounds[i] + j)
                if len(claimed) >= 2:
                    chosen.extend((i, part_spans[m], float(part_p[m]), None) for m in claimed)
                elif sentence_p[row] >= self.claim_threshold_:
                    chosen.append((i, span, float(sentence_p[row]), row))
        # a clause needs its own vector for retrieval; a whole sentence has one already
        clause_vectors = iter(self.encoder_.encode([c[1].text for c in chosen if c[3] is None]))
        return [
            (i, span, p, vectors[row] if row is not None else next(clause_vectors))
            for i, span, p, row in chosen
        ]


def _sentences(text: str) -> list[Span]:
    spans = split_sentences(text)
    if spans:
        return spans
    stripped = text.strip()  # punctuation-only text that the splitter drops entirely
    start = text.index(stripped)
    return [Span(stripped, start, start + len(stripped))]


def _p(value: float) -> float:
    """A probability for the contract: a plain float in [0, 1], rounded for readable output."""
    return round(float(min(max(value, 0.0), 1.0)), 4)
