"""API keys and the rate limit, against real servers and the real `rebut` command.

.venv/bin/pytest tests/test_auth.py
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import API_KEY, SERVER_START_TIMEOUT_S, _free_port, run_server
from test_api import assert_problem

SCORE = "/v1/comments:score"
BODY = {"comment": {"id": "auth-1", "text": "The bridge reopened on Monday."}}
RATE_LIMIT = 5
REBUT = str(Path(sys.executable).with_name("rebut"))


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A server with a small rate limit; yields its URL and its database file."""
    workdir = tmp_path_factory.mktemp("auth")
    with run_server(workdir, REBUT_RATE_LIMIT=str(RATE_LIMIT)) as (base_url, _process):
        yield base_url, workdir / "rebut.db"


def rebut(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "REBUT_DATABASE_URL": f"sqlite:///{db}"}
    return subprocess.run(
        [REBUT, *args], env=env, capture_output=True, text=True, check=False, cwd=db.parent
    )


def create_key(db: Path, name: str) -> str:
    done = rebut(db, "keys", "create", name)
    assert done.returncode == 0, done.stderr
    key = done.stdout.strip()
    assert key.startswith("rbt_") and len(key) > 40, done.stdout
    return key


def test_no_key_is_401(limited: tuple[str, Path]) -> None:
    base_url, _db = limited
    response = httpx.post(base_url + SCORE, json=BODY)
    assert_problem(response, 401, "missing_api_key")
    assert response.headers["www-authenticate"].startswith("Bearer")
    for path in ("/v1/articles/a", "/v1/comments/c"):
        assert_problem(httpx.get(base_url + path), 401, "missing_api_key")


def test_wrong_key_is_401(limited: tuple[str, Path]) -> None:
    base_url, _db = limited
    headers = {"Authorization": "Bearer rbt_not-a-key"}
    assert_problem(httpx.post(base_url + SCORE, json=BODY, headers=headers), 401, "invalid_api_key")
    assert_problem(httpx.post(f"{base_url}{SCORE}?key=nope", json=BODY), 401, "invalid_api_key")


def test_probes_need_no_key(limited: tuple[str, Path]) -> None:
    base_url, _db = limited
    assert httpx.get(base_url + "/healthz").status_code == 200


def test_settings_key_works_as_bearer_and_query(limited: tuple[str, Path]) -> None:
    base_url, _db = limited
    bearer = httpx.post(
        base_url + SCORE, json=BODY, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=60
    )
    assert bearer.status_code == 200, bearer.text
    query = httpx.post(f"{base_url}{SCORE}?key={API_KEY}", json=BODY, timeout=60)
    assert query.status_code == 200, query.text
    assert query.json() == bearer.json()  # the contract's body, unchanged by auth


def test_cli_key_works_until_revoked_and_only_its_hash_is_stored(
    limited: tuple[str, Path],
) -> None:
    base_url, db = limited
    key = create_key(db, "cms")
    headers = {"Authorization": f"Bearer {key}"}
    assert httpx.get(base_url + "/v1/comments/auth-1", headers=headers).status_code in (200, 404)
    assert httpx.put(base_url + "/v1/articles/k", json={"body": "Hi."}, headers=headers).is_success

    with sqlite3.connect(db) as connection:
        dump = "\n".join(connection.iterdump())
    assert key not in dump
    assert key[10:] not in dump  # not even its tail

    again = rebut(db, "keys", "create", "cms")
    assert again.returncode == 1 and "exists" in again.stderr
    listed = rebut(db, "keys", "list")
    assert listed.returncode == 0 and "cms" in listed.stdout and key not in listed.stdout

    assert rebut(db, "keys", "revoke", "cms").returncode == 0
    response = httpx.put(base_url + "/v1/articles/k", json={"body": "Hi."}, headers=headers)
    assert_problem(response, 401, "invalid_api_key")


def test_over_the_rate_limit_is_429_with_retry_after(limited: tuple[str, Path]) -> None:
    base_url, db = limited
    key = create_key(db, "busy")
    other = create_key(db, "quiet")

    def get(k: str) -> httpx.Response:
        return httpx.get(f"{base_url}/v1/articles/none?key={k}")

    statuses = [get(key).status_code for _ in range(RATE_LIMIT)]
    assert statuses == [404] * RATE_LIMIT  # through auth, to the (missing) article
    limited_response = get(key)
    assert_problem(limited_response, 429, "rate_limited")
    assert int(limited_response.headers["retry-after"]) >= 1
    assert get(other).status_code == 404  # buckets are per key


def test_first_start_prints_an_admin_key(tmp_path: Path) -> None:
    """`make serve` on a fresh machine: `rebut serve` makes one key and says so."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("REBUT_")}
    env["REBUT_DATABASE_URL"] = f"sqlite:///{tmp_path / 'rebut.db'}"
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [REBUT, "serve", "--port", str(port)], cwd=tmp_path, env=env, stdout=out, stderr=out
        )
    try:
        base_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if httpx.get(base_url + "/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.25)
        found = re.search(r"\b(rbt_[A-Za-z0-9_-]{40,})", log.read_text())
        assert found, log.read_text()
        key = found.group(1)
        assert_problem(httpx.get(base_url + "/v1/articles/x"), 401, "missing_api_key")
        response = httpx.get(
            base_url + "/v1/articles/x", headers={"Authorization": f"Bearer {key}"}
        )
        assert_problem(response, 404, "unknown_article")
    finally:
        process.terminate()
        process.wait(timeout=30)

    listed = rebut(tmp_path / "rebut.db", "keys", "list").stdout.splitlines()
    assert [line.split("\t")[0] for line in listed] == ["admin"]
