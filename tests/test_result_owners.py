"""Who may write a comment's result, and Coral's resent requests, against the real server
over HTTP on SQLite and PostgreSQL.

Each writer keeps its own comments: an API key the ones it scored, Coral its comments
(stored as `coral:<Coral's id>`), the webhook its events'. A Coral request sent again is
answered from the stored result and changes nothing.

    .venv/bin/pytest tests/test_result_owners.py
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import API_KEY, AUTH_HEADERS, run_server
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from test_api import assert_problem
from test_coral import NEW_SECRET, coral_request, coral_signature, post
from webhook_client import comment_event, post_event, wait_for

from model.result import Moderation, Result
from serve.keys import create_key
from serve.store import make_engine, make_sessionmaker, newest_scores, save_result
from serve.tables import CommentScoreRow

SCORE = "/v1/comments:score"
ANALYZE = "/v1alpha1/comments:analyze"
HOOK_SECRET = "whsec_owners_5d1e"
OTHER_KEY_NAME = "other-desk"
TOXIC = "You are a worthless idiot and I hope you rot."
CIVIL = "Thank you for the careful reporting."
CORAL_AUTHOR = "baf4e943"  # the author test_coral.coral_request sends


@dataclass
class Site:
    base_url: str
    sessions: sessionmaker[Session]  # the server's own database, to read what it stored
    other_key: str  # a second API key, named OTHER_KEY_NAME


@pytest.fixture
def site(database_url: str, tmp_path: Path) -> Iterator[Site]:
    """A server with Coral and webhooks on, and a second API key besides API_KEY."""
    with run_server(
        tmp_path,
        REBUT_DATABASE_URL=database_url,
        REBUT_CORAL_SECRETS=NEW_SECRET,
        REBUT_WEBHOOK_SECRETS=HOOK_SECRET,
        REBUT_WORKER_POLL_S="0.2",
    ) as (base_url, _process):
        engine = make_engine(database_url)
        try:
            sessions = make_sessionmaker(engine)
            with sessions() as session:  # the server has migrated the database by now
                other_key = create_key(session, name=OTHER_KEY_NAME)
                session.commit()
            yield Site(base_url, sessions, other_key)
        finally:
            engine.dispose()


def score(site: Site, comment_id: str, text: str, key: str = API_KEY) -> httpx.Response:
    body = {"comment": {"id": comment_id, "text": text}}
    headers = {"Authorization": f"Bearer {key}"}
    return httpx.post(site.base_url + SCORE, json=body, headers=headers, timeout=60)


def coral_send(site: Site, text: str, *, comment_id: str | None, story: str) -> httpx.Response:
    body = coral_request(text, story=story, comment_id=comment_id)
    response = post(site.base_url, body, coral_signature(body, NEW_SECRET))
    assert response.status_code in (200, 204), response.text
    return response


def rows(site: Site, comment_id: str) -> list[tuple[str | None, str | None]]:
    """(text, owner) of each stored scoring of the comment, oldest first."""
    query = select(CommentScoreRow.text, CommentScoreRow.owner).where(
        CommentScoreRow.comment_id == comment_id
    )
    with site.sessions() as session:
        return [tuple(row) for row in session.execute(query.order_by(CommentScoreRow.id))]


def in_queue(site: Site, comment_id: str) -> bool:
    """Whether the moderator's queue (undecided newest results) holds the comment."""
    with site.sessions() as session:
        return any(row.comment_id == comment_id for row in newest_scores(session, undecided=True))


def decide(site: Site, comment_id: str, decision: str) -> None:
    response = httpx.post(
        f"{site.base_url}/v1/comments/{comment_id}/decision",
        json={"decision": decision},
        headers=AUTH_HEADERS,
        timeout=60,
    )
    assert response.status_code == 201, response.text


def stored_result(site: Site, comment_id: str) -> dict[str, Any]:
    response = httpx.get(f"{site.base_url}/v1/comments/{comment_id}", headers=AUTH_HEADERS)
    assert response.status_code == 200, response.text
    return response.json()


