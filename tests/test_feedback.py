"""Moderator feedback over HTTP, and `rebut export-feedback` reading what it stored.

.venv/bin/pytest tests/test_feedback.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import AUTH_HEADERS, run_server
from test_api import assert_problem

REBUT = str(Path(sys.executable).with_name("rebut"))


@pytest.fixture(scope="module")
def feedback_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    workdir = tmp_path_factory.mktemp("feedback")
    with run_server(workdir) as (base_url, _process):
        yield base_url, workdir / "rebut.db"


@pytest.fixture(scope="module")
def scored(
    feedback_server: tuple[str, Path], seed: tuple[dict[str, Any], dict[str, Any]]
) -> dict[str, Any]:
    """The seed comment, scored: it has claims and hints to judge."""
    base_url, _db = feedback_server
    article, comment = seed
    response = httpx.post(
        base_url + "/v1/comments:score",
        json={"comment": comment, "article": article},
        headers=AUTH_HEADERS,
        timeout=120,
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["hints"], "the seed's not_in_article claim gives at least one hint"
    return result


def decide(base_url: str, comment_id: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(
        f"{base_url}/v1/comments/{comment_id}/decision", json=body, headers=AUTH_HEADERS
    )


def test_decision_is_stored_and_exported(
    feedback_server: tuple[str, Path],
    scored: dict[str, Any],
    seed: tuple[dict[str, Any], dict[str, Any]],
    tmp_path: Path,
) -> None:
    base_url, db = feedback_server
    _article, comment = seed
    body = {
        "decision": "reject",
        "hints": [{"hint": 0, "verdict": "useful"}],
        "note": "the leaflet drop is not in the article",
    }
    response = decide(base_url, comment["id"], body)
    assert response.status_code == 201, response.text
    stored = response.json()
    assert stored["decision"] == "reject" and stored["decided_by"] == "settings"
    assert stored["hints"] == body["hints"]
    assert decide(base_url, comment["id"], {"decision": "approve"}).status_code == 201

    out = tmp_path / "feedback.jsonl"
    env = {**os.environ, "REBUT_DATABASE_URL": f"sqlite:///{db}"}
    done = subprocess.run(
        [REBUT, "export-feedback", "--out", str(out)], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["decision"] for r in records] == ["reject", "approve"]
    first = records[0]
    assert first["comment_id"] == comment["id"] and first["text"] == comment["text"]
    assert first["article_id"] == scored["article_id"] and first["model_version"]
    assert first["hints"][0]["verdict"] == "useful"
    assert first["hints"][0]["message"] == scored["hints"][0]["message"]
    assert first["result"] == scored and first["note"] == body["note"]


def test_unknown_comment_is_404(feedback_server: tuple[str, Path]) -> None:
    base_url, _db = feedback_server
    response = decide(base_url, "never-scored", {"decision": "approve"})
    assert_problem(response, 404, "unknown_comment")


def test_bad_decisions_are_422(
    feedback_server: tuple[str, Path],
    scored: dict[str, Any],
    seed: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    base_url, _db = feedback_server
    comment_id = seed[1]["id"]
    assert_problem(decide(base_url, comment_id, {"decision": "maybe"}), 422, "invalid_request")
    wrong_verdict = {"decision": "approve", "hints": [{"hint": 0, "verdict": "meh"}]}
    assert_problem(decide(base_url, comment_id, wrong_verdict), 422, "invalid_request")
    missing = {"decision": "approve", "hints": [{"hint": len(scored["hints"]), "verdict": "wrong"}]}
    assert_problem(decide(base_url, comment_id, missing), 422, "unknown_hint")
