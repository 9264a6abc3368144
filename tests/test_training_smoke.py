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
    # one epoch of each fine-tune on a few examples: the path, not the quality
    common = ["--cache-dir", str(tmp_path / "cache"), "--epochs", "1"]
    subprocess.run([REBUT, "train", "--out", run, "--limit-per-source", "20", *common], check=True)
    metrics = json.loads((run / "metrics.json").read_text())["metrics"]
    assert set(metrics) == {"moderation", "checkworthy", "grounding", "stance"}
    subprocess.run([REBUT, "export", "--run", run, "--out", out], check=True)
    assert (out / "README.md").read_text().startswith("# rebut model")
    for task in ("checkworthy", "grounding"):  # fine-tuned classifiers, int8
        assert (out / task / "model.onnx").is_file() and (out / task / "tokenizer.json").is_file()
        assert not (out / "heads" / f"{task}.onnx").exists()

    pipeline = Pipeline.from_dir(out)
    article = ArticleIn(
        id="a", body="The council approved the budget on Tuesday. It passed 7 to 2."
    )
    result = pipeline.score(CommentIn(id="c", text="The budget passed 9 to 0 on Monday."), article)
    assert result.model_version == pipeline.model_version
    assert result.stance is not None
    assert set(result.moderation.attributes) == set(pipeline.heads_["moderation"].labels)
    assert set(pipeline.classifiers_) == {"checkworthy", "grounding"}

    # retraining one task keeps the others' heads and figures
    subprocess.run(
        [REBUT, "train", "--out", run, "--limit-per-source", "20", "--only", "stance", *common],
        check=True,
    )
    again = json.loads((run / "metrics.json").read_text())["metrics"]
    assert again["grounding"] == metrics["grounding"]
