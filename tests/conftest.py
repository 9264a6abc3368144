"""Fixtures: the real server in a subprocess, the seed example, and the contract checks the
API and batch tests share.

    .venv/bin/pytest tests/test_api.py tests/test_cli.py
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from model.result import ATTRIBUTES, GROUNDING_LABELS, STANCE_LABELS
from serve.cli import KEEP_ALIVE_S

ROOT = Path(__file__).parents[1]
SEED_DIR = ROOT / "../shared/seed"
SEED_CLAIM = "Assad's forces did a leaflet drop on the town before the assault"
SEED_CORRIDOR = "there's a corridor where civilians can leave"
SERVER_START_TIMEOUT_S = 180  # loading the ONNX models on a cold disk can take a while
# A PostgreSQL server the tests may make scratch databases on (.ci/run exports it).
POSTGRES_URL = os.environ.get(
    "REBUT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)

CheckResult = Callable[..., None]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_health(base_url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited with {process.returncode}:\n{log.read_text()[-4000:]}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    pytest.fail(f"server not healthy after {SERVER_START_TIMEOUT_S}s:\n{log.read_text()[-4000:]}")


# The key every test server accepts (REBUT_API_KEYS); `auth_headers` sends it.
API_KEY = "rbt_test-key-for-the-test-servers-only"
AUTH_HEADERS = {"Authorization": f"Bearer {API_KEY}"}


@contextmanager
def run_server(workdir: Path, **settings: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`uvicorn --factory serve.main:create_app` in a subprocess with its own SQLite file
    (unless REBUT_DATABASE_URL is given); yields its base URL and process, once healthy."""
    port = _free_port()
    env = {
        **os.environ,
        "REBUT_DATABASE_URL": f"sqlite:///{workdir / 'rebut.db'}",
        "REBUT_MAX_BODY_BYTES": str(2 * 1024 * 1024),
        "REBUT_API_KEYS": API_KEY,
        "REBUT_RATE_LIMIT": "0",
        **settings,
    }
    log = workdir / "server.log"
    command = [sys.executable, "-m", "uvicorn", "--factory", "serve.main:create_app"]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    command += ["--timeout-keep-alive", str(KEEP_ALIVE_S)]  # as `rebut serve` runs it
    with log.open("ab") as log_file:
        # cwd is the temp dir, so a developer's .env cannot leak into the test server.
        process = subprocess.Popen(command, cwd=workdir, env=env, stdout=log_file, stderr=log_file)
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_health(base_url, process, log)
        yield base_url, process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of the shared test server; it accepts API_KEY and has no rate limit."""
    with run_server(tmp_path_factory.mktemp("server")) as (base_url, _process):
        yield base_url


@contextmanager
def scratch_postgres() -> Iterator[str]:
    """A new, empty PostgreSQL database for one test, dropped afterwards, so tests (and
    parallel runs) never see each other's rows. Skips when no server answers, except in CI,
    where .ci/run starts one and its absence is a failure."""
    import psycopg
    from sqlalchemy.engine import make_url

    admin_url = make_url(POSTGRES_URL)
    admin_dsn = admin_url.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        admin = psycopg.connect(admin_dsn, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"no PostgreSQL at {POSTGRES_URL} in CI: {exc}")
        pytest.skip(f"no PostgreSQL at {POSTGRES_URL}: {exc}")
    name = f"rebut_test_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield admin_url.set(database=name).render_as_string(hide_password=False)
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database URL, once for SQLite and once for PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'rebut.db'}"
        return
    with scratch_postgres() as url:
        yield url


@pytest.fixture(scope="session")
def seed() -> tuple[dict[str, Any], dict[str, Any]]:
    """The seed (article, comment) from ../shared/seed, as plain JSON objects."""
    article_path, comment_path = SEED_DIR / "article.json", SEED_DIR / "comment.json"
    if not (article_path.is_file() and comment_path.is_file()):
        pytest.skip(f"no seed example in {SEED_DIR.resolve()}")
    return json.loads(article_path.read_text()), json.loads(comment_path.read_text())


def _check_probability(value: Any, where: str) -> None:
    assert isinstance(value, int | float) and 0.0 <= value <= 1.0, f"{where} = {value!r}"


def check_result(result: dict[str, Any], comment_text: str, article_body: str | None) -> None:
    """Assert `result` has every field of docs/contract.md, probabilities in [0, 1] and
    offsets that slice the texts they point into."""
    expected = {"comment_id", "article_id", "model_version", "moderation"}
    assert expected | {"claims", "stance", "hints"} <= result.keys()
    assert isinstance(result["model_version"], str) and result["model_version"]

    moderation = result["moderation"]
    assert isinstance(moderation["flagged"], bool)
    assert moderation["action"] in ("approve", "review", "reject")
    assert set(ATTRIBUTES) <= moderation["attributes"].keys()
    for name, p in moderation["attributes"].items():
        _check_probability(p, f"moderation.attributes.{name}")

    for i, claim in enumerate(result["claims"]):
        assert {"text", "start", "end", "check_worthiness", "status", "scores", "evidence"} <= (
            claim.keys()
        )
        assert 0 <= claim["start"] < claim["end"] <= len(comment_text)
        assert comment_text[claim["start"] : claim["end"]] == claim["text"]
        _check_probability(claim["check_worthiness"], f"claims[{i}].check_worthiness")
        if article_body is None:
            assert claim["status"] is None and claim["evidence"] == []
            continue
        assert claim["status"] in GROUNDING_LABELS
        assert set(GROUNDING_LABELS) == claim["scores"].keys()
        for label, p in claim["scores"].items():
            _check_probability(p, f"claims[{i}].scores.{label}")
        for j, evidence in enumerate(claim["evidence"]):
            assert {"text", "start", "end", "score"} <= evidence.keys()
            assert 0 <= evidence["start"] < evidence["end"] <= len(article_body)
            assert article_body[evidence["start"] : evidence["end"]] == evidence["text"]
            _check_probability(evidence["score"], f"claims[{i}].evidence[{j}].score")

    if article_body is None:
        assert result["stance"] is None
    else:
        assert result["stance"]["label"] in STANCE_LABELS
        assert set(STANCE_LABELS) == result["stance"]["scores"].keys()
        for label, p in result["stance"]["scores"].items():
            _check_probability(p, f"stance.scores.{label}")

    for hint in result["hints"]:
        assert {"type", "message", "claim"} <= hint.keys()
        assert isinstance(hint["message"], str) and hint["message"]
        assert hint["claim"] is None or 0 <= hint["claim"] < len(result["claims"])
        passage = hint.get("passage")
        if passage is not None:  # an article passage, at its offsets
            assert article_body is not None
            assert article_body[passage["start"] : passage["end"]] == passage["text"]


def check_seed_result(
    result: dict[str, Any], article: dict[str, Any], comment: dict[str, Any]
) -> None:
    """The seed's known answer: the leaflet drop and the corridor, two claims, are flagged
    for a fact-check, with evidence, and the comment is not abuse. (Its stance, `disputes`, is
    checked where the stance is.)"""
    check_result(result, comment["text"], article["body"])
    assert result["comment_id"] == comment["id"]
    claims = [c for c in result["claims"] if SEED_CLAIM in c["text"]]
    assert claims, f"no claim covers {SEED_CLAIM!r}: {[c['text'] for c in result['claims']]}"
    # both are findings for a fact-checker: the article never mentions a leaflet drop or a
    # corridor (and quotes an activist saying there is no safe passage); which of the two
    # statuses each gets, and which passages it shows, tests/test_grounding_cases.py holds
    assert claims[0]["status"] in ("not_in_article", "contradicted"), claims[0]
    assert claims[0]["evidence"], "a claim the article does not support shows passages"
    # "... before the assault so the rebels surrender and there's a corridor ...": two claims
    corridor = [c for c in result["claims"] if SEED_CORRIDOR in c["text"]]
    assert corridor and corridor[0] is not claims[0] and SEED_CLAIM not in corridor[0]["text"]
    assert corridor[0]["status"] in ("not_in_article", "contradicted"), corridor[0]
    assert result["moderation"]["flagged"] is False, result["moderation"]


@pytest.fixture(scope="session")
def check() -> CheckResult:
    return check_result


@pytest.fixture(scope="session")
def check_seed() -> CheckResult:
    return check_seed_result


@pytest.fixture(scope="session")
def pipeline():  # noqa: ANN201
    """The bundled model, loaded once for the tests that score in-process."""
    from model import Pipeline

    return Pipeline.from_dir()
