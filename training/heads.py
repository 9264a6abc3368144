"""Fit classifier heads on encoder features and write them as ONNX for model/heads.py.

A head is scikit-learn's LogisticRegression behind a StandardScaler. Both are affine, so
the fitted pair folds into one weight matrix and bias, written as a three-node ONNX graph
(MatMul, Add, Sigmoid or Softmax) that model.heads.Head runs.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler


@dataclass
class LinearHead:
    """Logistic-regression head(s) over one feature matrix.

    multilabel: one binary regression per label, each fitted only on rows whose label is
    known (NaN = the source says nothing about it); otherwise one multinomial regression.
    """

    labels: list[str]
    multilabel: bool = False
    C: float = 1.0
    class_weight: str | None = None
    max_iter: int = 2000
    random_state: int = 0

    def fit(self, X: np.ndarray, y: np.ndarray) -> LinearHead:
        """X: (n, f). y: (n, k) of 0/1/NaN when multilabel, else (n,) class indexes."""
        self.scaler_ = StandardScaler().fit(X)
        Xs = self.scaler_.transform(X)
        if self.multilabel:
            weights, biases = [], []
            for k in range(len(self.labels)):
                known = ~np.isnan(y[:, k])
                yk = y[known, k].astype(int)
                if len(np.unique(yk)) < 2:
                    # a label the (small) data never shows both ways: predict its base rate
                    rate = float(np.clip(yk.mean() if len(yk) else 0.0, 0.01, 0.99))
                    weights.append(np.zeros(X.shape[1]))
                    biases.append(np.log(rate / (1 - rate)))
                    continue
                model = self._regression().fit(Xs[known], yk)
                weights.append(model.coef_[0])
                biases.append(model.intercept_[0])
            coef, intercept = np.array(weights), np.array(biases)
        else:
            missing = set(range(len(self.labels))) - set(np.unique(y).tolist())
            if missing:
                raise ValueError(
                    f"no training example of {[self.labels[i] for i in sorted(missing)]}; "
                    "every class needs at least one"
                )
            model = self._regression().fit(Xs, y)
            coef, intercept = model.coef_, model.intercept_
            if len(self.labels) == 2:  # sklearn keeps one row for two classes; softmax wants two
                coef = np.vstack([np.zeros_like(coef[0]), coef[0]])
                intercept = np.array([0.0, intercept[0]])
        # fold the scaler in: w·(x - mean)/scale + b = (w/scale)·x + (b - w·mean/scale)
        scale = self.scaler_.scale_
        self.weight_ = (coef / scale).T.astype(np.float32)  # (f, k)
        self.bias_ = (intercept - (coef / scale) @ self.scaler_.mean_).astype(np.float32)
        return self

    def _regression(self) -> LogisticRegression:
        return LogisticRegression(
            C=self.C,
            class_weight=self.class_weight,
            max_iter=self.max_iter,
            random_state=self.random_state,
        )

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        logits = X.astype(np.float32) @ self.weight_ + self.bias_
        if self.multilabel:
            return 1.0 / (1.0 + np.exp(-logits))
        logits -= logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        return e / e.sum(axis=1, keepdims=True)

    def to_onnx(self) -> onnx.ModelProto:
        n_features, n_labels = self.weight_.shape
        graph = helper.make_graph(
            [
                helper.make_node("MatMul", ["features", "weight"], ["logits_raw"]),
                helper.make_node("Add", ["logits_raw", "bias"], ["logits"]),
                helper.make_node("Sigmoid", ["logits"], ["probabilities"])
                if self.multilabel
                else helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1),
            ],
            "head",
            [helper.make_tensor_value_info("features", TensorProto.FLOAT, [None, n_features])],
            [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, n_labels])],
            initializer=[
                numpy_helper.from_array(self.weight_, "weight"),
                numpy_helper.from_array(self.bias_, "bias"),
            ],
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        model.ir_version = 8  # readable by onnxruntime releases from 1.14 on
        onnx.checker.check_model(model)
        return model

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        onnx.save(self.to_onnx(), str(path))


class OnnxHeadFile:
    """A head already exported by an earlier run, kept as it is by `rebut train --only`
    when the run starts from a model folder: it has labels and saves by copying."""

    def __init__(self, path: Path, labels: list[str]) -> None:
        self.path = Path(path)
        self.labels = list(labels)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.resolve() != path.resolve():
            shutil.copyfile(self.path, path)
