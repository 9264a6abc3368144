"""Dev-split metrics, and `rebut eval`: recompute them from a model folder's ONNX files.

    rebut eval all --model-dir model/artifacts
    rebut eval grounding

Metrics come from scikit-learn; only the FNC-1 weighted score (the competition's own
formula) is written here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_curve,
    roc_auc_score,
)

if TYPE_CHECKING:
    from model.classifier import MultiHeadClassifier
    from training.data.examples import StanceExample
    from training.featurizer import Featurizer


def best_f1_threshold(y: np.ndarray, p: np.ndarray, low: float = 0.2, high: float = 0.9) -> float:
    """The probability cut with the best F1 on dev, kept inside [low, high]."""
    if len(set(y.tolist())) < 2:
        return 0.5
    precision, recall, cuts = precision_recall_curve(y, p)
    f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-9)
    best = float(cuts[int(np.argmax(f1[:-1]))])
    return float(min(max(best, low), high))


def f1_at(y: np.ndarray, p: np.ndarray, cut: float) -> float:
    return float(f1_score(y, p >= cut, zero_division=0))


# flag-accuracy differences this small (of some 6,000 dev comments) are noise
FLAG_TIE_COMMENTS = 2


def pick_flag_thresholds(
    y: np.ndarray, p: np.ndarray, names: list[str], grid: np.ndarray | None = None
) -> dict[str, float]:
    """Per-attribute thresholds for `flagged` (any attribute at or over its threshold),
    chosen by coordinate ascent on dev accuracy against "any known label is positive".

    Thresholds picked one attribute at a time (best F1 each) flag far too much: every
    attribute's false positives add up. Tuning them jointly on the flag itself does not.
    Among cuts the flag scores equally (a rare attribute such as threat seldom decides
    `flagged`: toxicity mostly flags the same comments), the attribute's own F1 on the
    rows that label it decides, rather than the lowest cut of the grid. Cuts within
    FLAG_TIE_COMMENTS correct comments of the best count as equal: in 0.5.8 the exact
    count put threat's cut at 0.85 for one dev comment (threat F1 0.13 on 14 positives,
    0.59 at 0.25 for two comments), and the reasons a moderator reads come from each
    attribute's own cut. The grid starts at 0.2: spam's blended probability sits low, and
    its cut had sat on the old floor, 0.3, since 0.5.5.
    """
    grid = np.round(np.arange(0.2, 0.96, 0.05), 2) if grid is None else grid
    known = ~np.isnan(y).all(axis=1)
    target = (np.nan_to_num(y[known]) > 0).any(axis=1)
    probs = p[known]
    cut = np.full(len(names), 0.5)

    def correct(c: np.ndarray) -> int:  # a count, so that ties are exact
        return int(((probs >= c).any(axis=1) == target).sum())

    def own_f1(k: int, t: float) -> float:
        labelled = ~np.isnan(y[:, k])
        if not labelled.any():  # sexually_explicit: no source labels it
            return 0.0
        return float(f1_score(y[labelled, k] >= 0.5, p[labelled, k] >= t, zero_division=0))

    # an attribute's own F1 at a cut does not depend on the other cuts: computed once
    f1_at = [[own_f1(k, t) for t in grid] for k in range(len(names))]
    for _ in range(3):
        for k in range(len(names)):
            counts = []
            for t in grid:
                trial = cut.copy()
                trial[k] = t
                counts.append(correct(trial))
            near_best = [i for i, n in enumerate(counts) if n >= max(counts) - FLAG_TIE_COMMENTS]
            cut[k] = grid[max(near_best, key=lambda i: (f1_at[k][i], counts[i]))]
    return {name: float(cut[k]) for k, name in enumerate(names)}


def moderation_metrics(
    sources: list[str], y: np.ndarray, p: np.ndarray, names: list[str], thresholds: dict[str, float]
) -> dict:
    per_attribute = {}
    for k, name in enumerate(names):
        known = ~np.isnan(y[:, k])
        yk = y[known, k].astype(int)
        if len(set(yk.tolist())) < 2:
            continue
        pk = p[known, k]
        per_attribute[name] = {
            "roc_auc": round(float(roc_auc_score(yk, pk)), 4),
            "f1": round(float(f1_score(yk, pk >= thresholds[name])), 4),
            "positives": int(yk.sum()),
            "n": int(known.sum()),
        }
    jigsaw = ["toxicity", "severe_toxicity", "insult", "threat", "identity_attack", "profanity"]
    on_jigsaw = np.array([s == "jigsaw" for s in sources])
    flagged = (p >= np.array([thresholds[n] for n in names])).any(axis=1)
    metrics: dict = {"per_attribute": per_attribute}
    if on_jigsaw.any():
        cols = [names.index(n) for n in jigsaw]
        yj = y[on_jigsaw][:, cols]
        any_label = (np.nan_to_num(yj) > 0).any(axis=1)
        aucs = [
            roc_auc_score(yj[:, i].astype(int), p[on_jigsaw][:, c])
            for i, c in enumerate(cols)
            if len(set(yj[:, i].tolist())) == 2
        ]
        metrics["jigsaw_mean_roc_auc"] = round(float(np.mean(aucs)), 4)
        metrics["jigsaw_flagged_accuracy"] = round(
            float(accuracy_score(any_label, flagged[on_jigsaw])), 4
        )
    if "spam" in per_attribute:
        metrics["spam_f1"] = per_attribute["spam"]["f1"]
    # how often each source is flagged: near 1 for the toxic-only Civil Comments spans,
    # near 0 for a newspaper's published reader comments, whatever their labels leave open
    src = np.array(sources)
    metrics["flagged_by_source"] = {
        s: {"rate": round(float(flagged[src == s].mean()), 4), "n": int((src == s).sum())}
        for s in sorted(set(sources))
    }
    return metrics


def binary_metrics(y: np.ndarray, p: np.ndarray, threshold: float, sources: list[str]) -> dict:
    pred = p >= threshold
    src = np.array(sources)
    return {
        "f1": round(float(f1_score(y, pred)), 4),
        "accuracy": round(float(accuracy_score(y, pred)), 4),
        "roc_auc": round(float(roc_auc_score(y, p)), 4),
        "threshold": round(threshold, 4),
        # accuracy too: a source of one label (rebut_opinions: all 0) has no F1 to speak of
        "per_source": {
            s: {
                "f1": round(float(f1_score(y[src == s], pred[src == s], zero_division=0)), 4),
                "accuracy": round(float(accuracy_score(y[src == s], pred[src == s])), 4),
                "n": int((src == s).sum()),
            }
            for s in sorted(set(sources))
        },
    }


def multiclass_metrics(y: np.ndarray, p: np.ndarray, labels: list[str], sources: list[str]) -> dict:
    pred = p.argmax(axis=1)
    src = np.array(sources)
    idx = list(range(len(labels)))

    def block(mask: np.ndarray, among: list[int]) -> dict:
        f1 = f1_score(y[mask], pred[mask], labels=among, average=None, zero_division=0)
        return {
            "macro_f1": round(float(np.mean(f1)), 4),
            "accuracy": round(float(accuracy_score(y[mask], pred[mask])), 4),
            "per_label_f1": {labels[k]: round(float(v), 4) for k, v in zip(among, f1)},
            "n": int(mask.sum()),
        }

    out = block(np.ones(len(y), dtype=bool), idx)
    out["confusion_matrix"] = {
        "labels": labels,
        "rows_true_cols_pred": confusion_matrix(y, pred, labels=idx).tolist(),
    }
    # a source is scored on the labels it has: Perspectrum has no `unrelated`, a synthetic
    # grounding source one label, and an F1 of 0 for a label it cannot hold says nothing
    out["per_source"] = {
        s: block(src == s, sorted({int(v) for v in y[src == s]})) for s in sorted(set(sources))
    }
    return out


def supported_vs_not(y: np.ndarray, p: np.ndarray) -> float:
    """Balanced accuracy of 'supported' against the other two labels (index 0 = supported)."""
    return round(float(balanced_accuracy_score(y == 0, p.argmax(axis=1) == 0)), 4)


def fnc_score(gold: list[str], pred: list[str]) -> float:
    """FNC-1's weighted score as a percentage of the best possible: 0.25 for telling related
    from unrelated, a further 0.75 for the right label of a related pair."""
    if not gold:
        return 0.0

    def score(g: str, q: str) -> float:
        s = 0.25 if (g == "unrelated") == (q == "unrelated") else 0.0
        if g != "unrelated" and g == q:
            s += 0.75
        return s

    best = sum(score(g, g) for g in gold)
    return round(100 * sum(score(g, q) for g, q in zip(gold, pred)) / best, 2)


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 15) -> float:
    """ECE of the top-class probability over equal-width confidence bins (Guo et al. 2017):
    how far stated confidence is from observed accuracy, weighted by bin size."""
    confidence = p.max(axis=1)
    correct = p.argmax(axis=1) == y
    edges = np.linspace(0.0, 1.0, bins + 1)
    ece = 0.0
    for low, high in zip(edges[:-1], edges[1:]):
        in_bin = (confidence > low) & (confidence <= high)
        if in_bin.any():
            ece += in_bin.mean() * abs(correct[in_bin].mean() - confidence[in_bin].mean())
    return round(float(ece), 4)


def headline(metrics: dict) -> dict:
    """The scalar figures of a metrics block, for a one-line log."""
    return {k: v for k, v in metrics.items() if isinstance(v, int | float)}


TASKS = ("moderation", "checkworthy", "grounding", "stance")
MODEL_OF = {"moderation": "text", "checkworthy": "text", "grounding": "pair", "stance": "pair"}


def moderation_targets(rows: list[dict]) -> np.ndarray:
    """(n, attributes) with NaN where a source says nothing about an attribute."""
    return np.array(
        [[np.nan if v is None else v for v in r["y"]] for r in rows], dtype=np.float64
    ).reshape(len(rows), -1)


def predict_task(
    model_dir: Path,
    task: str,
    rows: list[dict],
    onnx_file: str = "model.onnx",
    folder: str | None = None,
) -> np.ndarray:
    """A task's probabilities on task_inputs rows, from the model folder's ONNX files,
    reading each row as the pipeline reads a comment (moderation: normalised text)."""
    from model.classifier import MultiHeadClassifier
    from model.normalize import normalize_for_moderation

    folder = folder or MODEL_OF[task]
    model = MultiHeadClassifier(model_dir / folder, onnx_file=onnx_file).load()
    if task == "moderation":
        texts = [normalize_for_moderation(r["a"]) for r in rows]
    else:
        texts = [r["a"] for r in rows]
    pairs = [r["b"] for r in rows] if task in ("grounding", "stance") else None
    return model.predict(texts, pairs, for_task=task)[task]


def task_metrics(task: str, rows: list[dict], probabilities: np.ndarray, thresholds: dict) -> dict:
    """The dev figures of one task from its probabilities on the dev rows; used by
    `rebut train` and by `rebut eval` on the exported files, so they agree."""
    from model.result import ATTRIBUTES, GROUNDING_LABELS, STANCE_LABELS

    sources = [r["source"] for r in rows]
    if task == "moderation":
        y = moderation_targets(rows)
        return moderation_metrics(
            sources, y, probabilities, list(ATTRIBUTES), thresholds["moderation"]["flag"]
        )
    y = np.array([r["y"] for r in rows])
    if task == "checkworthy":
        out = binary_metrics(y, probabilities[:, 1], thresholds["checkworthy"], sources)
        out["calibration_ece"] = expected_calibration_error(y, probabilities)
        return out
    labels = list(GROUNDING_LABELS if task == "grounding" else STANCE_LABELS)
    out = multiclass_metrics(y, probabilities, labels, sources)
    out["calibration_ece"] = expected_calibration_error(y, probabilities)
    if task == "grounding":
        out["supported_vs_not_balanced_accuracy"] = supported_vs_not(y, probabilities)
    else:
        fnc = [i for i, s in enumerate(sources) if s == "fnc1"]
        out["fnc1_weighted_score"] = fnc_score(
            [labels[y[i]] for i in fnc], [labels[int(probabilities[i].argmax())] for i in fnc]
        )
    return out


def evaluate_model_dir(
    model_dir: Path, task: str, data_dir: Path | None = None, cache_dir: Path = Path("cache")
) -> dict:
    """Recompute a task's dev metrics from the ONNX files in model_dir: the dev rows are
    rebuilt from the shared data with model_dir's encoder, as `rebut train` built them."""
    from training.embedding_cache import CachingEncoder
    from training.featurizer import Featurizer
    from training.task_inputs import task_rows

    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; choose one of {', '.join(TASKS)}")
    config = json.loads((model_dir / "pipeline.json").read_text())
    encoder = CachingEncoder.for_model(model_dir / "encoder", cache_dir)
    featurizer = Featurizer(encoder)  # its article indexes serve the FNC-1 figure too
    try:
        rows = list(task_rows(task, featurizer, data_dir, splits=("dev",)))
    finally:
        encoder.save()
    folder = config.get("tasks", {}).get(task, MODEL_OF[task])
    probabilities = predict_task(model_dir, task, rows, folder=folder)
    metrics = task_metrics(task, rows, probabilities, config["thresholds"])
    if task == "moderation":
        metrics.update(robustness_metrics(model_dir / folder, config["thresholds"], rows))
    if task == "stance":
        try:
            metrics.update(stance_probe_metrics(model_dir / folder, featurizer, data_dir))
        finally:
            encoder.save()
    return metrics