def test_coral_resend_is_answered_from_the_stored_result(site: Site) -> None:
    body = coral_request(TOXIC, story="story-resend", comment_id="resend-1")
    signature = coral_signature(body, NEW_SECRET)
    first = post(site.base_url, body, signature)
    assert first.status_code == 200, first.text
    assert first.json()["actions"], "a flagged comment: an answer with a body to compare"
    result = stored_result(site, "coral:resend-1")
    assert result["comment_id"] == "coral:resend-1" and result["article_id"] is None

    # The story's article arrives in between: a second scoring would be grounded on it.
    article = {"title": "Budget", "body": "The council approved the budget by 7 votes to 2."}
    put = httpx.put(f"{site.base_url}/v1/articles/story-resend", json=article, headers=AUTH_HEADERS)
    assert put.status_code == 200, put.text
    again = post(site.base_url, body, signature)
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    assert rows(site, "coral:resend-1") == [(TOXIC, "coral")]
    assert stored_result(site, "coral:resend-1") == result

    # Once a moderator decided on it, a resend does not put it back in the queue.
    assert in_queue(site, "coral:resend-1")
    decide(site, "coral:resend-1", "reject")
    assert not in_queue(site, "coral:resend-1")
    third = post(site.base_url, body, signature)
    assert (third.status_code, third.json()) == (first.status_code, first.json())
    assert rows(site, "coral:resend-1") == [(TOXIC, "coral")]
    assert not in_queue(site, "coral:resend-1")


def test_coral_edit_is_scored_anew(site: Site) -> None:
    civil = coral_send(site, CIVIL, comment_id="edit-1", story="story-edit")
    assert civil.status_code == 204 and civil.content == b""
    decide(site, "coral:edit-1", "approve")
    assert not in_queue(site, "coral:edit-1")

    edited = coral_send(site, TOXIC, comment_id="edit-1", story="story-edit")
    assert edited.status_code == 200, edited.text
    assert {"actionType": "FLAG", "reason": "COMMENT_DETECTED_TOXIC"} in edited.json()["actions"]
    assert rows(site, "coral:edit-1") == [(CIVIL, "coral"), (TOXIC, "coral")]
    assert in_queue(site, "coral:edit-1"), "an edited comment needs a moderator's look again"


def _legacy_result(site: Site, comment_id: str) -> None:
    """A result as rebut stored it before it kept owners: owner NULL."""
    result = Result(
        comment_id=comment_id,
        article_id=None,
        model_version="before-owners",
        moderation=Moderation(flagged=False, action="approve", attributes={"toxicity": 0.1}),
        claims=[],
        stance=None,
        hints=[],
    )
    with site.sessions() as session:
        save_result(session, result=result, text="An old comment.")
        session.commit()


def test_a_key_cannot_replace_another_writers_result(site: Site) -> None:
    first = "The bridge reopened on Monday."
    assert score(site, "owned-1", first).status_code == 200
    refused = score(site, "owned-1", "The bridge never closed.", key=site.other_key)
    assert_problem(refused, 409, "comment_owned_elsewhere")
    assert rows(site, "owned-1") == [(first, "key:settings")]

    # The key that wrote it may score it again.
    second = "The bridge reopened on Tuesday."
    assert score(site, "owned-1", second).status_code == 200, "its own comment"
    assert rows(site, "owned-1") == [(first, "key:settings"), (second, "key:settings")]

    # Coral's comments are Coral's, even before Coral sends them.
    coral_send(site, CIVIL, comment_id="owned-2", story="story-owned")
    for key in (API_KEY, site.other_key):
        assert_problem(score(site, "coral:owned-2", "Replaced.", key=key), 409)
    assert_problem(score(site, "coral:not-sent-yet", "Taken first.", key=site.other_key), 409)
    assert rows(site, "coral:owned-2") == [(CIVIL, "coral")]
    assert rows(site, "coral:not-sent-yet") == []

    # A result from before owners were kept is anyone's; the next writer then keeps it.
    _legacy_result(site, "legacy-1")
    assert score(site, "legacy-1", "New text.", key=site.other_key).status_code == 200
    assert_problem(score(site, "legacy-1", "Newer text."), 409, "comment_owned_elsewhere")
    assert rows(site, "legacy-1") == [
        ("An old comment.", None),
        ("New text.", f"key:{OTHER_KEY_NAME}"),
    ]


