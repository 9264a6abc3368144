"""A serving install has no torch: model/ must not import it, directly or through a dependency."""

import subprocess
import sys

import pytest


def test_import_model_and_scoring_does_not_import_torch() -> None:
    code = (
        "import sys\n"
        "from model import Pipeline, CommentIn\n"
        "Pipeline.from_dir().score(CommentIn(id='c', text='The council met on Monday.'))\n"
        "import serve.main\n"
        "heavy = {'torch', 'transformers', 'sklearn'}\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in heavy)\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("extra", ["", "[ray]"])
def test_serving_install_resolves_without_torch(tmp_path, extra: str) -> None:
    """`pip install .` as the README's serve command runs it (and with the Ray extra that
    `rebut score --engine ray` needs): resolve, install nothing."""
    import json
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    report = tmp_path / "report.json"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--dry-run",
            "--ignore-installed",
            "--report",
            str(report),
            f"{root}{extra}",
        ],
        check=True,
    )
    names = {item["metadata"]["name"].lower() for item in json.loads(report.read_text())["install"]}
    assert "rebut" in names and "onnxruntime" in names
    assert not names & {"torch", "transformers", "sentence-transformers", "scikit-learn"}, names
