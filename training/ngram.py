"""Fit the n-gram model that model/ngram.py serves, export it with skl2onnx, and choose
how much of it to blend into each attribute of the text model's head (`rebut train` calls
`add_to_text_model`).

Recipe (data/cards/moderation.md, "n-gram blend"): TF-IDF over character 2-5-grams
(60,000) and word 1-2-grams (40,000) of `ngram_text(normalize_for_moderation(text))`,
fitted once on every training row, then one logistic regression (C=4) per attribute on
the rows that label it. Both vectorisers split on what model/ngram.py already did
(lower-casing, word tokens joined by spaces), so the exported graph needs no locale and
no tokeniser of its own. One graph holds every blended attribute: one TF-IDF pass a text.

Each attribute's blend weight is picked by 5-fold cross-validation on dev: spam, which
`flagged` and `action` read at a threshold, by F1 at the cut best on the other folds;
the abuse attributes, which Jigsaw measures by ranking, by ROC-AUC. The head alone
(weight 0) is a candidate, and an abuse attribute is blended only when the n-grams raise
its cross-validated ROC-AUC by MIN_AUC_GAIN: smaller gains (toxicity, insult, profanity:
0.001 to 0.002) were measured to cost `flagged` 0.7 points of Jigsaw accuracy. A blended
abuse attribute is then Platt-scaled on dev (`platt_scaling`): the n-gram model's
probabilities of a rare attribute are small, and the raw blend flagged 3 of 14 dev
threats at the 0.3 threshold where the head alone flagged 6.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.multioutput import MultiOutputClassifier
from sklearn.pipeline import FeatureUnion, Pipeline

from model.ngram import blend_logits, ngram_text
from model.normalize import normalize_for_moderation
from model.result import ATTRIBUTES
from training.embedding_cache import file_sha256
from training.evaluate import best_f1_threshold, moderation_targets

WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)
FOLDS = 5
# the attributes an n-gram model is fitted for and offered to; sexually_explicit has no rows
LABELS = ("spam", "toxicity", "severe_toxicity", "insult", "threat", "identity_attack", "profanity")
BY_F1 = ("spam",)  # chosen by F1 at a cut; the rest by ROC-AUC
MIN_AUC_GAIN = 0.005
ONNX_FILE = "ngram_moderation.onnx"


def model_text(text: str) -> str:
    """What the graph reads for a comment, as the pipeline hands it over."""
    return ngram_text(normalize_for_moderation(text))


def make_features() -> FeatureUnion:
    def tfidf(**kwargs: object) -> TfidfVectorizer:
        # lowercase=False: model/ngram.py lower-cases (the graph's own lower-casing needs
        # a locale). Plain term counts: skl2onnx drops sublinear_tf, and the graph's
        # probabilities then differ by up to 0.03 from scikit-learn's
        return TfidfVectorizer(lowercase=False, **kwargs)

    chars = tfidf(analyzer="char", ngram_range=(2, 5), max_features=60_000)
    words = tfidf(analyzer="word", token_pattern=r"\S+", ngram_range=(1, 2), max_features=40_000)
    return FeatureUnion([("chars", chars), ("words", words)])


def _orphans(vocabulary: set[str], analyzer: str) -> set[str]:
    """N-grams whose shorter n-grams are not in the vocabulary: max_features keeps the
    most frequent, and at its cut ties can keep "mccl" and drop "mcc". The ONNX
    TfIdfVectorizer then misses or miscounts them (probabilities off by up to 0.03 on a
    vocabulary fitted on 300 rows a source, tests/test_ngram.py)."""
    if analyzer == "char":
        return {g for g in vocabulary if len(g) > 2 and not {g[:-1], g[1:]} <= vocabulary}
    return {g for g in vocabulary if " " in g and not set(g.split(" ")) <= vocabulary}


def close_vocabularies(features: FeatureUnion) -> bool:
    """Drop orphan n-grams from each fitted vectorizer's vocabulary, as a fixed
    vocabulary to fit again with; True when one changed (then fit again)."""
    changed = False
    for _, vectorizer in features.transformer_list:
        vocabulary = set(vectorizer.vocabulary_)
        while drop := _orphans(vocabulary, vectorizer.analyzer):
            vocabulary -= drop
        if len(vocabulary) < len(vectorizer.vocabulary_):
            vectorizer.set_params(vocabulary=sorted(vocabulary))
            changed = True
    return changed


def labelled(rows: list[dict], label: str) -> tuple[np.ndarray, np.ndarray]:
    """Which rows say something about `label` (a mask), and their 0/1 targets."""
    y = moderation_targets(rows)[:, list(ATTRIBUTES).index(label)]
    known = ~np.isnan(y)
    return known, (y[known] >= 0.5).astype(int)


def fit(
    rows: list[dict],
    labels: tuple[str, ...] | list[str],
    seed: int = 0,
    features: FeatureUnion | None = None,
) -> Pipeline:
    """One TF-IDF over every row's text (`make_features()` unless given), then per label a
    logistic regression on the rows that label it. The classifiers sit in a
    MultiOutputClassifier, which skl2onnx exports as one graph; it is assembled here
    because its own `fit` needs every label on every row, and each source labels only
    some attributes."""
    features = make_features() if features is None else features
    texts = [model_text(r["a"]) for r in rows]
    x = features.fit_transform(texts)
    if close_vocabularies(features):
        x = features.fit_transform(texts)
    classifiers = []
    for label in labels:
        known, y = labelled(rows, label)
        if len(set(y.tolist())) < 2:
            raise ValueError(f"n-gram {label}: the training rows hold one class only")
        lr = LogisticRegression(C=4.0, max_iter=2000, random_state=seed)
        classifiers.append(lr.fit(x[known], y))
    per_label = MultiOutputClassifier(LogisticRegression(C=4.0, max_iter=2000))
    per_label.estimators_ = classifiers
    return Pipeline([("features", features), ("classifier", per_label)])


def keep_labels(pipeline: Pipeline, labels: list[str], keep: list[str]) -> Pipeline:
    """The same pipeline with the classifiers of `keep` only (the features stay)."""
    per_label = pipeline.named_steps["classifier"]
    chosen = MultiOutputClassifier(per_label.estimator)
    chosen.estimators_ = [per_label.estimators_[labels.index(label)] for label in keep]
    return Pipeline([("features", pipeline.named_steps["features"]), ("classifier", chosen)])


def probabilities(pipeline: Pipeline, texts: list[str]) -> np.ndarray:
    """scikit-learn's (n, labels) positive-class probabilities, as the graph gives them."""
    per_label = pipeline.predict_proba([model_text(t) for t in texts])
    return np.stack([p[:, 1] for p in per_label], axis=1)


