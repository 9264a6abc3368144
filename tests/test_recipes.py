"""The recipes in training/configs/: each one loads and every step's options are accepted by
the real command that runs them; every shipped model folder has a recipe; a bad recipe is
refused before anything runs; `rebut train --config` runs one for real.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from model.pipeline import BUNDLED_MODEL_DIR
from training.data.splits import default_data_dir
from training.recipes import CONFIG_DIR, load_recipe, overridden

REBUT = [sys.executable, "-c", "from serve.cli import app; app()"]
ROOT = Path(__file__).resolve().parents[1]
RECIPES = sorted(CONFIG_DIR.glob("*.toml"))


def rebut(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*REBUT, *args], capture_output=True, text=True, timeout=1800)


@pytest.mark.parametrize("path", RECIPES, ids=[p.stem for p in RECIPES])
def test_every_recipe_loads_and_its_steps_parse(path: Path) -> None:
    recipe = load_recipe(path)
    assert recipe.name == path.stem
    assert recipe.about.strip() and recipe.makes and recipe.steps


def test_every_served_model_folder_has_a_recipe() -> None:
    pipeline = json.loads((BUNDLED_MODEL_DIR / "pipeline.json").read_text())
    made = {m.split("/")[0] for p in RECIPES for m in load_recipe(p).makes}
    # encoder/ is the base encoder unchanged, exported by every `rebut train`
    assert set(pipeline["models"]) <= made


@pytest.mark.parametrize(
    ("step", "complaint"),
    [
        ('run = "multitask fit"\ninputs = "a"', "required"),
        ('run = "task-inputs"\nout = "x"\nbogus = 1', "unrecognized arguments: --bogus"),
        (
            'run = "multitask fit"\ninputs = "a"\nbase = "b"\nname = "n"\ntasks = ["stance"]\n'
            'out = "o"\nepochs = "many"',
            "invalid int value",
        ),
        ('run = "train"\nkeep = ["text"]\nepoch = 1', "unknown options ['epoch']"),
        ('run = "sh"\ncommand = "rm -rf /"', "run must be one of"),
    ],
)
def test_a_bad_step_is_refused_before_anything_runs(
    tmp_path: Path, step: str, complaint: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(f'name = "bad"\nabout = "x"\nmakes = ["x"]\n\n[[steps]]\n{step}\n')
    with pytest.raises(ValueError, match="step 1") as error:
        load_recipe(path)
    assert complaint in str(error.value)
    result = rebut("train", "--config", str(path), "--out", str(tmp_path / "work"))
    assert result.returncode == 2
    assert complaint in result.stderr and str(path) in result.stderr
    assert not (tmp_path / "work").exists()


def test_overrides_go_only_to_steps_that_take_them() -> None:
    recipe = overridden(
        load_recipe(CONFIG_DIR / "checkworthy.toml"), limit_per_source=6, epochs=1, data_dir=None
    )
    by_run = {step.run: step.options for step in recipe.steps}
    assert by_run["task-inputs"]["limit_per_source"] == 6
    assert by_run["train"]["limit_per_source"] == 6 and by_run["train"]["epochs"] == 1
    assert by_run["multitask fit"]["epochs"] == 1
    assert "limit_per_source" not in by_run["multitask fit"]  # fit reads the small inputs
    assert "epochs" not in by_run["multitask pack-base"]


def test_dry_run_prints_the_steps_as_shell_lines(tmp_path: Path) -> None:
    result = rebut(
        "train", "--config", str(CONFIG_DIR / "pair.toml"), "--out", str(tmp_path), "--dry-run"
    )
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0] == f"[pair 1/6] python -m training.multitask pack-base --out {tmp_path}/base"
    assert f"--init {tmp_path}/fit/pair.safetensors" in lines[3]
    assert lines[-1].startswith("[pair 6/6] rebut train --out")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not default_data_dir().exists(), reason="no ../shared/datasets")
def test_the_moderation_ngram_recipe_reproduces_the_shipped_members(tmp_path: Path) -> None:
    """The same flag thresholds, and n-gram probabilities within a hair of the shipped ones:
    the logistic regressions' solver rounds differently on another CPU's BLAS, so the bytes
    are not the same from machine to machine."""
    result = rebut(
        "train", "--config", str(CONFIG_DIR / "moderation-ngrams.toml"), "--out", str(tmp_path)
    )
    assert result.returncode == 0, result.stderr[-2000:]
    made, shipped = tmp_path / "model", BUNDLED_MODEL_DIR
    flags = [
        json.loads((folder / "pipeline.json").read_text())["thresholds"]["moderation"]["flag"]
        for folder in (made, shipped)
    ]
    assert flags[0] == flags[1]
    cases = json.loads((ROOT / "data" / "moderation" / "functional_cases.json").read_text())
    texts = np.array([case["text"] for case in cases["cases"]]).reshape(-1, 1)
    made_p, shipped_p = (
        np.stack(
            ort.InferenceSession(str(folder / "text" / "ngram_moderation.onnx")).run(
                None, {"text": texts}
            )[1]
        )
        for folder in (made, shipped)
    )
    assert np.abs(made_p - shipped_p).max() <= 0.005
