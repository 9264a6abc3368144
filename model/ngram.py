"""Character and word n-gram logistic regressions for some moderation attributes, blended
into the text model's head (training/ngram.py fits and exports it; heads.json names it).

Spam is written in recognisable strings ("check out my channel", "subscribe", "http",
"free ipad") that n-grams catch from the few thousand spam examples better than the
fine-tuned head, which learned mostly from abuse; threats and identity attacks are rare in
the training data and often turn on a few words, which n-grams rank better too
(data/cards/moderation.md).

The graph reads one string per text: the text as the moderation head reads it (after
model/normalize.py), lower-cased and cut into word tokens here, joined by spaces. Both are
done here rather than in the graph because skl2onnx's lower-casing node needs an
en_US.UTF-8 locale that minimal machines lack, and its word tokeniser differs from
scikit-learn's; splitting on spaces alone is the same in both, so training (scikit-learn)
and serving (onnxruntime) see the same n-grams (tests/test_ngram.py compares them).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model.runtime import cpu_session

# scikit-learn's default word pattern: runs of two or more word characters
_WORDS = re.compile(r"(?u)\b\w\w+\b")
# Texts per run of the graph (see NgramModel.predict)
ROWS_PER_RUN = 16


def ngram_text(text: str) -> str:
    """What the n-gram graph reads: lower-case word tokens joined by single spaces."""
    return " ".join(_WORDS.findall(text.lower()))


def blend_logits(
    head: np.ndarray, ngram: np.ndarray, weight: float, scale: float = 1.0, bias: float = 0.0
) -> np.ndarray:
    """sigmoid(scale * ((1 - w) * logit(head) + w * logit(ngram)) + bias): both are
    probabilities of the same attribute; averaging log-odds lets a confident model outvote
    an unsure one. scale and bias (Platt scaling, fitted on dev after the blend) put the
    blend back on the head's scale: for a rare attribute the n-gram model's probabilities
    are small, and the raw blend would fall under every flag threshold."""
    head = np.clip(head.astype(np.float64), 1e-6, 1 - 1e-6)
    ngram = np.clip(ngram.astype(np.float64), 1e-6, 1 - 1e-6)
    z = (1 - weight) * np.log(head / (1 - head)) + weight * np.log(ngram / (1 - ngram))
    return (1 / (1 + np.exp(-(scale * z + bias)))).astype(np.float32)


@dataclass(frozen=True)
class NgramBlend:
    """One heads.json `blend` entry: which label of the head, which graph, what weight, and
    the Platt scaling after the blend (none for spam, whose cut was chosen on the raw blend)."""

    label: str
    onnx_file: str
    weight: float
    scale: float = 1.0
    bias: float = 0.0


class NgramModel:
    """Texts -> (n, labels) probabilities, one column per attribute the graph was fitted
    for. Rows are independent (no quantisation), so a whole batch runs in one pass.

    A graph names its attributes in its metadata (`labels`, a JSON list): several share
    one TF-IDF pass. A graph without that name (model 0.5.2 to 0.5.4's `ngram_spam.onnx`)
    has one column, for whichever label heads.json blends it into.
    """

    def __init__(self, path: str | Path, threads: int | None = None) -> None:
        self.path = Path(path)
        self.threads = threads

    def load(self) -> NgramModel:
        self.session_ = cpu_session(self.path, self.threads)
        self.input_ = self.session_.get_inputs()[0].name
        outputs = [o.name for o in self.session_.get_outputs()]
        if "probabilities" not in outputs:
            raise ValueError(f"{self.path}: graph has no 'probabilities' output")
        named = self.session_.get_modelmeta().custom_metadata_map.get("labels")
        self.labels_: list[str] | None = json.loads(named) if named else None
        return self

    def column(self, label: str) -> int:
        """Which column of `predict` holds `label`."""
        if self.labels_ is None:
            return 0
        if label not in self.labels_:
            raise ValueError(f"{self.path}: graph has no label {label!r} (has {self.labels_})")
        return self.labels_.index(label)

    def predict(self, texts: list[str]) -> np.ndarray:
        if not hasattr(self, "session_"):
            raise RuntimeError(f"{self.path}: predict called before load()")
        width = len(self.labels_) if self.labels_ else 1
        if not texts:
            return np.zeros((0, width), dtype=np.float32)
        # the graph's TF-IDF output is dense (rows x vocabulary, ~0.4 MB a row), and
        # onnxruntime keeps the largest buffer it ever allocated: chunks bound both
        return np.concatenate(
            [
                self._predict_chunk(texts[at : at + ROWS_PER_RUN])
                for at in range(0, len(texts), ROWS_PER_RUN)
            ]
        )

    def _predict_chunk(self, texts: list[str]) -> np.ndarray:
        feed = np.array([[ngram_text(t)] for t in texts], dtype=object)
        (probabilities,) = self.session_.run(["probabilities"], {self.input_: feed})
        # one label: an (n, 2) tensor; several: a sequence of them (skl2onnx's
        # MultiOutputClassifier), each the probabilities of not / is
        per_label = probabilities if isinstance(probabilities, list) else [probabilities]
        return np.stack([p[:, 1] for p in per_label], axis=1).astype(np.float32)
