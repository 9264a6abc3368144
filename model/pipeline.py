"""The Pipeline: owns the loaded ONNX sessions and the article index cache, and turns
(comment, article) into a Result. Everything that serves comments holds one and shares it.

The model directory describes itself (pipeline.json: the encoder, each head's file and
labels, thresholds, version), in the manner of a sentence-transformers save.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from model import stages
from model.article_index import ArticleIndex, ArticleIndexCache
from model.classifier import MultiHeadClassifier
from model.encoder import Encoder
from model.errors import EmptyText, TextTooLong
from model.hints import write_hints
from model.language import detect_language
from model.limits import MAX_ARTICLE_CHARS, MAX_COMMENT_CHARS
from model.moderation import Policy
from model.result import ArticleIn, Claim, CommentIn, Moderation, Result, SpanScores, Stance
from model.runtime import Int8Choice, default_threads, release_free_memory, row_pool

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
        seg = stages.segment([c.text for c, _ in items], indexes, with_claims)
        moderator, claim_model = self.for_task_["moderation"], self.for_task_["checkworthy"]
        grounder, stance_model = self.for_task_["grounding"], self.for_task_["stance"]
        separate_claim_model = with_claims and claim_model is not moderator

        # Passes are queued in the order they should run (model/stages.py): the vectors,
        # the stance pass (the longest), check-worthiness, moderation, then grounding once
        # the claims are known. No core waits for a chain it is not on.
        vectors = stages.encode(self.encoder_, seg)
        stance_later = stages.queue_stance(stance_model, seg, vectors)
        claims_later = stages.queue_checkworthy(claim_model, seg) if separate_claim_model else None
        moderation_later = stages.queue_moderation(moderator, seg)
        rows = self._claim_rows(seg, claims_later, moderation_later) if with_claims else []
        grounding = stages.queue_grounding(grounder, seg, vectors, rows)

        stances = stages.stances(seg, stance_later()["stance"], stance_model.labels("stance"))
        scores = stages.moderation_scores(moderator, seg, moderation_later())
        claims = stages.grounded_claims(seg, rows, grounding, grounder.labels("grounding"))
        names = moderator.labels("moderation")
        return [
            self._result(items[i], i, seg, scores, names, claims[i], stances.get(i))
            for i in range(len(items))
        ]

    def _claim_rows(
        self,
        seg: stages.Segments,
        claims_later: stages.Later | None,
        moderation_later: stages.Later,
    ) -> list[stages.ClaimRow]:
        """The batch's claims, from the check-worthiness model, or from the text model's
        check-worthiness head when that one model answers both."""
        n = len(seg.flat)
        if claims_later is not None:
            claim_p = claims_later()["checkworthy"][:, 1]
            sentence_p, clause_p = claim_p[:n], claim_p[n:]
        else:
            sentence_p = moderation_later()["checkworthy"][:n, 1]
            answer = self.for_task_["checkworthy"].predict(seg.clause_texts, for_task="checkworthy")
            clause_p = answer["checkworthy"][:, 1]
        return stages.find_claims(seg, sentence_p, clause_p, self.claim_threshold_)

    def _result(
        self,
        item: tuple[CommentIn, ArticleIn | None],
        i: int,
        seg: stages.Segments,
        scores: stages.ModerationScores,
        names: list[str],
        claims: list[Claim],
        stance: Stance | None,
    ) -> Result:
        """One comment's Result: its attributes and span scores, the policy's decision, its
        claims, stance and hints."""
        comment, article = item
        p = stages.probability
        language = detect_language(comment.text)
        attributes = {n: p(v) for n, v in zip(names, scores.comments[i])}
        if stance is not None:  # how far the comment is from its article's subject
            attributes["off_topic"] = stance.scores["unrelated"]
        if not language.supported:  # English models: no confident score for the rest
            attributes = dict.fromkeys(attributes, 0.5)
        spans = [
            SpanScores(
                text=s.text,
                start=s.start,
                end=s.end,
                attributes={n: p(v) for n, v in zip(names, scores.sentences[row])},
            )
            for row, s in zip(range(seg.bounds[i], seg.bounds[i + 1]), seg.sentences[i])
        ]
        has_fact_hints = any(c.status in ("not_in_article", "contradicted") for c in claims)
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
        return Result(
            comment_id=comment.id,
            article_id=article.id if article is not None else comment.article_id,
            model_version=self.model_version,
            moderation=moderation,
            claims=claims,
            stance=stance,
            hints=write_hints(claims, moderation, stance),
        )
