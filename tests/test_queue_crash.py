"""Nothing accepted is lost: events answered 202 survive a SIGKILL and are scored exactly
once after the restart, on SQLite and on PostgreSQL.

    .venv/bin/pytest tests/test_queue_crash.py
"""

from __future__ import annotations

from pathlib import Path

import httpx
from conftest import AUTH_HEADERS, run_server
from sqlalchemy import create_engine, text
from webhook_client import comment_event, post_event, wait_for

SECRET = "whsec-crash-test"


def test_accepted_events_are_scored_exactly_once_after_a_kill(
    database_url: str, tmp_path: Path
) -> None:
    article = {"id": "crash-article", "title": "Floods", "body": "The river rose two metres."}
    events = [
        {"id": "crash-0", "type": "article.updated", "data": {"article": article}},
        comment_event("crash-1", "c1", "The river rose two metres.", article_id="crash-article"),
        comment_event("crash-2", "c2", "It rose ten metres, you fools.", article=article),
        comment_event("crash-3", "c3", "Nothing to do with the article."),
        comment_event("crash-4", "c1", "Edit: it rose three metres.", type="comment.updated"),
    ]
    settings = {
        "REBUT_DATABASE_URL": database_url,
        "REBUT_WEBHOOK_SECRETS": SECRET,
        "REBUT_WORKER_POLL_S": "0.2",
    }

    # First life: the worker waits an hour before it takes anything, so every accepted event
    # is still queued when the process is killed.
    with run_server(tmp_path, REBUT_WORKER_START_DELAY_S="3600", **settings) as (url, process):
        for event in events:
            response = post_event(url, event, SECRET)
            assert response.status_code == 202, response.text
        assert post_event(url, events[1], SECRET).json()["duplicate"] is True
        process.kill()  # SIGKILL: no shutdown, no flush, nothing graceful
        process.wait()

    engine = create_engine(database_url)
    with engine.connect() as connection:
        queued = connection.execute(text("SELECT id, status FROM webhook_events")).all()
        assert sorted(queued) == [(e["id"], "received") for e in events]
        assert connection.execute(text("SELECT COUNT(*) FROM comment_scores")).scalar() == 0

    # Second life: a normal start drains the queue.
    with run_server(tmp_path, **settings) as (url, _process):

        def drained() -> bool:
            with engine.connect() as connection:
                statuses = connection.execute(text("SELECT status FROM webhook_events")).scalars()
                # an article.updated event ends `applied`, a comment event `scored`
                return all(status in ("scored", "applied") for status in statuses)

        wait_for(drained, "every accepted event to be scored")
        results = {
            cid: httpx.get(f"{url}/v1/comments/{cid}", headers=AUTH_HEADERS).json()
            for cid in ("c1", "c2", "c3")
        }

    with engine.connect() as connection:
        per_event = dict(
            connection.execute(
                text("SELECT event_id, COUNT(*) FROM comment_scores GROUP BY event_id")
            ).all()
        )
        latest_c1 = connection.execute(
            text("SELECT event_id FROM comment_scores WHERE comment_id = 'c1' ORDER BY id DESC")
        ).first()
    engine.dispose()
    assert per_event == {"crash-1": 1, "crash-2": 1, "crash-3": 1, "crash-4": 1}
    # Queue order held: the update is c1's newest result, and the article event was applied
    # before the comment that names it.
    assert latest_c1 is not None and latest_c1[0] == "crash-4"
    assert results["c1"]["article_id"] is None  # the edit named no article
    assert results["c2"]["article_id"] == "crash-article" and results["c2"]["stance"]
    assert results["c3"]["stance"] is None


def test_two_server_processes_share_the_queue_without_double_scoring(
    database_url: str, tmp_path: Path
) -> None:
    """`rebut serve --workers 2`, or two hosts on one database: each event scored once."""
    settings = {
        "REBUT_DATABASE_URL": database_url,
        "REBUT_WEBHOOK_SECRETS": SECRET,
        "REBUT_WORKER_POLL_S": "0.1",
    }
    events = [comment_event(f"pair-{i}", f"p{i}", f"Comment number {i}.") for i in range(12)]
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with (
        run_server(tmp_path / "a", **settings) as (url_a, _a),
        run_server(tmp_path / "b", **settings) as (url_b, _b),
    ):
        for i, event in enumerate(events):
            response = post_event(url_a if i % 2 else url_b, event, SECRET)
            assert response.status_code == 202, response.text
        engine = create_engine(database_url)

        def drained() -> bool:
            with engine.connect() as connection:
                statuses = connection.execute(text("SELECT status FROM webhook_events")).scalars()
                return sorted(statuses) == ["scored"] * len(events)

        wait_for(drained, "both workers to drain the queue")
    with engine.connect() as connection:
        counts = connection.execute(
            text("SELECT event_id, COUNT(*) FROM comment_scores GROUP BY event_id")
        ).all()
    engine.dispose()
    assert dict(counts) == {e["id"]: 1 for e in events}
