"""The CMS webhook: signatures, idempotency, the worker, callbacks with retries and the dead
letter, against a real server and a real callback receiver on loopback.

    .venv/bin/pytest tests/test_webhooks.py
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import AUTH_HEADERS, run_server
from test_api import assert_problem
from webhook_client import HOOK, Receiver, comment_event, post_event, signature, wait_for

# Rotation: the CMS may sign with either; rebut signs its callbacks with the first.
NEW_SECRET, OLD_SECRET = "whsec-new-0123456789", "whsec-old-9876543210"
CheckResult = Callable[..., None]


@pytest.fixture(scope="module")
def hooks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Receiver]]:
    receiver = Receiver()
    with (
        receiver.running() as callback_url,
        run_server(
            tmp_path_factory.mktemp("webhooks"),
            REBUT_WEBHOOK_SECRETS=f"{NEW_SECRET},{OLD_SECRET}",
            REBUT_CALLBACK_URL=callback_url,
            REBUT_CALLBACK_BACKOFF_S="0.2",
            REBUT_CALLBACK_MAX_ATTEMPTS="3",
            REBUT_WORKER_POLL_S="0.2",
        ) as (base_url, _process),
    ):
        yield base_url, receiver


def get(base_url: str, path: str) -> httpx.Response:
    return httpx.get(base_url + path, headers=AUTH_HEADERS, timeout=60)


def event_state(base_url: str, event_id: str) -> dict[str, Any]:
    response = get(base_url, f"/v1/webhooks/events/{event_id}")
    assert response.status_code == 200, response.text
    return response.json()


def test_event_is_scored_and_called_back_signed(
    hooks: tuple[str, Receiver], seed: tuple[dict[str, Any], dict[str, Any]], check: CheckResult
) -> None:
    base_url, receiver = hooks
    article, comment = seed
    event = comment_event("evt-seed", comment["id"], comment["text"], article=article)
    response = post_event(base_url, event, NEW_SECRET)
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert accepted["duplicate"] is False and accepted["status"] == "received"
    assert accepted["result_url"] == f"/v1/comments/{comment['id']}"

    result = wait_for(
        lambda: (r := get(base_url, accepted["result_url"])).status_code == 200 and r.json(),
        "the seed comment's result",
    )
    check(result, comment["text"], article["body"])
    assert result["comment_id"] == comment["id"] and result["article_id"] == article["id"]

    # The first callback got 503, the second 200: two signed deliveries of the same result.
    wait_for(lambda: len(receiver.deliveries("evt-seed")) >= 2, "the callback's second try")
    tries = receiver.deliveries("evt-seed")
    assert len(tries) == 2
    for headers, body in tries:
        assert headers["rebut-signature"].startswith("t=")
        assert body["status"] == "scored" and body["result"] == result
    state = wait_for(
        lambda: (s := event_state(base_url, "evt-seed"))["callback_attempts"] == 2 and s,
        "the event to record both tries",
    )
    assert state["status"] == "scored" and state["error"] is None


def test_callback_signature_verifies_over_the_raw_body(hooks: tuple[str, Receiver]) -> None:
    base_url, receiver = hooks
    event = comment_event("evt-sig", "c-sig", "The mayor resigned on Friday.")
    assert post_event(base_url, event, OLD_SECRET).status_code == 202  # the old one still works
    wait_for(lambda: receiver.deliveries("evt-sig"), "a callback")
    with receiver._lock:
        raw = [b for h, b in receiver.received if json.loads(b)["event_id"] == "evt-sig"]
        headers = [h for h, b in receiver.received if json.loads(b)["event_id"] == "evt-sig"]
    header = headers[0]["rebut-signature"]
    t = header.split(",")[0].removeprefix("t=")
    v1 = header.split(",")[1].removeprefix("v1=")
    expected = hmac.new(NEW_SECRET.encode(), f"{t}.".encode() + raw[0], hashlib.sha256)
    assert hmac.compare_digest(v1, expected.hexdigest())
    assert abs(time.time() - int(t)) < 300


def test_redelivery_is_stored_once(hooks: tuple[str, Receiver]) -> None:
    base_url, _receiver = hooks
    event = comment_event("evt-twice", "c-twice", "Turnout was 61 per cent.")
    first = post_event(base_url, event, NEW_SECRET)
    again = post_event(base_url, event, NEW_SECRET)
    assert first.status_code == 202, first.text
    assert again.status_code == 200 and again.json()["duplicate"] is True
    changed = dict(event, data={"comment": {"id": "c-twice", "text": "Different text."}})
    assert_problem(post_event(base_url, changed, NEW_SECRET), 409, "event_id_conflict")


def test_article_event_then_comment_by_article_id(hooks: tuple[str, Receiver]) -> None:
    base_url, _receiver = hooks
    article = {"id": "hook-article", "title": "Budget", "body": "The council cut bus funding."}
    update = {"id": "evt-article", "type": "article.updated", "data": {"article": article}}
    assert post_event(base_url, update, NEW_SECRET).status_code == 202
    comment = comment_event(
        "evt-by-id", "c-by-id", "They cut bus funding by half.", article_id="hook-article"
    )
    assert post_event(base_url, comment, NEW_SECRET).status_code == 202
    result = wait_for(
        lambda: (r := get(base_url, "/v1/comments/c-by-id")).status_code == 200 and r.json(),
        "the comment's result",
    )
    assert result["article_id"] == "hook-article" and result["stance"] is not None
    assert get(base_url, "/v1/articles/hook-article").json()["body"] == article["body"]
    assert event_state(base_url, "evt-article")["status"] == "applied"


def test_unknown_article_is_moderated_and_says_why_it_was_not_fact_checked(
    hooks: tuple[str, Receiver],
) -> None:
    base_url, _receiver = hooks
    event = comment_event("evt-orphan", "c-orphan", "A claim.", article_id="never-sent")
    assert post_event(base_url, event, NEW_SECRET).status_code == 202
    state = wait_for(
        lambda: (s := event_state(base_url, "evt-orphan"))["status"] != "received" and s,
        "the event to be processed",
    )
    assert state["status"] == "scored" and state["error"] is None, state
    result = get(base_url, "/v1/comments/c-orphan").json()
    assert result["moderation"]["attributes"] and result["stance"] is None
    assert [h["type"] for h in result["hints"]] == ["article_unknown"]


def test_callback_failing_every_time_is_dead_lettered(hooks: tuple[str, Receiver]) -> None:
    base_url, receiver = hooks
    event = comment_event("dead-1", "c-dead", "Nobody will hear of this one.")
    assert post_event(base_url, event, NEW_SECRET).status_code == 202
    state = wait_for(
        lambda: (s := event_state(base_url, "dead-1"))["status"] == "dead" and s,
        "the dead letter",
    )
    assert state["callback_attempts"] == 3 and state["error"]["code"] == "callback_failed"
    assert len(receiver.deliveries("dead-1")) == 3
    # The result itself was stored before the callbacks failed.
    assert get(base_url, "/v1/comments/c-dead").status_code == 200


@pytest.mark.parametrize(
    ("header", "code"),
    [
        (None, "missing_signature"),
        ("t=1,v1=abc", "signature_expired"),
        ("v1=abc", "invalid_signature"),
    ],
)
def test_bad_signature_headers_are_401(
    hooks: tuple[str, Receiver], header: str | None, code: str
) -> None:
    base_url, _receiver = hooks
    headers = dict(AUTH_HEADERS, **({"Rebut-Signature": header} if header else {}))
    response = httpx.post(base_url + HOOK, json=comment_event("e", "c", "x"), headers=headers)
    assert_problem(response, 401, code)


def test_wrong_secret_tampered_body_and_old_timestamp_are_401(hooks: tuple[str, Receiver]) -> None:
    base_url, _receiver = hooks
    event = comment_event("evt-bad", "c-bad", "Fine words.")
    assert_problem(post_event(base_url, event, "not-the-secret"), 401, "invalid_signature")

    body = json.dumps(event).encode()
    header = signature(NEW_SECRET, body)
    tampered = body.replace(b"Fine", b"Foul")
    headers = {**AUTH_HEADERS, "Rebut-Signature": header, "Content-Type": "application/json"}
    response = httpx.post(base_url + HOOK, content=tampered, headers=headers)
    assert_problem(response, 401, "invalid_signature")

    # A captured request replayed after the tolerance: the signed timestamp gives it away.
    stale = post_event(base_url, event, NEW_SECRET, timestamp=int(time.time()) - 301)
    assert_problem(stale, 401, "signature_expired")
    assert_problem(get(base_url, "/v1/webhooks/events/evt-bad"), 404, "unknown_event")


def test_signed_but_bad_events_are_refused_and_not_stored(hooks: tuple[str, Receiver]) -> None:
    base_url, _receiver = hooks

    def post_raw(body: bytes) -> httpx.Response:
        headers = {
            **AUTH_HEADERS,
            "Content-Type": "application/json",
            "Rebut-Signature": signature(NEW_SECRET, body),
        }
        return httpx.post(base_url + HOOK, content=body, headers=headers)

    assert_problem(post_raw(b'{"id": "x",'), 400, "invalid_json")
    assert_problem(post_raw(b'{"id": "x", "type": "comment.deleted", "data": {}}'), 422)
    no_comment = json.dumps({"id": "x", "type": "comment.created", "data": {}}).encode()
    assert_problem(post_raw(no_comment), 422, "invalid_request")
    empty = json.dumps(comment_event("evt-empty", "c-empty", "   ")).encode()
    assert_problem(post_raw(empty), 400, "empty_text")
    long = json.dumps(comment_event("evt-long", "c-long", "a" * 20_001)).encode()
    assert_problem(post_raw(long), 413, "text_too_long")
    for event_id in ("evt-empty", "evt-long"):
        assert_problem(get(base_url, f"/v1/webhooks/events/{event_id}"), 404, "unknown_event")


def test_webhook_needs_an_api_key_too(hooks: tuple[str, Receiver]) -> None:
    base_url, _receiver = hooks
    body = json.dumps(comment_event("evt-nokey", "c", "x")).encode()
    headers = {"Rebut-Signature": signature(NEW_SECRET, body), "Content-Type": "application/json"}
    assert_problem(httpx.post(base_url + HOOK, content=body, headers=headers), 401)


def test_without_secrets_the_webhook_is_off(server: str) -> None:
    """The shared test server has no REBUT_WEBHOOK_SECRETS."""
    event = comment_event("evt-off", "c-off", "Hello.")
    assert_problem(post_event(server, event, NEW_SECRET), 503, "webhooks_not_configured")


def test_readme_example_verifies(tmp_path: Path) -> None:
    """The signing snippet in docs/integrations.md, run as written, accepts rebut's own
    signature."""
    from serve.integrations.signatures import sign, verify

    doc = (Path(__file__).parents[1] / "docs" / "integrations.md").read_text()
    snippet = doc.split("<!-- verify-example -->")[1].split("```python")[1].split("```")[0]
    namespace: dict[str, Any] = {}
    exec(snippet, namespace)
    body = b'{"event_id": "e1"}'
    assert namespace["verify"](body, sign("s3cret", body), ["s3cret"]) is True
    assert namespace["verify"](body, sign("other", body), ["s3cret"]) is False
    # and rebut accepts what the snippet's sign() makes
    assert verify(namespace["sign"](body, "s3cret"), body, ["s3cret"])
