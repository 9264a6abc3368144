"""The n-gram model: its ONNX graph computes what scikit-learn computes, and the text
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


def _onnx_and_scikit_learn(
    pipeline: object, labels: list[str], path: Path, texts: list[str]
) -> tuple:
    from training import ngram

    ngram.export(pipeline, labels, path)  # type: ignore[arg-type]
    expected = ngram.probabilities(pipeline, texts)  # type: ignore[arg-type]
    graph = NgramModel(path).load()
    assert graph.labels_ == labels
    return graph.predict([normalize_for_moderation(t) for t in texts]), expected


LABELS = ["spam", "toxicity", "insult"]  # both classes in every source's first 300 rows


def test_ngram_onnx_matches_scikit_learn(rows: tuple, tmp_path: Path) -> None:
    from training import ngram

    train, texts = rows
    pipeline = ngram.fit(train, LABELS)
    got, expected = _onnx_and_scikit_learn(pipeline, LABELS, tmp_path / "ngram.onnx", texts)
    assert len(texts) > 100 and got.shape == (len(texts), 3)
    np.testing.assert_allclose(got, expected, atol=1e-5)
    # the columns are the labels' own models, not one model thrice
    assert np.abs(got[:, 0] - got[:, 1]).max() > 0.1


def test_fitted_vocabularies_keep_no_ngram_without_its_shorter_ones(rows: tuple) -> None:
    """At max_features' cut, ties kept n-grams whose shorter n-grams were dropped, and the
    graph then missed them (up to 0.03 off scikit-learn once ARC's comments joined the
    rows): `fit` drops such orphans and fits again."""
    from training import ngram

    train, _ = rows
    texts = [ngram.model_text(r["a"]) for r in train]
    capped = ngram.make_features().fit(texts)
    assert any(ngram._orphans(set(v.vocabulary_), v.analyzer) for _, v in capped.transformer_list)
    features = ngram.fit(train, ["spam"]).named_steps["features"]
    for _, vectorizer in features.transformer_list:
        assert not ngram._orphans(set(vectorizer.vocabulary_), vectorizer.analyzer)


def test_the_parity_check_catches_what_skl2onnx_converts_wrongly(
    rows: tuple, tmp_path: Path
) -> None:
    """The comparison above can fail: sublinear_tf, which skl2onnx drops, moves the
    graph's probabilities away from scikit-learn's (why training/ngram.py leaves it off)."""
    from training import ngram

    train, texts = rows
    features = ngram.make_features()
    features.set_params(chars__sublinear_tf=True, words__sublinear_tf=True)
    pipeline = ngram.fit(train, ["spam"], features=features)
    got, expected = _onnx_and_scikit_learn(pipeline, ["spam"], tmp_path / "changed.onnx", texts)
    assert np.abs(got - expected).max() > 1e-3


def test_a_graph_without_label_names_serves_one_column(rows: tuple, tmp_path: Path) -> None:
    """Models 0.5.2 to 0.5.4 shipped `ngram_spam.onnx`, which names no labels: a folder
    kept from them (`rebut train --keep text`) still loads and blends."""
    import onnx

    from training import ngram

    train, texts = rows
    path = ngram.export(ngram.fit(train, ["spam"]), ["spam"], tmp_path / "ngram_spam.onnx")
    graph = onnx.load(path)
    del graph.metadata_props[:]
    onnx.save(graph, path)
    old = NgramModel(path).load()
    assert old.labels_ is None and old.column("spam") == 0
    assert old.predict(texts[:5]).shape == (5, 1)


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
    blends = next(h for h in heads if h["task"] == "moderation")["blend"]
    assert {b["label"] for b in blends} >= {"spam"}
    texts = [normalize_for_moderation(t) for t in AWKWARD + ["You are an idiot.", "Nice."]]
    blended = MultiHeadClassifier(BUNDLED_MODEL_DIR / "text").load().predict(texts)
    alone = MultiHeadClassifier(_text_model_without_blend(tmp_path)).load().predict(texts)
    expected = alone["moderation"].copy()
    for blend in blends:
        graph = NgramModel(BUNDLED_MODEL_DIR / "text" / blend["onnx_file"]).load()
        ngram = graph.predict(texts)[:, graph.column(blend["label"])]
        k = list(ATTRIBUTES).index(blend["label"])
        scaling = (blend.get("scale", 1.0), blend.get("bias", 0.0))
        expected[:, k] = blend_logits(alone["moderation"][:, k], ngram, blend["weight"], *scaling)
        assert not np.allclose(blended["moderation"][:, k], alone["moderation"][:, k], atol=1e-3)
    np.testing.assert_allclose(blended["moderation"], expected, atol=1e-6)
    np.testing.assert_array_equal(blended["checkworthy"], alone["checkworthy"])


def test_a_blend_naming_a_label_the_head_or_graph_lacks_is_refused(tmp_path: Path) -> None:
    heads = json.loads((BUNDLED_MODEL_DIR / "text" / "heads.json").read_text())
    (onnx_file,) = {b["onnx_file"] for h in heads for b in h.get("blend", [])}
    graph_labels = NgramModel(BUNDLED_MODEL_DIR / "text" / onnx_file).load().labels_
    assert graph_labels is not None
    not_in_graph = next(a for a in ATTRIBUTES if a not in graph_labels)
    folder = _text_model_without_blend(tmp_path)
    for label, error in (("sarcasm", "no label"), (not_in_graph, "graph has no label")):
        heads[0]["blend"] = [{"label": label, "onnx_file": onnx_file, "weight": 0.5}]
        (folder / "heads.json").write_text(json.dumps(heads))
        with pytest.raises(ValueError, match=error):
            MultiHeadClassifier(folder).load()


def test_training_names_the_ngram_in_heads_json_only_where_it_helps_on_dev(
    rows: tuple, tmp_path: Path
) -> None:
    from training import ngram
    from training.task_inputs import task_rows

    train, _ = rows
    dev = [r for r in task_rows("moderation", None, limit=600) if r["split"] == "dev"]
    folder = _text_model_without_blend(tmp_path)
    report = ngram.add_to_text_model(folder, train, dev)
    weighed = {k: v for k, v in report["labels"].items() if f"cv_{v.get('by')}_by_weight" in v}
    assert {"spam", "toxicity"} <= set(weighed)
    assert weighed["spam"]["by"] == "f1" and weighed["toxicity"]["by"] == "roc_auc"
    for chosen in weighed.values():
        scores = {float(w): s for w, s in chosen[f"cv_{chosen['by']}_by_weight"].items()}
        assert set(scores) == set(ngram.WEIGHTS)
        if chosen["weight"] > 0:
            assert scores[chosen["weight"]] == max(scores.values())
            if chosen["by"] == "roc_auc":
                assert scores[chosen["weight"]] >= scores[0.0] + ngram.MIN_AUC_GAIN
        else:
            best = max(scores.values())
            assert best == scores[0.0] or (
                chosen["by"] == "roc_auc" and best < scores[0.0] + ngram.MIN_AUC_GAIN
            )
    heads = json.loads((folder / "heads.json").read_text())
    named = next(h for h in heads if h["task"] == "moderation").get("blend", [])
    blended = [k for k, v in report["labels"].items() if v["weight"] > 0]
    assert [b["label"] for b in named] == blended
    assert (folder / ngram.ONNX_FILE).exists() == bool(blended)
    for entry in named:  # abuse attributes are Platt-scaled after the blend; spam is not
        assert ("scale" in entry) == (entry["label"] not in ngram.BY_F1)
    if blended:
        assert NgramModel(folder / ngram.ONNX_FILE).load().labels_ == blended
        MultiHeadClassifier(folder).load()  # loads with its n-gram graph