def stance_probe_metrics(
    stance_dir: Path, featurizer: Featurizer, data_dir: Path | None = None, limit: int | None = None
) -> dict:
    """The stance figures beyond the dev split's, for `rebut eval stance` and `rebut train`
    alike: FNC-1 at its own class mix, and whether the head reads the claim and the report.
    The stance model is loaded once for the three."""
    from model.classifier import MultiHeadClassifier

    model = MultiHeadClassifier(stance_dir).load()
    return {
        "fnc1_uncapped": fnc1_uncapped_metrics(model, featurizer, data_dir, limit),
        "negated_claims": negated_claim_metrics(model, featurizer, data_dir, limit),
        "turned_reports": turned_report_metrics(model, featurizer, data_dir, limit),
    }


def stance_labels(
    model: MultiHeadClassifier, featurizer: Featurizer, examples: list[StanceExample]
) -> list[str]:
    """The stance head's label for each example, read as the pipeline reads a comment
    (the comment beside featurizer.stance_pairs' article context)."""
    from model.result import STANCE_LABELS

    pairs = featurizer.stance_pairs(examples)
    p = model.predict([a for a, _ in pairs], [b for _, b in pairs], for_task="stance")["stance"]
    return [STANCE_LABELS[int(row.argmax())] for row in p]


