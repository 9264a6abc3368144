"""A small real training run, end to end: train -> export -> load -> score (CI's smoke run).

It reads the public data from ../shared/datasets (REBUT_DATA_DIR), fits every head on a few
examples per source, exports the model folder and scores a comment with it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch", reason="needs the train extra")

from model import ArticleIn, CommentIn, Pipeline  # noqa: E402
from training.datasets import default_data_dir  # noqa: E402

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
    subprocess.run([REBUT, "export", "--run", run, "--out", out], check=True)
    assert (out / "README.md").read_text().startswith("# rebut model")
    for name in ("encoder", "text", "pair"):  # int8 ONNX beside its tokenizer
        assert (out / name / "model.onnx").is_file() and (out / name / "tokenizer.json").is_file()
        assert not (out / name / "model.fp32.onnx").exists()

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

    # weights trained elsewhere (a GPU machine) are taken as they are, not retrained
    again = tmp_path / "again"
    subprocess.run(
        [REBUT, "train", "--out", again, "--limit-per-source", "12",
         "--weights-from", run / "weights", *common],
        check=True,
    )  # fmt: skip
    moved = json.loads((again / "metrics.json").read_text())
    assert moved["training"]["text"]["weights_from"] == str(run / "weights" / "text.safetensors")
    assert moved["metrics"]["grounding"]["macro_f1"] == metrics["grounding"]["macro_f1"]
