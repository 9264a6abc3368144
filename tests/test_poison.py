"""What a careless or hostile sender cannot do to the store, the webhook queue or the logs,
on SQLite and on PostgreSQL: ids and text the store cannot hold are refused at the door
(4xx, never queued), an event the store refuses fails after a bounded number of tries
without blocking the events behind it, and no log line quotes comment text, SQL
parameters or keys.

A store that refuses one comment's row is made the way an operator could: a trigger
(SQLite) or a CHECK constraint (PostgreSQL) on comment_scores, added after the server
migrated the database.

    .venv/bin/pytest tests/test_poison.py
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import API_KEY, AUTH_HEADERS, run_server, scratch_postgres
from sqlalchemy import create_engine, text
from webhook_client import comment_event, post_event

from model.limits import MAX_CLAIMS, MAX_SPANS

SECRET = "whsec_poison_tests_0d9c"
POISON_ID = "refused-by-the-store"
# Text that must never reach a log line; a row holding it is what the store refuses.
PRIVATE_TEXT = "Councillor Pryce hid the 4.2 million pound overspend from auditors."
TRIES = 3


def _refuse_poison(database_url: str) -> None:
    engine = create_engine(database_url)
    with engine.begin() as connection:
        if database_url.startswith("sqlite"):
            connection.execute(
                text(
                    "CREATE TRIGGER refuse_poison BEFORE INSERT ON comment_scores "
                    f"WHEN NEW.comment_id = '{POISON_ID}' "
                    "BEGIN SELECT RAISE(ABORT, 'refused'); END"
                )
            )
        else:
            connection.execute(
                text(
                    "ALTER TABLE comment_scores ADD CONSTRAINT refuse_poison "
                    f"CHECK (comment_id <> '{POISON_ID}')"
                )
            )
    engine.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def hooked(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    """(base URL, server log) of a server whose store refuses POISON_ID's rows."""
    workdir = tmp_path_factory.mktemp(f"poison-{request.param}")
    with (
        (
            scratch_postgres()
            if request.param == "postgresql"
            else nullcontext(f"sqlite:///{workdir / 'rebut.db'}")
        ) as url,
        run_server(
            workdir,
            REBUT_DATABASE_URL=url,
            REBUT_WEBHOOK_SECRETS=SECRET,
            REBUT_WORKER_POLL_S="0.2",
            REBUT_SCORE_MAX_ATTEMPTS=str(TRIES),
        ) as (base_url, _process),
    ):
        _refuse_poison(url)
        yield base_url, workdir / "server.log"


def _log_lines(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]


def _event(base_url: str, event_id: str, timeout_s: float = 60) -> dict[str, Any]:
    """The event's state once the worker is done with it."""
    deadline = time.monotonic() + timeout_s
    while True:
        response = httpx.get(
            f"{base_url}/v1/webhooks/events/{event_id}", headers=AUTH_HEADERS, timeout=30
        )
        assert response.status_code == 200, response.text
        state = response.json()
        if state["status"] != "received" or time.monotonic() > deadline:
            return state
        time.sleep(0.2)


BAD_COMMENTS = {
    "nul in text": {"id": "c-nul", "text": "Before\x00after the vote."},
    "surrogate in text": {"id": "c-sur", "text": "\ud800 the vote."},
    "id over 255": {"id": "c" * 256, "text": "The vote was close."},
    "blank id": {"id": "   ", "text": "The vote was close."},
    "nul in id": {"id": "c\x00d", "text": "The vote was close."},
    "line break in id": {"id": "c\nd", "text": "The vote was close."},
    "nul in article id": {"id": "c-art", "text": "The vote.", "article_id": "a\x00"},
}


@pytest.mark.parametrize("name", list(BAD_COMMENTS))
def test_an_event_the_store_cannot_hold_is_refused_at_the_door(
    hooked: tuple[str, Path], name: str
) -> None:
    base_url, _log = hooked
    comment = BAD_COMMENTS[name]
    event = {"id": f"evt-bad-{name.replace(' ', '-')}", "type": "comment.created"}
    event["data"] = {"comment": comment}
    response = post_event(base_url, event, SECRET)
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/problem+json")
    # never queued: the good event after it is scored at once
    good = comment_event(f"evt-after-{name.replace(' ', '-')}", f"c-after-{len(name)}", "Fine.")
    assert post_event(base_url, good, SECRET).status_code == 202
    assert _event(base_url, good["id"])["status"] == "scored"


@pytest.mark.parametrize(
    "path",
    [
        "/v1/comments/c%00d",
        "/v1/articles/a%00b",
        "/v1/webhooks/events/e%00f",
        "/v1/comments/" + "x" * 256,
        "/v1/comments/%20%20",
    ],
)
def test_a_read_with_an_id_the_store_cannot_hold_is_4xx(
    hooked: tuple[str, Path], path: str
) -> None:
    base_url, _log = hooked
    response = httpx.get(base_url + path, headers=AUTH_HEADERS, timeout=30)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "invalid_request"