def fnc1_uncapped_metrics(
    model: MultiHeadClassifier,
    featurizer: Featurizer,
    data_dir: Path | None = None,
    limit: int | None = None,
) -> dict:
    """The FNC-1 weighted score and macro-F1 on FNC-1's dev pairs at the data's own class
    mix (training.data.stance.load_fnc1_dev_uncapped)."""
    from training.data.stance import load_fnc1_dev_uncapped

    examples = load_fnc1_dev_uncapped(data_dir)[:limit]
    gold = [e.label for e in examples]
    pred = stance_labels(model, featurizer, examples)
    return {
        "pairs": len(examples),
        "unrelated_share": round(gold.count("unrelated") / max(len(gold), 1), 4),
        "weighted_score": fnc_score(gold, pred),
        "macro_f1": round(float(f1_score(gold, pred, average="macro")), 4),
    }


def negated_claim_metrics(
    model: MultiHeadClassifier,
    featurizer: Featurizer,
    data_dir: Path | None = None,
    limit: int | None = None,
) -> dict:
    """Does the stance head read the claim? ARC's and Perspectrum's agreeing and disputing
    dev comments against their claim negated, where gold is the opposite label
    (training.data.stance_synthetic.negated_claims): `accuracy` on those, and
    `same_label`, the share of comments whose predicted label did not change when the
    claim's polarity did."""
    from training.data.stance import load_stance
    from training.data.stance_synthetic import negated_claims

    dev = [e for e in load_stance(data_dir)[1] if e.source in ("arc", "perspectrum")]
    both = [(e, negated) for e in dev for negated in negated_claims([e])][:limit]
    if not both:
        return {"pairs": 0}
    original, negated = (stance_labels(model, featurizer, list(side)) for side in zip(*both))
    gold = [e.label for _, e in both]
    return {
        "pairs": len(both),
        "accuracy": round(float(np.mean([g == q for g, q in zip(gold, negated)])), 4),
        "same_label": round(float(np.mean([a == b for a, b in zip(original, negated)])), 4),
    }


