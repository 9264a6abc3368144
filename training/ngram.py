"""Fit the n-gram model that model/ngram.py serves, export it with skl2onnx, and choose
how much of it to blend into the text model's head (`rebut train` calls `add_to_text_model`).

Recipe (data/cards/moderation.md, "n-gram blend"): TF-IDF over character 2-5-grams
(60,000) and word 1-2-grams (40,000) of `ngram_text(normalize_for_moderation(text))`,
then a logistic regression (C=4) on every training row that labels the attribute. Both
vectorisers split on what model/ngram.py already did (lower-casing, word tokens joined by
spaces), so the exported graph needs no locale and no tokeniser of its own.

The blend weight is picked by 5-fold cross-validation on dev: for each weight, each fold's
F1 at the best cut found on the other four; the head alone (weight 0) is a candidate, so
a blend that does not help is not shipped.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import FeatureUnion, Pipeline

from model.ngram import NgramModel, blend_logits, ngram_text
from model.normalize import normalize_for_moderation
from model.result import ATTRIBUTES
from training.embedding_cache import file_sha256
from training.evaluate import best_f1_threshold, moderation_targets

WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)
FOLDS = 5


def model_text(text: str) -> str:
    """What the graph reads for a comment, as the pipeline hands it over."""
    return ngram_text(normalize_for_moderation(text))


def make_pipeline(seed: int = 0) -> Pipeline:
    def tfidf(**kwargs: object) -> TfidfVectorizer:
        # lowercase=False: model/ngram.py lower-cases (the graph's own lower-casing needs
        # a locale). Plain term counts: skl2onnx drops sublinear_tf, and the graph's
        # probabilities then differ by up to 0.03 from scikit-learn's
        return TfidfVectorizer(lowercase=False, **kwargs)

    chars = tfidf(analyzer="char", ngram_range=(2, 5), max_features=60_000)
    words = tfidf(analyzer="word", token_pattern=r"\S+", ngram_range=(1, 2), max_features=40_000)
    features = FeatureUnion([("chars", chars), ("words", words)])
    classifier = LogisticRegression(C=4.0, max_iter=2000, random_state=seed)
    return Pipeline([("features", features), ("classifier", classifier)])


def labelled(rows: list[dict], label: str) -> tuple[list[str], np.ndarray]:
    """The rows that say something about `label`: their texts and 0/1 targets."""
    y = moderation_targets(rows)[:, list(ATTRIBUTES).index(label)]
    known = ~np.isnan(y)
    return [r["a"] for r, k in zip(rows, known) if k], (y[known] >= 0.5).astype(int)


def fit(rows: list[dict], label: str, seed: int = 0) -> Pipeline:
    texts, y = labelled(rows, label)
    if len(set(y.tolist())) < 2:
        raise ValueError(f"n-gram {label}: the training rows hold one class only")
    return make_pipeline(seed).fit([model_text(t) for t in texts], y)


def export(pipeline: Pipeline, path: Path) -> Path:
    """The fitted pipeline as ONNX: input `text` (n, 1) strings, output `probabilities`."""
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import StringTensorType

    with warnings.catch_warnings():
        # "only tokenizer='word' is fully supported": true of char n-grams in general;
        # over the space-joined tokens of model/ngram.py they convert exactly
        # (tests/test_ngram.py compares the graph with scikit-learn on real comments)
        warnings.filterwarnings("ignore", message="The conversion of CountVectorizer")
        onnx = to_onnx(
            pipeline,
            initial_types=[("text", StringTensorType([None, 1]))],
            options={LogisticRegression: {"zipmap": False}},
            target_opset={"": 17, "ai.onnx.ml": 3},
        )
    for output in onnx.graph.output:  # skl2onnx names them label / probabilities already
        if output.name not in ("label", "probabilities"):
            raise ValueError(f"unexpected output {output.name} in the n-gram graph")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(onnx.SerializeToString())
    return path


def cross_validated_f1(y: np.ndarray, p: np.ndarray, seed: int = 0) -> float:
    """Mean over folds of F1 at the cut that was best on the other folds."""
    folds = StratifiedKFold(FOLDS, shuffle=True, random_state=seed)
    scores = []
    for fit_rows, score_rows in folds.split(p, y):
        cut = best_f1_threshold(y[fit_rows], p[fit_rows], low=0.05, high=0.95)
        scores.append(f1_score(y[score_rows], p[score_rows] >= cut))
    return float(np.mean(scores))


def choose_weight(y: np.ndarray, head: np.ndarray, ngram: np.ndarray, seed: int = 0) -> dict:
    by_weight = {
        w: round(cross_validated_f1(y, blend_logits(head, ngram, w), seed), 4) for w in WEIGHTS
    }
    best = max(by_weight, key=lambda w: (by_weight[w], -w))  # ties: less of the n-grams
    return {"weight": best, "cv_f1_by_weight": {str(w): f for w, f in by_weight.items()}}


def add_to_text_model(
    text_dir: Path, train_rows: list[dict], dev_rows: list[dict], label: str = "spam", seed: int = 0
) -> dict:
    """Fit, export and weigh the n-gram model for `label`, and name it in text_dir's
    heads.json when the weight picked on dev is above 0. Returns the figures for the card."""
    from model.classifier import MultiHeadClassifier

    heads_path = text_dir / "heads.json"
    heads = json.loads(heads_path.read_text())
    moderation = next(h for h in heads if h["task"] == "moderation")
    moderation.pop("blend", None)  # choose against the head alone
    heads_path.write_text(json.dumps(heads, indent=1) + "\n")

    onnx_file = f"ngram_{label}.onnx"
    train_y = labelled(train_rows, label)[1]
    report: dict = {"label": label, "onnx_file": onnx_file, "train_examples": len(train_y)}
    if len(set(train_y.tolist())) < 2:
        return {**report, "weight": 0.0, "note": "the training rows hold one class only"}
    export(fit(train_rows, label, seed), text_dir / onnx_file)
    report["sha256"] = file_sha256(text_dir / onnx_file)[:16]
    texts, y = labelled(dev_rows, label)
    normalised = [normalize_for_moderation(t) for t in texts]
    k = list(ATTRIBUTES).index(label)
    head = MultiHeadClassifier(text_dir).load().predict(normalised, for_task="moderation")
    head_p = head["moderation"][:, k]
    ngram_p = NgramModel(text_dir / onnx_file).load().predict(normalised)
    if min(np.bincount(y, minlength=2)) >= FOLDS:
        chosen = choose_weight(y, head_p, ngram_p, seed)
    else:  # a smoke run's dev split cannot choose a weight
        chosen = {"weight": 0.0, "note": f"fewer than {FOLDS} dev examples of a class"}
    report.update(chosen)
    if chosen["weight"] > 0:
        moderation["blend"] = [{"label": label, "onnx_file": onnx_file, "weight": chosen["weight"]}]
        heads_path.write_text(json.dumps(heads, indent=1) + "\n")
    else:
        (text_dir / onnx_file).unlink()
    return report