def test_an_event_the_store_refuses_fails_after_bounded_tries_and_the_queue_moves_on(
    hooked: tuple[str, Path],
) -> None:
    base_url, log = hooked
    poison = comment_event("evt-poison", POISON_ID, PRIVATE_TEXT)
    behind = comment_event("evt-behind-poison", "c-behind", "The bridge reopened on Monday.")
    assert post_event(base_url, poison, SECRET).status_code == 202
    assert post_event(base_url, behind, SECRET).status_code == 202

    state = _event(base_url, poison["id"])
    assert state["status"] == "failed", state
    assert state["error"]["code"] == "store_refused"
    assert f"{TRIES} tries" in state["error"]["message"]
    assert _event(base_url, behind["id"])["status"] == "scored"

    ready = httpx.get(base_url + "/readyz", timeout=30)
    assert ready.status_code == 200, ready.text
    assert ready.json()["queue"].get("received", 0) == 0
    assert PRIVATE_TEXT not in log.read_text()


def test_a_request_the_store_refuses_logs_no_text_parameters_or_key(
    hooked: tuple[str, Path],
) -> None:
    base_url, log = hooked
    tracebacks = sum(bool(line.get("exc_info")) for line in _log_lines(log))
    response = httpx.post(
        f"{base_url}/v1/comments:score",
        params={"key": API_KEY},
        json={"comment": {"id": POISON_ID, "text": PRIVATE_TEXT}},
        timeout=60,
    )
    assert response.status_code == 500, response.text
    assert response.json()["code"] == "internal_error"
    # the server answers, then logs the traceback
    deadline = time.monotonic() + 10
    while sum(bool(line.get("exc_info")) for line in _log_lines(log)) == tracebacks:
        assert time.monotonic() < deadline, "the failure left no traceback in the log"
        time.sleep(0.1)
    logged = log.read_text()
    assert PRIVATE_TEXT not in logged
    assert "Pryce" not in logged
    assert API_KEY not in logged
    assert "parameters:" not in logged.lower() or "hidden" in logged.lower()


def test_readyz_says_when_the_queue_is_not_draining(tmp_path: Path) -> None:
    # A worker that has not started yet: the event waits past the stall limit.
    with run_server(
        tmp_path,
        REBUT_WEBHOOK_SECRETS=SECRET,
        REBUT_WORKER_START_DELAY_S="600",
        REBUT_QUEUE_STALL_S="1",
    ) as (base_url, _process):
        assert httpx.get(base_url + "/readyz", timeout=30).status_code == 200
        event = comment_event("evt-stalled", "c-stalled", "The bridge reopened.")
        assert post_event(base_url, event, SECRET).status_code == 202
        time.sleep(1.5)
        ready = httpx.get(base_url + "/readyz", timeout=30)
        assert ready.status_code == 503
        assert "not draining" in ready.json()["detail"]
        metrics = httpx.get(base_url + "/metrics", headers=AUTH_HEADERS, timeout=30).text
        waited = next(
            line for line in metrics.splitlines() if line.startswith("rebut_webhook_oldest")
        )
        assert float(waited.split()[-1]) > 1.0
        assert 'rebut_webhook_events{status="received"} 1.0' in metrics


def test_a_comment_of_thousands_of_sentences_costs_a_bounded_number_of_passes(
    hooked: tuple[str, Path],
) -> None:
    """5,000 one-word sentences (20,000 characters, inside the text limit) are read as at
    most MAX_SPANS spans that still cover every sentence; a long factual comment keeps its
    MAX_CLAIMS most check-worthy claims. A small request sent meanwhile is answered."""
    base_url, _log = hooked
    text = "Hi. " * 5000
    answers: dict[str, httpx.Response] = {}

    def send_long() -> None:
        answers["long"] = httpx.post(
            f"{base_url}/v1/comments:score",
            headers=AUTH_HEADERS,
            json={"comment": {"id": "long-hi", "text": text}},
            timeout=300,
        )

    sender = threading.Thread(target=send_long)
    sender.start()
    small = httpx.post(
        f"{base_url}/v1/comments:score",
        headers=AUTH_HEADERS,
        json={"comment": {"id": "small-meanwhile", "text": "The bridge reopened."}},
        timeout=300,
    )
    sender.join()
    assert small.status_code == 200, small.text
    assert answers["long"].status_code == 200, answers["long"].text
    spans = answers["long"].json()["moderation"]["spans"]
    assert len(spans) == MAX_SPANS
    assert spans[0]["start"] == 0 and spans[-1]["end"] == len(text.rstrip())
    assert all(text[s["start"] : s["end"]] == s["text"] for s in spans)

    facts = " ".join(
        f"The council spent {n} million pounds on road {n} in {1990 + n}." for n in range(40)
    )
    claims = httpx.post(
        f"{base_url}/v1/comments:score",
        headers=AUTH_HEADERS,
        json={"comment": {"id": "long-facts", "text": facts}},
        timeout=300,
    ).json()["claims"]
    assert 0 < len(claims) <= MAX_CLAIMS
    assert [c["start"] for c in claims] == sorted(c["start"] for c in claims)
