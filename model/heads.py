"""A classifier head: an ONNX graph from feature vectors to class probabilities.

Every head takes `features` (n, n_features) float32 and returns `probabilities`
(n, len(labels)): independent sigmoids for a multi-label head (moderation), a softmax
for a multi-class one. training/heads.py writes them; this file only runs them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from model.runtime import cpu_session


class Head:
    """Args:
    path: the head's .onnx file.
    labels: names of the output columns, in order (from pipeline.json).
    """

    def __init__(self, path: str | Path, labels: list[str], threads: int | None = None) -> None:
        self.path = Path(path)
        self.labels = list(labels)
        self.threads = threads

    def load(self) -> Head:
        self.session_ = cpu_session(self.path, self.threads)
        self.n_features_ = int(self.session_.get_inputs()[0].shape[1])
        return self

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        if not hasattr(self, "session_"):
            raise RuntimeError(f"Head {self.path.name}: predict_proba called before load()")
        features = np.asarray(features, dtype=np.float32)
        if features.ndim != 2 or features.shape[1] != self.n_features_:
            raise ValueError(
                f"Head {self.path.name} expects (n, {self.n_features_}) features, "
                f"got {features.shape}"
            )
        if len(features) == 0:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        return self.session_.run(["probabilities"], {"features": features})[0]
