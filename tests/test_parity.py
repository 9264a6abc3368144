"""The exported encoder computes what the PyTorch model computes, on real sentences."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="needs the train extra")

from model.encoder import Encoder  # noqa: E402
from model.pipeline import BUNDLED_MODEL_DIR  # noqa: E402
from model.sentences import split_sentences  # noqa: E402
from training.export_encoder import (  # noqa: E402
    default_base_model,
    export_fp32,
    load_pooled,
)

SEED = Path(__file__).resolve().parents[1] / ".." / "shared" / "seed"
FALLBACK = [
    "The city council approved the 2026 budget on Tuesday by a vote of 7 to 2.",
    "You are all idiots and should be ashamed.",
    "Is this really what the mayor promised?",
]


@pytest.fixture(scope="module")
def sentences() -> list[str]:
    if not SEED.exists():
        return FALLBACK
    body = json.loads((SEED / "article.json").read_text())["body"]
    text = json.loads((SEED / "comment.json").read_text())["text"]
    return [s.text for s in split_sentences(body) + split_sentences(text)] + FALLBACK


@pytest.fixture(scope="module")
def reference(sentences: list[str]) -> tuple[object, object, np.ndarray]:
    model, tokenizer = load_pooled(default_base_model())
    batch = tokenizer(sentences, padding=True, truncation=True, max_length=128, return_tensors="pt")
    with torch.no_grad():
        vectors = model(**batch)[0].numpy()
    return model, tokenizer, vectors


def test_fp32_onnx_matches_pytorch(tmp_path, sentences, reference) -> None:
    model, tokenizer, expected = reference
    export_fp32(model, tokenizer, tmp_path / "model.onnx")
    (tmp_path / "tokenizer.json").write_bytes(
        (Path(default_base_model()) / "tokenizer.json").read_bytes()
    )
    got = Encoder(tmp_path, max_tokens=128).load().encode(sentences)
    np.testing.assert_allclose(got, expected, atol=1e-4)


def test_bundled_int8_encoder_stays_close_to_pytorch(sentences, reference) -> None:
    _, _, expected = reference
    got = Encoder(BUNDLED_MODEL_DIR / "encoder", max_tokens=128).load().encode(sentences)
    cosine = (got * expected).sum(axis=1)
    assert cosine.min() > 0.95, cosine.min()
    assert cosine.mean() > 0.98, cosine.mean()


def test_fine_tuned_classifier_onnx_matches_pytorch(tmp_path, sentences) -> None:
    """The classifier export (softmax inside the graph) against the PyTorch forward pass, on
    single sentences and on (claim, passage) pairs; the weights need no training for this."""
    from model.classifier import TextClassifier
    from training.finetune import FineTunedClassifier

    clf = FineTunedClassifier(["a", "b", "c"], max_tokens=128).initialize()
    clf.temperature_ = 1.7  # the exported graph must apply the calibrated temperature too
    clf.export(tmp_path, keep_fp32=True)
    pairs = list(zip(sentences[:-1], sentences[1:]))
    for onnx_file, atol in (("model.fp32.onnx", 1e-4), ("model.onnx", 0.05)):
        model = TextClassifier(tmp_path, ["a", "b", "c"], onnx_file=onnx_file).load()
        np.testing.assert_allclose(
            model.predict_proba(sentences), clf.predict_proba(sentences), atol=atol
        )
        np.testing.assert_allclose(
            model.predict_proba([a for a, _ in pairs], [b for _, b in pairs]),
            clf.predict_proba(pairs),
            atol=atol,
        )
