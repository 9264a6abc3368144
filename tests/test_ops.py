"""Operations: readiness, Prometheus metrics, and logs that keep comment text and keys out.

.venv/bin/pytest tests/test_ops.py
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import API_KEY, AUTH_HEADERS, run_server
from prometheus_client.parser import text_string_to_metric_families
from test_api import assert_problem
from webhook_client import comment_event, post_event, wait_for

SECRET = "whsec-ops-0123456789"
MARKER = "Ottoline Brackenbury"  # a name that appears nowhere but in the comment sent


@pytest.fixture(scope="module")
def ops_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The worker is held back, so a webhook event stays queued for the depth gauge."""
    workdir = tmp_path_factory.mktemp("ops")
    with run_server(workdir, REBUT_WEBHOOK_SECRETS=SECRET, REBUT_WORKER_START_DELAY_S="3600") as (
        base_url,
        _process,
    ):
        yield base_url, workdir / "server.log"


def metrics(base_url: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    response = httpx.get(base_url + "/metrics", headers=AUTH_HEADERS)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        family.name: [(s.labels, s.value) for s in family.samples]
        for family in text_string_to_metric_families(response.text)
    }


def test_readyz_is_open_and_reports_each_part(ops_server: tuple[str, Path]) -> None:
    base_url, _log = ops_server
    response = httpx.get(base_url + "/readyz")
    assert response.status_code == 200, response.text
    ready = response.json()
    assert ready["status"] == "ready" and ready["store"] == "ok" and ready["worker"] == "alive"
    assert ready["model_version"] == httpx.get(base_url + "/healthz").json()["model_version"]


def test_metrics_need_a_key(ops_server: tuple[str, Path]) -> None:
    base_url, _log = ops_server
    assert_problem(httpx.get(base_url + "/metrics"), 401, "missing_api_key")


def test_metrics_count_requests_by_route_and_report_queue_and_model(
    ops_server: tuple[str, Path],
) -> None:
    base_url, _log = ops_server
    for i in range(3):
        body = {"comment": {"id": f"ops-{i}", "text": "Bins are collected on Tuesdays."}}
        response = httpx.post(
            base_url + "/v1/comments:score", json=body, headers=AUTH_HEADERS, timeout=60
        )
        assert response.status_code == 200
    httpx.get(base_url + "/v1/articles/nope-1", headers=AUTH_HEADERS)
    httpx.get(base_url + "/v1/articles/nope-2", headers=AUTH_HEADERS)
    event = comment_event("ops-evt", "ops-c", "Queued, not scored yet.")
    assert post_event(base_url, event, SECRET).status_code == 202

    families = metrics(base_url)
    requests = {
        (labels["method"], labels["route"], labels["status"]): value
        for labels, value in families["rebut_requests"]
        if "status" in labels
    }
    assert requests[("POST", "/v1/comments:score", "200")] >= 3
    # Ids stay out of the labels: both misses count under the template.
    assert requests[("GET", "/v1/articles/{article_id}", "404")] >= 2
    latency_counts = {
        labels["route"]: value
        for labels, value in families["rebut_request_seconds"]
        if labels.get("le") == "+Inf"
    }
    assert latency_counts["/v1/comments:score"] >= 3
    queue = {labels["status"]: value for labels, value in families["rebut_webhook_events"]}
    assert queue["received"] == 1 and queue["scored"] == 0
    [(model_labels, one)] = families["rebut_model_info"]
    assert model_labels["version"] and one == 1


def test_logs_are_json_without_comment_text_or_keys(ops_server: tuple[str, Path]) -> None:
    base_url, log = ops_server
    body = {"comment": {"id": "ops-secret", "text": f"{MARKER} of Leeds stole the bins."}}
    response = httpx.post(f"{base_url}/v1/comments:score?key={API_KEY}", json=body, timeout=60)
    assert response.status_code == 200

    def records() -> list[dict[str, Any]]:
        lines = log.read_text().splitlines()
        return [json.loads(line) for line in lines if line.startswith("{")]

    def scored_line_logged() -> bool:
        # The access line is written after the response is sent: wait for it.
        return any(
            r.get("logger") == "rebut.access"
            and r["route"] == "/v1/comments:score"
            and r["status"] == 200
            and r["ms"] >= 0
            for r in records()
        )

    wait_for(scored_line_logged, "the request's access line", timeout_s=30)
    text = log.read_text()
    assert MARKER not in text and API_KEY not in text
    assert all({"time", "level", "logger", "message"} <= r.keys() for r in records())
    assert not any("color_message" in r for r in records())  # uvicorn's ANSI-coloured copy
