"""A bounded schemathesis run over the OpenAPI schema: whatever it sends, no 5xx.

schemathesis's own runner (its CLI) against a real server, with a valid key, a fixed seed
and a fixed number of generated requests per operation, so a failure reproduces. The server
has webhook and Coral secrets set: without them those endpoints answer 503 on purpose.

    .venv/bin/pytest tests/test_fuzz.py
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import AUTH_HEADERS, run_server

EXAMPLES_PER_OPERATION = 15
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


@pytest.mark.parametrize("hostile", [False, True], ids=["schema", "hostile"])
def test_no_request_gets_a_server_error(tmp_path: Path, hostile: bool) -> None:
    """hostile: every generated body and path may have a string replaced by one with NUL
    or a lone surrogate, or be nested 300 deep (tests/fuzz_hooks.py)."""
    if not SCHEMATHESIS.exists() and shutil.which("schemathesis") is None:
        pytest.skip("schemathesis is not installed (it comes with the dev extra)")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent)}
    if hostile:
        env["SCHEMATHESIS_HOOKS"] = "fuzz_hooks"
    with run_server(
        tmp_path,
        REBUT_WEBHOOK_SECRETS="whsec-fuzz-0123456789",
        REBUT_CORAL_SECRETS="ssc_fuzz_0123456789",
    ) as (base_url, _process):
        command = [
            str(SCHEMATHESIS if SCHEMATHESIS.exists() else "schemathesis"),
            "run",
            f"{base_url}/openapi.json",
            "--checks",
            "not_a_server_error",
            "--max-examples",
            str(EXAMPLES_PER_OPERATION),
            "--seed",
            "6",
            "--generation-deterministic",
            "--request-timeout",
            "120",
            "--header",
            f"Authorization:{AUTH_HEADERS['Authorization']}",
        ]
        done = subprocess.run(
            command, capture_output=True, text=True, cwd=tmp_path, env=env, check=False
        )
    report = done.stdout[-6000:] + done.stderr[-2000:]
    assert done.returncode == 0, report
    # It did send requests, and every one passed the check.
    counts = re.search(r"(\d+) generated, (\d+) passed", done.stdout)
    assert counts is not None, report
    assert int(counts[1]) == int(counts[2]) > 100, report
