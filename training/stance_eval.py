"""The stance model's test figures: its real test split per source
(training.data.stance.load_stance_test: ARC's held-out claim clusters, Perspectrum's
upstream test claims) and FNC-1's dev pairs with full bodies at the data's own class mix,
each read as the pipeline reads a comment (the comment beside its article context,
model/stance.py).

    rebut eval stance        # dev figures, then these under "test"
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from model.classifier import MultiHeadClassifier
from model.result import STANCE_LABELS
from training.data.examples import StanceExample
from training.data.stance import load_fnc1_dev_uncapped, load_stance_test
from training.embedding_cache import CachingEncoder
from training.evaluate import fnc_score, multiclass_metrics
from training.featurizer import Featurizer


def stance_probabilities(
    model: MultiHeadClassifier, featurizer: Featurizer, examples: list[StanceExample]
) -> np.ndarray:
    pairs = featurizer.stance_pairs(examples)
    if not pairs:
        return np.zeros((0, len(STANCE_LABELS)), dtype=np.float32)
    return model.predict([a for a, _ in pairs], [b for _, b in pairs], for_task="stance")["stance"]


def figures(examples: list[StanceExample], probabilities: np.ndarray) -> dict:
    """Macro-F1 over the labels the rows hold, accuracy, F1 per label, the FNC-1 weighted
    score where the rows have `unrelated`, and the confusion matrix."""
    y = np.array([STANCE_LABELS.index(e.label) for e in examples])
    out = multiclass_metrics(y, probabilities, list(STANCE_LABELS), [e.source for e in examples])
    source = out.pop("per_source")
    out = {**next(iter(source.values())), "confusion_matrix": out["confusion_matrix"]}
    gold = [e.label for e in examples]
    if "unrelated" in gold:
        pred = [STANCE_LABELS[int(k)] for k in probabilities.argmax(axis=1)]
        out["fnc_weighted_score"] = fnc_score(gold, pred)
    return out


def evaluate(
    model_dir: Path, folder: str, data_dir: Path | None, cache_dir: Path, limit: int | None = None
) -> dict:
    """Test figures of the stance head in `model_dir/folder`, per source."""
    model = MultiHeadClassifier(model_dir / folder).load()
    encoder = CachingEncoder.for_model(model_dir / "encoder", cache_dir)
    featurizer = Featurizer(encoder)
    try:
        sets = {**load_stance_test(data_dir), "fnc1_dev": load_fnc1_dev_uncapped(data_dir)}
        out = {}
        for name, examples in sets.items():
            examples = examples[:limit]
            out[name] = figures(examples, stance_probabilities(model, featurizer, examples))
        return out
    finally:
        encoder.save()