def export(pipeline: Pipeline, labels: list[str], path: Path) -> Path:
    """The fitted pipeline as ONNX: input `text` (n, 1) strings, output `probabilities`
    (a sequence of (n, 2), one per label), and the labels in the graph's metadata."""
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
            options={MultiOutputClassifier: {"zipmap": False}},
            target_opset={"": 17, "ai.onnx.ml": 3},
        )
    for output in onnx.graph.output:  # skl2onnx names them label / probabilities already
        if output.name not in ("label", "probabilities"):
            raise ValueError(f"unexpected output {output.name} in the n-gram graph")
    entry = onnx.metadata_props.add()
    entry.key, entry.value = "labels", json.dumps(list(labels))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(onnx.SerializeToString())
    return path


def cross_validated(y: np.ndarray, p: np.ndarray, by: str, seed: int = 0) -> float:
    """Mean over folds of the score on the held-out fold: F1 at the cut that was best on
    the other folds, or ROC-AUC (which needs no cut)."""
    folds = StratifiedKFold(FOLDS, shuffle=True, random_state=seed)
    scores = []
    for fit_rows, score_rows in folds.split(p, y):
        if by == "f1":
            cut = best_f1_threshold(y[fit_rows], p[fit_rows], low=0.05, high=0.95)
            scores.append(f1_score(y[score_rows], p[score_rows] >= cut))
        else:
            scores.append(roc_auc_score(y[score_rows], p[score_rows]))
    return float(np.mean(scores))