def turned_report_metrics(
    model: MultiHeadClassifier,
    featurizer: Featurizer,
    data_dir: Path | None = None,
    limit: int | None = None,
) -> dict:
    """Does the stance head read the report? FNC-1 dev bodies with one sentence turned
    (training.data.stance_synthetic.turned_reports): a statement and its negation, each
    under the report and under the report saying the opposite. `accuracy` over the rows
    (judging the comment alone gets half), `same_label`, the share of statements whose
    predicted label did not change when only the report turned, and `right_*`, the
    accuracy on each of the four rows."""
    from training.data.stance_synthetic import turned_reports

    rows = turned_reports(data_dir, dev=True, limit=limit)
    if not rows:
        return {"pairs": 0}
    predicted = stance_labels(model, featurizer, rows)
    right = [e.label == q for e, q in zip(rows, predicted)]
    # rows come in fours: (S, B), (S, B'), (not-S, B), (not-S, B')
    under_report, under_turned = predicted[0::2], predicted[1::2]
    kinds = (
        "said_under_report",
        "said_under_turned",
        "negated_under_report",
        "negated_under_turned",
    )
    return {
        "pairs": len(rows),
        "accuracy": round(float(np.mean(right)), 4),
        "same_label": round(
            float(np.mean([a == b for a, b in zip(under_report, under_turned)])), 4
        ),
        **{f"right_{kind}": round(float(np.mean(right[k::4])), 4) for k, kind in enumerate(kinds)},
    }


def robustness_metrics(text_dir: Path, thresholds: dict, dev_rows: list[dict]) -> dict:
    """Identity-template false positives per group, and obfuscated abuse (robustness.py)."""
    from training.robustness import identity_false_positive_rates, obfuscation_ratio

    flag = thresholds["moderation"]["flag"]
    identity = identity_false_positive_rates(text_dir, flag)
    return {
        "identity_false_positive_rate": {g: v["false_positive_rate"] for g, v in identity.items()},
        "obfuscation": obfuscation_ratio(text_dir, flag, dev_rows),
    }