def test_perspective_results_are_kept_per_key(site: Site) -> None:
    text = "Parking on the high street is free after six."
    body: dict[str, Any] = {"comment": {"text": text}, "requestedAttributes": {"TOXICITY": {}}}

    def analyze(key: str, **extra: Any) -> httpx.Response:
        url = f"{site.base_url}{ANALYZE}?key={key}"
        return httpx.post(url, json=body | extra, timeout=60)

    assert analyze(API_KEY).status_code == 200
    # the same text from another key is that key's own comment, under its own id
    assert analyze(site.other_key).status_code == 200
    assert analyze(site.other_key, doNotStore=True).status_code == 200  # writes nothing
    stored = [row for row in _all_rows(site) if row.comment_id.startswith("perspective:")]
    assert sorted(row.owner for row in stored) == sorted(["key:settings", f"key:{OTHER_KEY_NAME}"])
    assert len({row.comment_id for row in stored}) == 2
    assert {row.text for row in stored} == {text}


def _all_rows(site: Site) -> list[CommentScoreRow]:
    with site.sessions() as session:
        return list(session.scalars(select(CommentScoreRow)))


def _event(site: Site, event_id: str) -> dict[str, Any]:
    response = httpx.get(f"{site.base_url}/v1/webhooks/events/{event_id}", headers=AUTH_HEADERS)
    assert response.status_code == 200, response.text
    return response.json()


def test_webhook_and_keys_keep_apart(site: Site) -> None:
    assert score(site, "by-key", "Rates rose again.").status_code == 200
    event = comment_event("evt-by-key", "by-key", "Rates fell.")
    assert post_event(site.base_url, event, HOOK_SECRET).status_code == 202
    failed = wait_for(
        lambda: (e := _event(site, "evt-by-key"))["status"] != "received" and e, "the event"
    )
    assert failed["status"] == "failed", failed
    assert failed["error"]["code"] == "comment_owned_elsewhere", failed
    assert rows(site, "by-key") == [("Rates rose again.", "key:settings")]

    event = comment_event("evt-by-hook", "by-hook", "Turnout was 61 per cent.")
    assert post_event(site.base_url, event, HOOK_SECRET).status_code == 202
    scored = wait_for(
        lambda: (e := _event(site, "evt-by-hook"))["status"] != "received" and e, "the event"
    )
    assert scored["status"] == "scored", scored
    assert_problem(score(site, "by-hook", "Turnout was 16."), 409, "comment_owned_elsewhere")
    assert rows(site, "by-hook") == [("Turnout was 61 per cent.", "webhook")]


def test_coral_and_api_ids_are_stored_apart(site: Site) -> None:
    coral_send(site, "Coral's comment abc.", comment_id="abc", story="story-apart")
    assert score(site, "abc", "The API's comment abc.").status_code == 200
    assert stored_result(site, "abc")["comment_id"] == "abc"
    assert stored_result(site, "coral:abc")["comment_id"] == "coral:abc"
    assert rows(site, "abc") == [("The API's comment abc.", "key:settings")]
    assert rows(site, "coral:abc") == [("Coral's comment abc.", "coral")]

    # A comment Coral sends without an id gets one from story, author and text; a comment
    # whose own id is that same hash is another comment.
    text = "A comment Coral sent without an id."
    digest = hashlib.sha256(f"story-apart\n{CORAL_AUTHOR}\n{text}".encode()).hexdigest()[:32]
    coral_send(site, text, comment_id=None, story="story-apart")
    coral_send(site, text, comment_id=None, story="story-apart")  # resent: stored once
    coral_send(site, "Its id looks like a hash.", comment_id=digest, story="story-apart")
    assert rows(site, f"coral-hash:{digest}") == [(text, "coral")]
    assert rows(site, f"coral:{digest}") == [("Its id looks like a hash.", "coral")]
