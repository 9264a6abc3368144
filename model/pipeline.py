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
from model.claims import as_statement, clause_parts
from model.classifier import MultiHeadClassifier
from model.encoder import Encoder
from model.errors import EmptyText, TextTooLong
from model.grounding import SHOWN_PASSAGES, TOP_PASSAGES, Retrieval, by_relevance, retrieve
from model.hints import write_hints
from model.language import detect_language
from model.limits import MAX_ARTICLE_CHARS, MAX_CLAIMS, MAX_COMMENT_CHARS, MAX_SPANS
from model.moderation import Policy
from model.normalize import normalize_for_moderation
from model.result import (
    ArticleIn,
    Claim,
    CommentIn,
    Evidence,
    Moderation,
    Result,
    SpanScores,
    Stance,
)
from model.runtime import Int8Choice, default_threads, release_free_memory, row_pool
from model.sentences import Span, join_neighbours, split_sentences
from model.stance import stance_context

BUNDLED_MODEL_DIR = Path(__file__).parent / "artifacts"
DEFAULT_TASK_MODELS = {
    "moderation": "text",
    "checkworthy": "text",
    "grounding": "pair",
    "stance": "pair",
}


class Pipeline:
    """Args:
    model_dir: a folder written by `rebut export` (default: the bundled model/artifacts).
    article_cache_size: how many indexed articles to keep in memory.
    threads: the cores the pipeline's passes use (default: all cores).
    rows: forward passes run at once, each on one input (default: as many as threads),
        each with threads // rows onnxruntime threads.
        A comment's texts are independent passes; at batch 1 a pass cannot keep two
        cores busy, two side by side can (2 cores: 97 -> 77 ms for the seed-like
        comment, bench/pipeline.py). Results do not change: each pass is one input.
        Splitting the cores among the passes rather than giving each pass all of them
        took the seed-like comment 154 -> 141 ms and a batch of 8 comments 130 -> 112 ms
        a comment on 2 cores: more threads than cores only contend.
        Every model's passes share one pool of `rows` threads, and a call's
        independent chains of passes queue on it together (score_batch): on 2 AMD EPYC
        cores the seed-like comment took 52-55 ms median instead of 60-64 ms when each
        model had a pool of its own and the chains ran one after another
        (bench/claim_latency.py, alternating runs on a quiet host).
    int8: how int8 weights run (model/runtime.py int8_weights): auto, signed or unsigned.
    policy: a newsroom's policy (model/moderation.py load_policy_file) over the
        thresholds pipeline.json ships.
    """

    def __init__(
        self,
        model_dir: str | Path | None = None,
        *,
        article_cache_size: int = 256,
        threads: int | None = None,
        rows: int | None = None,
        int8: Int8Choice = "auto",
        policy: dict | None = None,
    ) -> None:
        self.model_dir = Path(model_dir) if model_dir else BUNDLED_MODEL_DIR
        self.article_cache_size = article_cache_size
        self.threads = threads
        self.rows = rows
        self.int8 = int8
        self.policy = policy

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
        if "models" not in config:
            raise ValueError(f"{config_path} is from a rebut before 0.3; export the model again")
        self.config_ = config
        cores = self.threads or default_threads()
        rows = self.rows or cores
        pass_threads = max(1, cores // rows)
        # one pool of `rows` threads runs the forward passes of every model: the chains of
        # a call (score_batch) submit to it side by side, and queue rather than contend
        self.rows_ = row_pool(rows)
        self.model_version: str = config["version"]
        enc = config["encoder"]
        self.encoder_ = Encoder(
            self.model_dir / enc["path"],
            onnx_file=enc.get("onnx_file", "model.onnx"),
            max_tokens=enc.get("max_tokens", 128),
            batch_size=enc.get("batch_size", 1),
            threads=pass_threads,
            pool=self.rows_,
            int8=self.int8,
        ).load()
        # `text` answers moderation (and check-worthiness), `pair` grounding and stance;
        # pipeline.json's `tasks` may serve a task from another folder (a kept model)
        self.models_ = {
            name: MultiHeadClassifier(
                self.model_dir / folder, threads=pass_threads, pool=self.rows_, int8=self.int8
            ).load()
            for name, folder in config["models"].items()
        }
        tasks = {**DEFAULT_TASK_MODELS, **config.get("tasks", {})}
        self.for_task_ = {task: self.models_[name] for task, name in tasks.items()}
        for task, model in self.for_task_.items():
            if task not in model.heads_:
                raise ValueError(f"{model.model_dir} has no head for {task}")
        thresholds = config["thresholds"]
        self.claim_threshold_: float = thresholds["checkworthy"]
        # dev-chosen defaults, then the newsroom's policy file over them
        self.policy_ = Policy.from_thresholds(thresholds["moderation"]).merged(self.policy)
        self.articles_ = ArticleIndexCache(self.encoder_, self.article_cache_size)
        release_free_memory()  # what loading the graphs freed, back to the system
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

    def score(
        self, comment: CommentIn, article: ArticleIn | None = None, *, with_claims: bool = True
    ) -> Result:
        return self.score_batch([(comment, article)], with_claims=with_claims)[0]

    def score_batch(
        self, items: Sequence[tuple[CommentIn, ArticleIn | None]], *, with_claims: bool = True
    ) -> list[Result]:
        """Score many comments with one call per model for all their texts; the results
        equal scoring each alone.

        with_claims=False leaves `claims` empty and skips the passes that find and ground
        them (check-worthiness of every sentence and clause, their vectors, grounding), for
        a caller that reads only the abuse scores: Perspective's analyze when nothing is
        stored. Attributes, span scores and stance are the same either way; the action may
        not be, since a claim the article does not support sends a comment to review."""
        if not hasattr(self, "encoder_"):
            raise RuntimeError("Pipeline.score called before load()")
        for comment, article in items:
            self.validate_comment(comment)
            if article is not None:
                self.validate_article(article)
        indexes = [self.index_article(a) if a is not None else None for _, a in items]
        languages = [detect_language(c.text) for c, _ in items]
        sentences = [_sentences(c.text) for c, _ in items]
        bounds = np.cumsum([0] + [len(ss) for ss in sentences])
        flat = [s.text for ss in sentences for s in ss]
        # candidate clauses of every sentence (model/claims.py), scored with the sentences
        parts = [[clause_parts(s) if with_claims else [] for s in ss] for ss in sentences]
        part_spans = [p for ss in parts for ps in ss for p in ps]
        part_texts = [as_statement(p.text) for p in part_spans]
        part_comment = [i for i, ss in enumerate(parts) for ps in ss for _ in ps]
        moderator, claim_model = self.for_task_["moderation"], self.for_task_["checkworthy"]
        grounder, stance_model = self.for_task_["grounding"], self.for_task_["stance"]
        whole = [i for i, ss in enumerate(sentences) if len(ss) > 1]

        # Three chains of passes need nothing from each other: sentence vectors -> stance,
        # check-worthiness -> grounding, and moderation. Every pass is queued on the one
        # pool of passes (self.rows_) as soon as its inputs exist (predict_later), and
        # runs in the order queued: the vectors, the stance pass (the longest: started
        # first, it is not left running alone at the end), check-worthiness, moderation,
        # then grounding. No core waits for a chain it is not on, and no more passes run
        # at once than there are cores. Every pass is one input, so the results do not
        # depend on the order.

        # sentence vectors for retrieval and stance, only where there is an article, and
        # of the clauses too: any clause may become a claim, and waiting for the claims
        # before encoding them would put two more passes on the grounding chain
        with_article = [i for i, index in enumerate(indexes) if index is not None]
        grounded_parts = [m for m, i in enumerate(part_comment) if indexes[i] is not None]
        encoded = self.encoder_.encode(
            [s.text for i in with_article for s in sentences[i]]
            + [part_texts[m] for m in grounded_parts]
        )
        vectors: dict[int, np.ndarray] = {}
        at = 0
        for i in with_article:
            vectors[i] = encoded[at : at + len(sentences[i])]
            at += len(sentences[i])
        part_vectors = dict(zip(grounded_parts, encoded[at:]))
        # the stance pass (the longest, up to 320 tokens) needs only the sentence vectors
        contexts = [stance_context(indexes[i], vectors[i]) for i in with_article]  # type: ignore[arg-type]
        comment_texts = [items[i][0].text for i in with_article]
        stance_later = stance_model.predict_later(comment_texts, contexts, "stance")
        # check-worthiness of every sentence and clause, unless the text model answers it
        claims_later = (
            claim_model.predict_later(flat + part_texts, None, "checkworthy")
            if with_claims and claim_model is not moderator
            else None
        )
        # every sentence (span scores, check-worthiness), and each comment of several
        # sentences as a whole (its attributes): one call, its passes queued together
        moderation_later = moderator.predict_later(
            [normalize_for_moderation(t) for t in flat]
            + [normalize_for_moderation(items[i][0].text) for i in whole],
            None,
            "moderation",
        )

        claim_rows: list[ClaimRow] = []
        if with_claims:
            if claims_later is not None:
                claim_p = claims_later()["checkworthy"][:, 1]
                sentence_claim_p, part_p = claim_p[: len(flat)], claim_p[len(flat) :]
            else:
                sentence_claim_p = moderation_later()["checkworthy"][: len(flat), 1]
                answer = claim_model.predict(part_texts, for_task="checkworthy")
                part_p = answer["checkworthy"][:, 1]
            claim_rows = self._claims(
                sentences, sentence_claim_p, parts, part_spans, part_p, bounds
            )

        # the grounding model: each claim against its passages (the comment against its
        # article is the stance pass, already running)
        grounded = [r for r, row in enumerate(claim_rows) if indexes[row[0]] is not None]
        claim_vectors = [
            vectors[i][j] if j is not None else part_vectors[m]
            for i, _, _, j, m in (claim_rows[r] for r in grounded)
        ]
        retrievals = [
            retrieve(claim_rows[r][1].text, v, indexes[claim_rows[r][0]], TOP_PASSAGES)  # type: ignore[arg-type]
            for r, v in zip(grounded, claim_vectors)
        ]
        # every claim against each of its passages, one pass each (model/grounding.py)
        passage_pairs = [
            (r, indexes[claim_rows[r][0]].passages[p].text)  # type: ignore[union-attr]
            for r, x in zip(grounded, retrievals)
            for p in x.passage_ids
        ]
        grounding_later = grounder.predict_later(
            [_model_text(claim_rows[r]) for r, _ in passage_pairs],
            [text for _, text in passage_pairs],
            for_task="grounding",
        )
        grounding_labels = grounder.labels("grounding")
        stance_p = stance_later()["stance"]
        both = moderation_later()
        text_p = {task: p[: len(flat)] for task, p in both.items()}
        whole_p = {task: p[len(flat) :] for task, p in both.items()}
        attribute_names = moderator.labels("moderation")
        comment_attributes = text_p["moderation"][bounds[:-1]].copy()  # one-sentence comments
        for row, i in enumerate(whole):
            comment_attributes[i] = whole_p["moderation"][row]
            if moderator.truncates(items[i][0].text):  # the model saw only the start
                sentence_max = text_p["moderation"][bounds[i] : bounds[i + 1]].max(axis=0)
                comment_attributes[i] = np.maximum(comment_attributes[i], sentence_max)

        claims: list[list[Claim]] = [[] for _ in items]
        per_passage = grounding_later()["grounding"]
        at = {r: k for k, r in enumerate(grounded)}
        first = np.cumsum([0] + [len(x.passage_ids) for x in retrievals])
        for r, (i, span, p_claim, _row, _part) in enumerate(claim_rows):
            claim = Claim(
                text=span.text, start=span.start, end=span.end, check_worthiness=_p(p_claim)
            )
            if r in at:
                k = at[r]
                claim.status, claim.scores, claim.evidence = _grounded(
                    indexes[i],  # type: ignore[arg-type]
                    retrievals[k],
                    per_passage[first[k] : first[k + 1]],
                    grounding_labels,
                )
            claims[i].append(claim)

        stance_labels = stance_model.labels("stance")
        stances: dict[int, Stance] = {}
        for row, i in enumerate(with_article):
            probs = stance_p[row]
            stances[i] = Stance(
                label=stance_labels[int(np.argmax(probs))],  # type: ignore[arg-type]
                scores={label: _p(p) for label, p in zip(stance_labels, probs)},
            )

        results = []
        for i, (comment, article) in enumerate(items):
            language = languages[i]
            attributes = {n: _p(p) for n, p in zip(attribute_names, comment_attributes[i])}
            stance = stances.get(i)
            if stance is not None:  # how far the comment is from its article's subject
                attributes["off_topic"] = stance.scores["unrelated"]
            if not language.supported:  # English models: no confident score for the rest
                attributes = dict.fromkeys(attributes, 0.5)
            spans = [
                SpanScores(
                    text=s.text,
                    start=s.start,
                    end=s.end,
                    attributes={
                        n: _p(p) for n, p in zip(attribute_names, text_p["moderation"][row])
                    },
                )
                for row, s in zip(range(bounds[i], bounds[i + 1]), sentences[i])
            ]
            has_fact_hints = any(c.status in ("not_in_article", "contradicted") for c in claims[i])
            policy = self.policy_.for_publisher(comment.publisher)
            flagged, action, reasons = policy.decide(attributes, has_fact_hints, language)
            moderation = Moderation(
                flagged=flagged,
                action=action,  # type: ignore[arg-type]
                attributes=attributes,
                reasons=reasons,
                language=language.code,
                spans=spans,
            )
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

    # -- claims -------------------------------------------------------------------------

    def _claims(
        self,
        sentences: list[list[Span]],
        sentence_p: np.ndarray,
        parts: list[list[list[Span]]],
        part_spans: list[Span],
        part_p: np.ndarray,
        bounds: np.ndarray,
    ) -> list[ClaimRow]:
        """Every claim, in comment order.

        A sentence is one claim, or, where at least two of its clauses are claims on
        their own, those clauses (model/claims.py). A comment keeps its MAX_CLAIMS most
        check-worthy claims (model/limits.py)."""
        chosen: list[ClaimRow] = []
        k = 0
        for i, ss in enumerate(sentences):
            for j, span in enumerate(ss):
                n = len(parts[i][j])
                claimed = [m for m in range(k, k + n) if part_p[m] >= self.claim_threshold_]
                k += n
                row = int(bounds[i] + j)
                if len(claimed) >= 2:
                    chosen.extend((i, part_spans[m], float(part_p[m]), None, m) for m in claimed)
                elif sentence_p[row] >= self.claim_threshold_:
                    chosen.append((i, span, float(sentence_p[row]), j, None))
        return _most_checkworthy(chosen, MAX_CLAIMS)


# (comment, span, check-worthiness, sentence of the comment or None for a clause,
#  clause index into the batch's clauses or None for a sentence)
ClaimRow = tuple[int, Span, float, int | None, int | None]


def _grounded(
    index: ArticleIndex, retrieval: Retrieval, probabilities: np.ndarray, labels: list[str]
) -> tuple[str, dict[str, float], list[Evidence]]:
    """A claim's status and scores from its decisive passage, and its evidence: that
    passage first, whole, then the next most decisive."""
    if not len(probabilities):  # an article with no passage to read
        return "not_in_article", {label: _p(label == "not_in_article") for label in labels}, []
    order = by_relevance(probabilities, labels)[:SHOWN_PASSAGES]
    probs = probabilities[order[0]]  # the decisive passage's verdict
    evidence = [
        Evidence(
            text=index.passages[retrieval.passage_ids[k]].text,
            start=index.passages[retrieval.passage_ids[k]].start,
            end=index.passages[retrieval.passage_ids[k]].end,
            score=retrieval.similarities[k],
        )
        for k in order
    ]
    status = labels[int(np.argmax(probs))]
    return status, {label: _p(p) for label, p in zip(labels, probs)}, evidence


def _most_checkworthy(rows: list[ClaimRow], most: int) -> list[ClaimRow]:
    """Each comment's `most` most check-worthy claims, still in comment order."""
    kept: set[int] = set()
    for i in {row[0] for row in rows}:
        mine = [r for r, row in enumerate(rows) if row[0] == i]
        kept.update(sorted(mine, key=lambda r: -rows[r][2])[:most])
    return [row for r, row in enumerate(rows) if r in kept]


def _model_text(row: ClaimRow) -> str:
    """What the models read of a claim: a sentence as written, a clause ended as one."""
    span, sentence = row[1], row[3]
    return span.text if sentence is not None else as_statement(span.text)


def _sentences(text: str) -> list[Span]:
    """The spans of a comment the models read: its sentences, or runs of them where it has
    more than MAX_SPANS (model/limits.py), so no comment costs more passes than that."""
    spans = split_sentences(text)
    if spans:
        return join_neighbours(spans, text, MAX_SPANS)
    stripped = text.strip()  # punctuation-only text that the splitter drops entirely
    start = text.index(stripped)
    return [Span(stripped, start, start + len(stripped))]


def _p(value: float) -> float:
    """A probability for the contract: a plain float in [0, 1], rounded for readable output."""
    return round(float(min(max(value, 0.0), 1.0)), 4)