def choose_weight(
    y: np.ndarray, head: np.ndarray, ngram: np.ndarray, by: str = "f1", seed: int = 0
) -> dict:
    scores = {
        w: round(cross_validated(y, blend_logits(head, ngram, w), by, seed), 4) for w in WEIGHTS
    }
    best = max(scores, key=lambda w: (scores[w], -w))  # ties: less of the n-grams
    if by == "roc_auc" and scores[best] < scores[0.0] + MIN_AUC_GAIN:
        best = 0.0
    return {"weight": best, "by": by, f"cv_{by}_by_weight": {str(w): s for w, s in scores.items()}}


def platt_scaling(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """scale and bias of sigmoid(scale * logit(p) + bias) that fit y best (log-loss): a
    one-feature logistic regression, unregularised."""
    p = np.clip(p.astype(np.float64), 1e-6, 1 - 1e-6)
    z = np.log(p / (1 - p))[:, None]
    fitted = LogisticRegression(C=1e6, max_iter=1000).fit(z, y)
    return {
        "scale": round(float(fitted.coef_[0, 0]), 4),
        "bias": round(float(fitted.intercept_[0]), 4),
    }


def add_to_text_model(
    text_dir: Path,
    train_rows: list[dict],
    dev_rows: list[dict],
    labels: tuple[str, ...] = LABELS,
    seed: int = 0,
) -> dict:
    """Fit the n-gram model for `labels`, weigh each label on dev, export one graph of
    the labels worth blending and name them in text_dir's heads.json. Returns the figures
    for the card."""
    from model.classifier import MultiHeadClassifier

    heads_path = text_dir / "heads.json"
    heads = json.loads(heads_path.read_text())
    moderation = next(h for h in heads if h["task"] == "moderation")
    for old in moderation.pop("blend", []):  # choose against the head alone
        (text_dir / old["onnx_file"]).unlink(missing_ok=True)
    heads_path.write_text(json.dumps(heads, indent=1) + "\n")

    fittable = [lab for lab in labels if len(set(labelled(train_rows, lab)[1].tolist())) == 2]
    report: dict = {"onnx_file": ONNX_FILE, "train_examples": len(train_rows), "labels": {}}
    if not fittable:
        return report
    pipeline = fit(train_rows, fittable, seed)
    texts = [r["a"] for r in dev_rows]
    head_model = MultiHeadClassifier(text_dir).load()
    normalised = [normalize_for_moderation(t) for t in texts]
    head_p = head_model.predict(normalised, for_task="moderation")["moderation"]
    ngram_p = probabilities(pipeline, texts)
    for label in fittable:
        known, y = labelled(dev_rows, label)
        head = head_p[known, list(ATTRIBUTES).index(label)]
        ngram = ngram_p[known, fittable.index(label)]
        by = "f1" if label in BY_F1 else "roc_auc"
        if min(np.bincount(y, minlength=2)) < FOLDS:  # a smoke run's dev split cannot choose
            report["labels"][label] = {"weight": 0.0, "note": f"< {FOLDS} dev rows of a class"}
            continue
        chosen = choose_weight(y, head, ngram, by, seed)
        if chosen["weight"] > 0 and by == "roc_auc":  # spam's cut was chosen on the raw blend
            chosen.update(platt_scaling(y, blend_logits(head, ngram, chosen["weight"])))
        report["labels"][label] = chosen
    blended = [lab for lab in fittable if report["labels"][lab]["weight"] > 0]
    if blended:
        export(keep_labels(pipeline, fittable, blended), blended, text_dir / ONNX_FILE)
        report["sha256"] = file_sha256(text_dir / ONNX_FILE)[:16]
        moderation["blend"] = [
            {
                "label": lab,
                "onnx_file": ONNX_FILE,
                **{
                    k: report["labels"][lab][k]
                    for k in ("weight", "scale", "bias")
                    if k in report["labels"][lab]
                },
            }
            for lab in blended
        ]
        heads_path.write_text(json.dumps(heads, indent=1) + "\n")
    return report
