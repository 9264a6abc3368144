"""The Makefile's promises: `make serve` reinstalls nothing when nothing changed, takes its
host and port from the command line, and `.env` (where secrets go) is never committed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="no make on this machine")


def make(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", *args], cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
    )


def test_a_second_install_does_nothing() -> None:
    assert make("install").returncode == 0
    assert make("-q", "install").returncode == 0, "install is out of date right after itself"
    dry = make("-n", "serve")
    assert "pip install" not in dry.stdout, dry.stdout


def test_serve_takes_host_and_port_from_the_command_line() -> None:
    dry = make("-n", "serve", "PORT=8123", "HOST=0.0.0.0")
    assert dry.returncode == 0, dry.stderr
    assert "rebut serve" in dry.stdout
    assert "--port 8123" in dry.stdout and "--host 0.0.0.0" in dry.stdout
    plain = make("-n", "serve").stdout
    assert "--port" not in plain and "--host" not in plain  # REBUT_PORT / REBUT_HOST then


def test_dot_env_is_ignored_by_git() -> None:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    ignored = subprocess.run(["git", "check-ignore", "-q", ".env"], cwd=ROOT, check=False)
    assert ignored.returncode == 0
