"""A character and word n-gram logistic regression for one moderation attribute, blended
into the text model's head (training/ngram.py fits and exports it; heads.json names it).

Spam is written in recognisable strings ("check out my channel", "subscribe", "http",
"free ipad") that n-grams catch from the few thousand spam examples better than the
fine-tuned head, which learned mostly from abuse (data/cards/moderation.md).

The graph reads one string per text: the text as the moderation head reads it (after
model/normalize.py), lower-cased and cut into word tokens here, joined by spaces. Both are
done here rather than in the graph because skl2onnx's lower-casing node needs an
en_US.UTF-8 locale that minimal machines lack, and its word tokeniser differs from
scikit-learn's; splitting on spaces alone is the same in both, so training (scikit-learn)
and serving (onnxruntime) see the same n-grams (tests/test_ngram.py compares them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model.runtime import cpu_session

# scikit-learn's default word pattern: runs of two or more word characters
_WORDS = re.compile(r"(?u)\b\w\w+\b")


def ngram_text(text: str) -> str:
    """What the n-gram graph reads: lower-case word tokens joined by single spaces."""
    return " ".join(_WORDS.findall(text.lower()))


def blend_logits(head: np.ndarray, ngram: np.ndarray, weight: float) -> np.ndarray:
    """sigmoid((1 - w) * logit(head) + w * logit(ngram)): both are probabilities of the
    same attribute; averaging log-odds lets a confident model outvote an unsure one."""
    head = np.clip(head.astype(np.float64), 1e-6, 1 - 1e-6)
    ngram = np.clip(ngram.astype(np.float64), 1e-6, 1 - 1e-6)
    z = (1 - weight) * np.log(head / (1 - head)) + weight * np.log(ngram / (1 - ngram))
    return (1 / (1 + np.exp(-z))).astype(np.float32)


@dataclass(frozen=True)
class NgramBlend:
    """One heads.json `blend` entry: which label of the head, which graph, what weight."""

    label: str
    onnx_file: str
    weight: float


class NgramModel:
    """Texts -> (n,) probability of the attribute. Rows are independent (no quantisation),
    so a whole batch runs in one pass."""

    def __init__(self, path: str | Path, threads: int | None = None) -> None:
        self.path = Path(path)
        self.threads = threads

    def load(self) -> NgramModel:
        self.session_ = cpu_session(self.path, self.threads)
        self.input_ = self.session_.get_inputs()[0].name
        outputs = [o.name for o in self.session_.get_outputs()]
        if "probabilities" not in outputs:
            raise ValueError(f"{self.path}: graph has no 'probabilities' output")
        return self

    def predict(self, texts: list[str]) -> np.ndarray:
        if not hasattr(self, "session_"):
            raise RuntimeError(f"{self.path}: predict called before load()")
        if not texts:
            return np.zeros(0, dtype=np.float32)
        feed = np.array([[ngram_text(t)] for t in texts], dtype=object)
        (probabilities,) = self.session_.run(["probabilities"], {self.input_: feed})
        return probabilities[:, 1].astype(np.float32)
