"""The CMS webhook's events and their queue in the store.

An event is committed (status `received`) before the webhook is answered 202, and the
worker (worker.py) takes it from there. Event ids make deliveries idempotent: the same
event sent twice is stored once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, model_validator
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from model.result import ArticleIn, CommentIn, Id
from serve.store import now
from serve.tables import WebhookEventRow

EventType = Literal["comment.created", "comment.updated", "article.updated"]
# `applied`: an article.updated event, stored and indexed (it has no result to score or
# call back); `scored`: a comment event's result is stored.
EventStatus = Literal["received", "scored", "applied", "failed", "dead"]


# What a comment event carries: the comment, and its article inline or by comment.article_id.
class EventData(BaseModel):
    comment: CommentIn | None = None
    article: ArticleIn | None = None


# A CMS event as the webhook receives it.
class WebhookEvent(BaseModel):
    id: Id
    type: EventType
    created: int | None = None  # the sender's unix time, kept as sent
    data: EventData

    @model_validator(mode="after")
    def _needs_its_object(self) -> WebhookEvent:
        if self.type == "article.updated" and self.data.article is None:
            raise ValueError("an article.updated event needs data.article")
        if self.type != "article.updated" and self.data.comment is None:
            raise ValueError(f"a {self.type} event needs data.comment")
        comment, article = self.data.comment, self.data.article
        if comment and article and comment.article_id not in (None, article.id):
            raise ValueError("data.comment.article_id differs from data.article.id")
        return self


# How the webhook and GET /v1/webhooks/events/{id} describe a stored event.
class EventPublic(BaseModel):
    id: str
    type: str
    status: EventStatus
    comment_id: str | None
    error: dict[str, Any] | None
    callback_attempts: int
    received_at: datetime
    updated_at: datetime


def to_public(row: WebhookEventRow) -> EventPublic:
    return EventPublic(
        id=row.id,
        type=row.type,
        status=row.status,  # type: ignore[arg-type]
        comment_id=row.comment_id,
        error=json.loads(row.error) if row.error else None,
        callback_attempts=row.callback_attempts,
        received_at=row.received_at,
        updated_at=row.updated_at,
    )


@dataclass(frozen=True)
class Enqueued:
    row: WebhookEventRow
    created: bool  # False: this id was stored before (a redelivery)
    same_payload: bool


def enqueue(session: Session, *, event: WebhookEvent) -> Enqueued:
    """Store `event` as `received`, unless its id is stored already (then say whether the
    stored one has the same body). The caller commits."""
    payload = event.model_dump_json()
    digest = hashlib.sha256(payload.encode()).hexdigest()
    stamp = now()
    values = {
        "id": event.id,
        "type": event.type,
        "payload_sha256": digest,
        "payload_json": payload,
        "comment_id": event.data.comment.id if event.data.comment else None,
        "status": "received",
        "callback_attempts": 0,
        "received_at": stamp,
        "updated_at": stamp,
    }
    insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else postgresql_insert
    # ON CONFLICT DO NOTHING: two deliveries racing for one id cannot both insert. RETURNING
    # says whether this one did (rowcount is not reliable here across drivers).
    statement = (
        insert(WebhookEventRow)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["id"])
        .returning(WebhookEventRow.seq)
    )
    inserted = session.execute(statement).first() is not None
    row = session.scalars(select(WebhookEventRow).where(WebhookEventRow.id == event.id)).one()
    return Enqueued(row=row, created=inserted, same_payload=row.payload_sha256 == digest)


def get_event(session: Session, *, event_id: str) -> WebhookEventRow | None:
    return session.scalars(select(WebhookEventRow).where(WebhookEventRow.id == event_id)).first()


def queue_depth(session: Session) -> dict[str, int]:
    """Events per status, for /metrics and /readyz."""
    query = select(WebhookEventRow.status, func.count()).group_by(WebhookEventRow.status)
    return {status: count for status, count in session.execute(query).all()}


def oldest_waiting_s(session: Session) -> float:
    """Seconds the oldest `received` event has waited (0 with none): a queue that does not
    drain shows here, however few events it holds."""
    oldest = session.scalar(
        select(func.min(WebhookEventRow.received_at)).where(WebhookEventRow.status == "received")
    )
    if oldest is None:
        return 0.0
    if oldest.tzinfo is None:  # SQLite gives back naive datetimes
        oldest = oldest.replace(tzinfo=UTC)
    return max(0.0, (now() - oldest).total_seconds())


def events_for_comment(session: Session, *, comment_id: str) -> Sequence[WebhookEventRow]:
    query = select(WebhookEventRow).where(WebhookEventRow.comment_id == comment_id)
    return session.scalars(query.order_by(WebhookEventRow.seq)).all()
