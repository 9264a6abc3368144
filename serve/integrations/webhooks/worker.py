"""The worker: a thread in the server process that scores queued webhook events and
delivers their results to the CMS's callback URL.

No broker: the events table is the queue. Scoring an event and storing its result happen
in one transaction, and a result row is unique per event id, so an event is scored exactly
once however often the process dies in between (a killed transaction leaves the event
`received`, and the next start scores it). On PostgreSQL, `FOR UPDATE SKIP LOCKED` lets
several server processes share the queue. Callbacks are delivered at least once: a
receiver should deduplicate on the event id it gets.
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from model.errors import InputError
from model.pipeline import Pipeline
from model.result import ArticleIn, CommentIn, Hint
from serve.config import Settings
from serve.integrations.signatures import REBUT_HEADER, sign
from serve.integrations.webhooks.events import EventStatus, WebhookEvent
from serve.logs import describe_store_error
from serve.store import check_owner, get_article, now, save_result, upsert_article
from serve.tables import CommentScoreRow, WebhookEventRow

log = logging.getLogger("rebut.worker")

MAX_BACKOFF_S = 3600.0
# A claimed callback is not retried by another worker for this long past its timeout.
CALLBACK_LEASE_S = 30.0


class Worker:
    """Args:
    sessions: the store's sessionmaker.
    pipeline: the loaded model, shared with the request handlers.
    settings: poll interval, start delay, callback URL, secrets and retry policy.
    """

    def __init__(
        self, *, sessions: sessionmaker[Session], pipeline: Pipeline, settings: Settings
    ) -> None:
        self.sessions = sessions
        self.pipeline = pipeline
        self.settings = settings
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._http: httpx.Client | None = None

    # -- life cycle -------------------------------------------------------------------

    def start(self) -> None:
        self._http = httpx.Client(timeout=self.settings.callback_timeout_s)
        self._thread = threading.Thread(target=self._run, name="rebut-worker", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        if self._http is not None:
            self._http.close()

    def wake(self) -> None:
        """Called after an event is committed, so it need not wait for the next poll."""
        self._wake.set()

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        if self._stop.wait(self.settings.worker_start_delay_s):
            return
        while not self._stop.is_set():
            try:
                busy = self.step()
            except Exception:  # a bad moment of the database must not end the thread
                log.exception("worker step failed")
                busy = False
            if not busy:
                self._wake.wait(self.settings.worker_poll_s)
                self._wake.clear()

    def step(self) -> bool:
        """Score one event and deliver one callback; True when there was work."""
        scored = self.score_next()
        delivered = self.deliver_next()
        return scored or delivered

    # -- scoring ----------------------------------------------------------------------

    def score_next(self) -> bool:
        with self.sessions() as session:
            query = (
                select(WebhookEventRow)
                .where(WebhookEventRow.status == "received")
                .order_by(WebhookEventRow.seq)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            row = session.scalars(query).first()
            if row is None:
                return False
            event_id = row.id
            try:
                # Inside the try: a row this version cannot read must fail, not block the queue.
                event = WebhookEvent.model_validate_json(row.payload_json)
                row.status = self._apply(session, event)
            except SQLAlchemyError as exc:
                # The store refused the result, or was not there. Retried, but only so often:
                # an event the store can never hold must not block every event behind it.
                session.rollback()
                self._store_refused(event_id, exc)
                return True
            except InputError as exc:
                row.status = "failed"
                row.error = json.dumps({"code": exc.code, "message": exc.message})
            except Exception as exc:
                # The model failed on this input: keep it out of the queue, with the reason.
                log.exception("scoring event %s failed", row.id)
                row.status = "failed"
                row.error = json.dumps({"code": "internal_error", "message": repr(exc)})
            self._finish(row)
            session.commit()
            log.info("event %s %s: %s", row.id, row.type, row.status)
            return True

    def _finish(self, row: WebhookEventRow) -> None:
        if self.settings.callback_url and row.type != "article.updated":
            row.callback_due_at = now()
        row.updated_at = now()

    def _store_refused(self, event_id: str, exc: SQLAlchemyError) -> None:
        """Count a try the store refused; after `score_max_attempts` the event fails.

        A store that cannot be reached cannot count the try either: this raises, and the
        event waits, uncounted, for the store to come back. Only the error's class goes in
        the reason and the log: its message can quote the SQL parameters, comment text
        included."""
        reason = describe_store_error(exc)
        with self.sessions() as session:
            row = session.scalars(
                select(WebhookEventRow).where(WebhookEventRow.id == event_id).with_for_update()
            ).one()
            stored = select(CommentScoreRow.id).where(CommentScoreRow.event_id == row.id)
            if row.status != "received" or session.scalar(stored):
                # Another process stored this event's result first (SQLite has no SKIP
                # LOCKED): the unique event id kept it to one; nothing is left to do here.
                return
            row.attempts += 1
            if row.attempts >= self.settings.score_max_attempts:
                row.status = "failed"
                row.error = json.dumps(
                    {"code": "store_refused", "message": f"{row.attempts} tries; last: {reason}"}
                )
                self._finish(row)
                log.warning("event %s failed after %d tries: %s", row.id, row.attempts, reason)
            else:
                row.updated_at = now()
                log.warning(
                    "event %s: try %d refused by the store: %s", row.id, row.attempts, reason
                )
            session.commit()

    def _apply(self, session: Session, event: WebhookEvent) -> EventStatus:
        """Store the event's article and score its comment; the event's status after."""
        if event.data.comment is not None:  # refused before anything is stored or scored
            check_owner(session, comment_id=event.data.comment.id, owner="webhook")
        article: ArticleIn | None = event.data.article
        if article is not None:
            self.pipeline.validate_article(article)
            upsert_article(session, article=article)
        if event.type == "article.updated":
            self.pipeline.index_article(article)  # type: ignore[arg-type]
            return "applied"  # nothing was scored, and no callback is owed
        comment: CommentIn = event.data.comment  # type: ignore[assignment]
        unknown = False
        if article is None and comment.article_id is not None:
            article = get_article(session, article_id=comment.article_id)
            # The comment still needs moderating: a CMS may send it before its article, and
            # failing it would leave it unmoderated. The hint says why claims went unchecked.
            unknown = article is None
        result = self.pipeline.score(comment, article)
        if unknown:
            message = f"Not fact-checked: no article with id {comment.article_id!r} is stored."
            hint = Hint(type="article_unknown", message=message)
            result = result.model_copy(update={"hints": [*result.hints, hint]})
        save_result(
            session,
            result=result,
            text=comment.text,
            article=article,
            event_id=event.id,
            owner="webhook",
        )
        return "scored"

    # -- callbacks --------------------------------------------------------------------

    def deliver_next(self) -> bool:
        url = self.settings.callback_url
        if not url:
            return False
        with self.sessions() as session:
            query = (
                select(WebhookEventRow)
                .where(WebhookEventRow.callback_due_at <= now())
                .order_by(WebhookEventRow.callback_due_at)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            row = session.scalars(query).first()
            if row is None:
                return False
            # Claim it, so no other worker posts it while this one waits on the CMS.
            row.callback_attempts += 1
            attempt = row.callback_attempts
            lease = self.settings.callback_timeout_s + CALLBACK_LEASE_S
            row.callback_due_at = now() + timedelta(seconds=lease)
            body = json.dumps(self._callback_body(session, row)).encode()
            event_id = row.id
            session.commit()

        error = self._post(url, body)

        with self.sessions() as session:
            row = session.scalars(
                select(WebhookEventRow).where(WebhookEventRow.id == event_id)
            ).one()
            if error is None:
                row.callback_due_at = None
            elif attempt >= self.settings.callback_max_attempts:
                row.callback_due_at = None
                row.status = "dead"
                row.error = json.dumps(
                    {"code": "callback_failed", "message": f"{attempt} tries; last: {error}"}
                )
                log.warning("event %s dead-lettered after %d callback tries", event_id, attempt)
            else:
                delay = min(MAX_BACKOFF_S, self.settings.callback_backoff_s * 2 ** (attempt - 1))
                row.callback_due_at = now() + timedelta(seconds=delay)
                log.info("callback for %s failed (%s); retry in %.1f s", event_id, error, delay)
            row.updated_at = now()
            session.commit()
        return True

    def _callback_body(self, session: Session, row: WebhookEventRow) -> dict[str, Any]:
        score = session.scalars(
            select(CommentScoreRow).where(CommentScoreRow.event_id == row.id)
        ).first()
        return {
            "event_id": row.id,
            "type": row.type,
            "status": row.status,
            "comment_id": row.comment_id,
            "result": json.loads(score.result_json) if score else None,
            "error": json.loads(row.error) if row.error else None,
        }

    def _post(self, url: str, body: bytes) -> str | None:
        """POST a signed callback; None on a 2xx, else what went wrong."""
        assert self._http is not None
        headers = {"Content-Type": "application/json"}
        if self.settings.webhook_secrets:
            headers[REBUT_HEADER] = sign(self.settings.webhook_secrets[0], body)
        try:
            response = self._http.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}"
        if response.is_success:
            return None
        return f"HTTP {response.status_code}"
