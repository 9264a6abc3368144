"""A small real training run, end to end: train -> export -> load -> score (CI's smoke run).

It reads the public data from ../shared/datasets (REBUT_DATA_DIR), fits every head on a few
examples per source, exports the model folder and scores a comment with it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch", reason="needs the train extra")
import onnx  # noqa: E402

from model import ArticleIn, CommentIn, Pipeline  # noqa: E402
from training.data.splits import default_data_dir  # noqa: E402
from training.multitask.model import bf16_autocast  # noqa: E402

REBUT = Path(sys.executable).parent / "rebut"


@pytest.mark.skipif(not default_data_dir().exists(), reason="no ../shared/datasets")
def test_train_export_and_score(tmp_path: Path) -> None:
    run, out = tmp_path / "run", tmp_path / "model"
    # one short epoch of each multi-head fine-tune on a few examples: the path, not the quality
    common = ["--cache-dir", str(tmp_path / "cache"), "--epochs", "1"]
    subprocess.run([REBUT, "train", "--out", run, "--limit-per-source", "12", *common], check=True)
    report = json.loads((run / "metrics.json").read_text())
    metrics = report["metrics"]
    assert set(metrics) == {"moderation", "checkworthy", "grounding", "stance"}
    assert {"text", "pair"} == set(report["training"])
    # bfloat16 where this CPU multiplies it natively (AMX, AVX512-BF16), else float32
    precision = "bf16 autocast" if bf16_autocast("cpu") else "fp32"
    assert {report["training"][m]["precision"] for m in ("text", "pair")} == {precision}
    # the n-gram model was fitted for spam at least; a dev split this small cannot choose
    # its weights, and the graph is written only when some attribute blends it
    blend = metrics["moderation"]["ngram"]
    assert "spam" in blend["labels"] and blend["train_examples"] > 0
    blended = any(chosen["weight"] > 0 for chosen in blend["labels"].values())
    assert blended == (run / "model" / "text" / blend["onnx_file"]).is_file()
    assert metrics["stance"]["fnc1_uncapped"]["pairs"] == 12  # --limit-per-source
    negated = metrics["stance"]["negated_claims"]  # comments against their claim negated
    assert 0 < negated["pairs"] <= 12 and 0 <= negated["same_label"] <= 1
    turned = metrics["stance"]["turned_reports"]  # statements under a report turned
    assert turned["pairs"] == 48 and 0 <= turned["accuracy"] <= 1  # 12 bodies, 4 rows each
    subprocess.run([REBUT, "export", "--run", run, "--out", out], check=True)
    assert (out / "README.md").read_text().startswith("# rebut model")
    for name in ("encoder", "text", "pair"):  # int8 ONNX beside its tokenizer
        assert (out / name / "model.onnx").is_file() and (out / name / "tokenizer.json").is_file()
        assert not (out / name / "model.fp32.onnx").exists()
        graph = onnx.load(str(out / name / "model.onnx")).graph
        types = {t.name: t.data_type for t in graph.initializer}
        weights = [types[n.input[1]] for n in graph.node if n.op_type == "MatMulInteger"]
        assert weights and set(weights) == {onnx.TensorProto.UINT8}  # exact on every CPU

    pipeline = Pipeline.from_dir(out)
    article = ArticleIn(
        id="a", body="The council approved the budget on Tuesday. It passed 7 to 2."
    )
    result = pipeline.score(CommentIn(id="c", text="The budget passed 9 to 0 on Monday."), article)
    assert result.model_version == pipeline.model_version
    assert result.stance is not None
    assert set(pipeline.for_task_["moderation"].labels("moderation")) <= set(
        result.moderation.attributes
    )
    assert [s.text for s in result.moderation.spans] == ["The budget passed 9 to 0 on Monday."]

    # weights trained elsewhere (a GPU machine) are taken as they are, not retrained; a
    # kept model is not even exported again: its ONNX file and its figures come along. The
    # text model is kept from a folder as rebut before 0.5.1 wrote it, with int8 weights
    # (which saturate on CPUs without VNNI): keeping it stores them as uint8 again.
    served = (out / "text" / "model.onnx").read_bytes()
    _as_int8_weights(out / "text" / "model.onnx")
    again = tmp_path / "again"
    subprocess.run(
        [REBUT, "train", "--out", again, "--limit-per-source", "12",
         "--weights-from", run / "weights", "--keep", "text", "--keep-from", out, *common],
        check=True,
    )  # fmt: skip
    moved = json.loads((again / "metrics.json").read_text())
    assert moved["training"]["pair"]["weights_from"] == str(run / "weights" / "pair.safetensors")
    assert moved["metrics"]["grounding"]["macro_f1"] == metrics["grounding"]["macro_f1"]
    assert "int8 weights stored as uint8" in moved["training"]["text"]["kept_from"]
    kept = (again / "model" / "text" / "model.onnx").read_bytes()
    assert kept == served
    assert moved["metrics"]["moderation"] == metrics["moderation"]


def _as_int8_weights(path: Path) -> None:
    """Undo training.export_encoder.shift_weights_to_uint8 in place: a graph as exported
    before rebut 0.5.1."""
    from onnx import numpy_helper

    model = onnx.load(str(path))
    tensors = {t.name: t for t in model.graph.initializer}
    names = {n.input[i] for n in model.graph.node if n.op_type == "MatMulInteger" for i in (1, 3)}
    for name in names:
        values = numpy_helper.to_array(tensors[name]).astype(np.int16) - 128
        tensors[name].CopyFrom(numpy_helper.from_array(values.astype(np.int8), name))
    onnx.save(model, str(path))


def test_float32_can_be_forced(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REBUT_TRAIN_FP32", "1")
    assert not bf16_autocast("cpu") and not bf16_autocast("cuda")
    monkeypatch.delenv("REBUT_TRAIN_FP32")
    assert bf16_autocast("cuda")


def test_source_balance_weighs_a_label_by_its_share_within_its_source() -> None:
    from training.multitask.batches import _repeated
    from training.multitask.loss import _example_weights

    rows = [{"source": "fnc1", "y": y} for y in [0] * 8 + [1] * 2]
    rows += [{"source": "arc", "y": y} for y in [0] * 5 + [1] * 5]
    by_source = _example_weights(rows, "source")
    assert by_source[:8] == [0.625] * 8 and by_source[8:10] == [2.5] * 2  # 10 / (2 labels × n)
    assert by_source[10:] == [1.0] * 10  # balanced already
    by_label = _example_weights(rows, "label")  # 13 zeros, 7 ones over the task
    assert by_label[0] == pytest.approx(20 / 26) and by_label[8] == pytest.approx(20 / 14)
    with pytest.raises(ValueError, match="balance"):
        _example_weights(rows, "sources")
    assert [r["source"] for r in _repeated(rows, {"fnc1": 3})].count("fnc1") == 30
    sampled = [r["source"] for r in _repeated(rows * 100, {"*": 0.2, "arc": 2})]
    assert sampled.count("arc") == 2000 and 100 < sampled.count("fnc1") < 300  # ~200 of 1,000
    assert _repeated(rows * 100, {"*": 0.2}) == _repeated(rows * 100, {"*": 0.2})  # seeded


def test_train_refuses_to_keep_a_model_it_does_not_have(tmp_path: Path) -> None:
    for keep, named in (("nope", "['nope']"), ("text", "['text']")):
        completed = subprocess.run(
            [REBUT, "train", "--out", tmp_path / "run", "--keep", keep,
             "--keep-from", tmp_path / "empty"],
            capture_output=True, text=True,
        )  # fmt: skip
        assert completed.returncode == 2, completed.stderr
        assert f"cannot keep {named}" in completed.stderr
    # a folder with the model but not the files that describe it
    (tmp_path / "bare" / "text").mkdir(parents=True)
    (tmp_path / "bare" / "text" / "model.onnx").write_bytes(b"")
    (tmp_path / "bare" / "metrics.json").write_text("{}")
    completed = subprocess.run(
        [REBUT, "train", "--out", tmp_path / "run", "--keep", "text", "--keep-from",
         tmp_path / "bare"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert completed.returncode == 2 and "cannot keep anything" in completed.stderr
    assert not (tmp_path / "run").exists(), "nothing is written before the check"
