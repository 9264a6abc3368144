"""Each head's ONNX graph computes what the fitted scikit-learn model computes."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("sklearn", reason="needs the train extra")

from model.heads import Head  # noqa: E402
from training.heads import LinearHead  # noqa: E402


@pytest.mark.parametrize(
    "multilabel,labels",
    [(True, ["a", "b", "c"]), (False, ["x", "y"]), (False, ["p", "q", "r", "s"])],
)
def test_onnx_head_matches_fitted_model(tmp_path, multilabel: bool, labels: list[str]) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 16)) * rng.uniform(0.1, 5, size=16) + rng.normal(size=16)
    if multilabel:
        y = (X[:, : len(labels)] + rng.normal(size=(300, len(labels))) > 0).astype(float)
        y[::7, 1] = np.nan  # a label some rows do not know
    else:
        y = np.argmax(X[:, : len(labels)], axis=1)
    fitted = LinearHead(labels, multilabel=multilabel).fit(X, y)
    fitted.save(tmp_path / "head.onnx")
    head = Head(tmp_path / "head.onnx", labels).load()
    Xt = rng.normal(size=(50, 16)).astype(np.float32)
    np.testing.assert_allclose(head.predict_proba(Xt), fitted.predict_proba(Xt), atol=1e-5)
    if not multilabel:
        # the folded weights reproduce scikit-learn's own probabilities
        from sklearn.linear_model import LogisticRegression

        scaled = fitted.scaler_.transform(X)
        sk = LogisticRegression(C=fitted.C, max_iter=fitted.max_iter, random_state=0).fit(scaled, y)
        np.testing.assert_allclose(
            head.predict_proba(Xt), sk.predict_proba(fitted.scaler_.transform(Xt)), atol=1e-4
        )


def test_head_refuses_wrong_width_and_use_before_load(tmp_path) -> None:
    fitted = LinearHead(["a", "b"]).fit(
        np.random.default_rng(1).normal(size=(40, 4)), np.array([0, 1] * 20)
    )
    fitted.save(tmp_path / "h.onnx")
    head = Head(tmp_path / "h.onnx", ["a", "b"])
    with pytest.raises(RuntimeError):
        head.predict_proba(np.zeros((1, 4), dtype=np.float32))
    with pytest.raises(ValueError, match="expects"):
        head.load().predict_proba(np.zeros((1, 5), dtype=np.float32))
