"""The spam n-gram model: its ONNX graph computes what scikit-learn computes, and the text
model blends it into the moderation head exactly as heads.json says."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from model.classifier import MultiHeadClassifier
from model.ngram import NgramModel, blend_logits, ngram_text
from model.normalize import normalize_for_moderation
from model.pipeline import BUNDLED_MODEL_DIR
from model.result import ATTRIBUTES

# texts whose n-grams are awkward: no word at all, emoji, look-alikes, a link, accents
AWKWARD = [
    "!!!",
    "   ",
    "🔥🔥 SUBSCRIBE 🔥🔥",
    "сheck out my сhannel",  # Cyrillic с
    "Read the minutes: https://example.gov/council/2026-03-04.pdf",
    "Café owners say the new rules are unfair; ça suffit.",
    "FREE iPad!!! click here www.win-now.example",
]


def test_ngram_text_lowercases_and_keeps_only_word_tokens() -> None:
    assert ngram_text("Check OUT my channel!!! http://x.io") == "check out my channel http io"
    assert ngram_text("!!! ?") == ""


@pytest.fixture(scope="module")
def rows() -> tuple[list[dict], list[str]]:
    """Real comments from every moderation source: training rows, and texts to compare on."""
    pytest.importorskip("skl2onnx", reason="needs the train extra")
    from training.task_inputs import task_rows

    rows = list(task_rows("moderation", None, limit=300))
    train = [r for r in rows if r["split"] == "train"]
    return train, [r["a"] for r in rows if r["split"] == "dev"] + AWKWARD


def _onnx_and_scikit_learn(pipeline: object, path: Path, texts: list[str]) -> tuple:
    from training import ngram

    ngram.export(pipeline, path)  # type: ignore[arg-type]
    expected = pipeline.predict_proba([ngram.model_text(t) for t in texts])[:, 1]  # type: ignore[attr-defined]
    got = NgramModel(path).load().predict([normalize_for_moderation(t) for t in texts])
    return got, expected


def test_ngram_onnx_matches_scikit_learn(rows: tuple, tmp_path: Path) -> None:
    from training import ngram

    train, texts = rows
    pipeline = ngram.fit(train, "spam")
    got, expected = _onnx_and_scikit_learn(pipeline, tmp_path / "ngram_spam.onnx", texts)
    assert len(texts) > 100
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_the_parity_check_catches_what_skl2onnx_converts_wrongly(
    rows: tuple, tmp_path: Path
) -> None:
    """The comparison above can fail: sublinear_tf, which skl2onnx drops, moves the
    graph's probabilities away from scikit-learn's (why training/ngram.py leaves it off)."""
    from training import ngram

    train, texts = rows
    pipeline = ngram.make_pipeline()
    pipeline.set_params(features__chars__sublinear_tf=True, features__words__sublinear_tf=True)
    model_texts, y = ngram.labelled(train, "spam")
    pipeline.fit([ngram.model_text(t) for t in model_texts], y)
    got, expected = _onnx_and_scikit_learn(pipeline, tmp_path / "changed.onnx", texts)
    assert np.abs(got - expected).max() > 1e-3


def _text_model_without_blend(tmp_path: Path) -> Path:
    folder = tmp_path / "text"
    shutil.copytree(BUNDLED_MODEL_DIR / "text", folder)
    heads = json.loads((folder / "heads.json").read_text())
    for head in heads:
        head.pop("blend", None)
    (folder / "heads.json").write_text(json.dumps(heads))
    return folder


def test_bundled_text_model_blends_its_ngram_as_heads_json_says(tmp_path: Path) -> None:
    heads = json.loads((BUNDLED_MODEL_DIR / "text" / "heads.json").read_text())
    (blend,) = next(h for h in heads if h["task"] == "moderation")["blend"]
    texts = [normalize_for_moderation(t) for t in AWKWARD + ["You are an idiot.", "Nice."]]
    blended = MultiHeadClassifier(BUNDLED_MODEL_DIR / "text").load().predict(texts)
    alone = MultiHeadClassifier(_text_model_without_blend(tmp_path)).load().predict(texts)
    ngram = NgramModel(BUNDLED_MODEL_DIR / "text" / blend["onnx_file"]).load().predict(texts)
    k = list(ATTRIBUTES).index(blend["label"])
    expected = alone["moderation"].copy()
    expected[:, k] = blend_logits(alone["moderation"][:, k], ngram, blend["weight"])
    np.testing.assert_allclose(blended["moderation"], expected, atol=1e-6)
    assert not np.allclose(blended["moderation"][:, k], alone["moderation"][:, k], atol=1e-3)
    np.testing.assert_array_equal(blended["checkworthy"], alone["checkworthy"])


def test_a_blend_naming_a_label_the_head_lacks_is_refused(tmp_path: Path) -> None:
    folder = _text_model_without_blend(tmp_path)
    heads = json.loads((folder / "heads.json").read_text())
    heads[0]["blend"] = [{"label": "sarcasm", "onnx_file": "ngram_spam.onnx", "weight": 0.5}]
    (folder / "heads.json").write_text(json.dumps(heads))
    with pytest.raises(ValueError, match="no label"):
        MultiHeadClassifier(folder).load()


def test_training_names_the_ngram_in_heads_json_only_when_it_helps_on_dev(
    rows: tuple, tmp_path: Path
) -> None:
    from training import ngram
    from training.task_inputs import task_rows

    train, _ = rows
    dev = [r for r in task_rows("moderation", None, limit=600) if r["split"] == "dev"]
    folder = _text_model_without_blend(tmp_path)
    report = ngram.add_to_text_model(folder, train, dev, "spam")
    by_weight = {float(w): f for w, f in report["cv_f1_by_weight"].items()}
    assert set(by_weight) == set(ngram.WEIGHTS)
    assert by_weight[report["weight"]] == max(by_weight.values())
    heads = json.loads((folder / "heads.json").read_text())
    named = next(h for h in heads if h["task"] == "moderation").get("blend", [])
    if report["weight"] > 0:
        weight = report["weight"]
        assert named == [{"label": "spam", "onnx_file": "ngram_spam.onnx", "weight": weight}]
        MultiHeadClassifier(folder).load()  # loads with its n-gram graph
    else:
        assert named == [] and not (folder / "ngram_spam.onnx").exists()
