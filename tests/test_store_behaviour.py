"""What a newsroom engineer expects of the store, over real HTTP against the real server, on
SQLite and on PostgreSQL: an inline article does not replace the stored one, a comment on an
unknown article is still moderated, and an article event reports that it was applied.

    .venv/bin/pytest tests/test_store_behaviour.py
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import AUTH_HEADERS, run_server
from sqlalchemy import create_engine, text
from webhook_client import comment_event, post_event, wait_for

from model.article_index import content_hash

SECRET = "whsec-store-behaviour"
SCORE = "/v1/comments:score"
CheckResult = Callable[..., None]

# Two versions of one article that share no passage, so evidence shows which one a comment
# was checked against.
STORED = {
    "title": "Budget passes",
    "body": "The council approved the budget by 7 votes to 2 on Tuesday. "
    "Bus fares will rise by 10 per cent in April to pay for new routes.",
}
INLINE_BODY = (
    "The mayor resigned on Friday after a row over housing. "
    "Her deputy will lead the city until the election in May."
)
CLAIM = "The council approved the budget by 9 votes to 0 on Tuesday."


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[httpx.Client]:
    settings = {
        "REBUT_DATABASE_URL": database_url,
        "REBUT_WEBHOOK_SECRETS": SECRET,
        "REBUT_WORKER_POLL_S": "0.2",
    }
    with (
        run_server(tmp_path, **settings) as (base_url, _process),
        httpx.Client(base_url=base_url, headers=AUTH_HEADERS, timeout=120) as client,
    ):
        yield client


def score(client: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(SCORE, json=body)
    assert response.status_code == 200, response.text
    return response.json()


def evidence_texts(result: dict[str, Any]) -> list[str]:
    return [e["text"] for claim in result["claims"] for e in claim["evidence"]]


def stored_rows(database_url: str, query: str, **params: str) -> list[tuple[Any, ...]]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(query), params)]
    finally:
        engine.dispose()


def test_inline_article_is_scored_against_but_does_not_replace_the_stored_one(
    server: httpx.Client, database_url: str, check: CheckResult
) -> None:
    put = server.put("/v1/articles/budget", json=STORED)
    assert put.status_code == 200, put.text
    stored_sha = put.json()["content_sha256"]
    before = server.get("/v1/articles/budget").json()

    inline = {"id": "budget", "body": INLINE_BODY}
    result = score(server, {"comment": {"id": "c-inline", "text": CLAIM}, "article": inline})
    # The stored article is as the PUT left it, title included.
    assert server.get("/v1/articles/budget").json() == before

    # Scored against the inline text: its evidence offsets slice it, and the result names
    # that version; the inline text is kept as a version only.
    check(result, CLAIM, INLINE_BODY)
    inline_sha = content_hash(None, INLINE_BODY)
    assert result["article_id"] == "budget" and result["article_sha256"] == inline_sha
    assert server.get("/v1/comments/c-inline").json()["article_sha256"] == inline_sha
    versions = stored_rows(
        database_url,
        "SELECT content_sha256 FROM article_versions WHERE article_id = :a",
        a="budget",
    )
    assert sorted(versions) == sorted([(stored_sha,), (inline_sha,)])
    rows = stored_rows(
        database_url,
        "SELECT article_sha256 FROM comment_scores WHERE comment_id = :c",
        c="c-inline",
    )
    assert rows == [(inline_sha,)]

    # A later comment by article_id is checked against the stored text, not the inline one.
    later = score(server, {"comment": {"id": "c-later", "text": CLAIM, "article_id": "budget"}})
    check(later, CLAIM, STORED["body"])
    assert later["article_sha256"] == stored_sha
    assert evidence_texts(later), later["claims"]
    assert all(t in STORED["body"] and t not in INLINE_BODY for t in evidence_texts(later))
    assert later["stance"] is not None


def test_store_article_replaces_the_stored_one(server: httpx.Client, check: CheckResult) -> None:
    assert server.put("/v1/articles/budget", json=STORED).status_code == 200
    inline = {"id": "budget", "body": STORED["body"].replace("7 votes to 2", "9 votes to 0")}
    body = {"comment": {"id": "c-store", "text": CLAIM}, "article": inline, "store_article": True}
    result = score(server, body)
    replaced_sha = content_hash(None, inline["body"])
    assert result["article_sha256"] == replaced_sha

    # Replaced as a PUT would: the title it did not send is gone.
    got = server.get("/v1/articles/budget").json()
    assert (got["title"], got["body"]) == (None, inline["body"])
    assert got["content_sha256"] == replaced_sha
    later = score(server, {"comment": {"id": "c-after", "text": CLAIM, "article_id": "budget"}})
    check(later, CLAIM, inline["body"])
    assert later["article_sha256"] == replaced_sha

    # An id with no stored article takes an inline one as its current article.
    fresh = {"id": "fresh", "title": "Mayor quits", "body": INLINE_BODY}
    first = score(server, {"comment": {"id": "c-fresh", "text": CLAIM}, "article": fresh})
    assert first["article_sha256"] == content_hash("Mayor quits", INLINE_BODY)
    got = server.get("/v1/articles/fresh").json()
    assert (got["title"], got["body"]) == ("Mayor quits", INLINE_BODY)


def event_state(client: httpx.Client, event_id: str) -> dict[str, Any]:
    """The event's state once the worker has taken it."""

    def taken() -> dict[str, Any] | None:
        response = client.get(f"/v1/webhooks/events/{event_id}")
        assert response.status_code == 200, response.text
        state = response.json()
        return state if state["status"] != "received" else None

    return wait_for(taken, f"event {event_id} to be processed")


def test_webhook_comment_on_an_unknown_article_is_moderated_with_a_hint(
    server: httpx.Client, check: CheckResult
) -> None:
    words = "The council approved the budget by 9 votes to 0. You are all idiots."
    event = comment_event("evt-orphan", "c-orphan", words, article_id="never-sent")
    assert post_event(str(server.base_url), event, SECRET).status_code == 202

    state = event_state(server, "evt-orphan")
    assert state["status"] == "scored" and state["error"] is None, state
    result = server.get("/v1/comments/c-orphan").json()
    # moderated (every attribute scored), yet no claim grounded, no evidence, no stance
    check(result, words, None)
    assert result["claims"], "the claim is still found, only not checked"
    assert result["article_id"] == "never-sent" and result["article_sha256"] is None
    unknown = [h for h in result["hints"] if h["type"] == "article_unknown"]
    assert len(unknown) == 1 and "'never-sent'" in unknown[0]["message"], result["hints"]
    assert server.get("/v1/articles/never-sent").status_code == 404


def test_article_updated_event_reports_applied(server: httpx.Client) -> None:
    article = {"id": "hooked", **STORED}
    update = {"id": "evt-article", "type": "article.updated", "data": {"article": article}}
    assert post_event(str(server.base_url), update, SECRET).status_code == 202

    state = event_state(server, "evt-article")
    assert state["status"] == "applied" and state["error"] is None, state
    assert server.get("/v1/articles/hooked").json()["body"] == STORED["body"]
    ready = server.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["queue"] == {"applied": 1}
    assert server.get("/metrics").status_code == 200
