"""The store's tables. The schema itself is made and changed by the Alembic migrations in
serve/migrations/versions/; these classes must match the newest one (a test compares them).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# BIGINT on PostgreSQL, but INTEGER on SQLite: only an "INTEGER PRIMARY KEY" autoincrements there.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    pass


class ArticleRow(Base):
    """An article's current version; `content_sha256` tells an edit from a re-send."""

    __tablename__ = "articles"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    title: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    content_sha256: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ArticleVersionRow(Base):
    """Every distinct version of an article, so a result can name the text it was scored on."""

    __tablename__ = "article_versions"

    article_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    content_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CommentScoreRow(Base):
    """One scoring of a comment, as the contract's JSON. A re-scored comment gets a new row;
    the newest is its current result. `event_id` is unique: a webhook event is scored at
    most once, whatever crashes in between."""

    __tablename__ = "comment_scores"
    __table_args__ = (Index("ix_comment_scores_comment_id_id", "comment_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    comment_id: Mapped[str] = mapped_column(String(255))
    article_id: Mapped[str | None] = mapped_column(String(255), index=True)
    article_sha256: Mapped[str | None] = mapped_column(String(64))
    event_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    # The text scored: moderator feedback is exported with it, for training. Perspective
    # requests with doNotStore leave no row at all.
    text: Mapped[str | None] = mapped_column(Text)
    # Who wrote this result: "key:<name>", "webhook" or "coral" (None: before owners were
    # kept). A comment's results are written by one owner only.
    owner: Mapped[str | None] = mapped_column(String(255))
    model_version: Mapped[str] = mapped_column(String(64))
    result_json: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class WebhookEventRow(Base):
    """A CMS event, committed before the webhook is answered 202: the durable queue.

    status: received (waiting for the worker) -> scored (result stored; callback, if any,
    delivered or still being tried) | applied (an article event, its article stored) |
    failed (the event cannot be scored: `error` says why) | dead (scored, but the callback
    failed on every try).
    """

    __tablename__ = "webhook_events"
    __table_args__ = (Index("ix_webhook_events_status_seq", "status", "seq"),)

    # `seq` orders the queue: an article.updated is applied before the comments after it.
    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(255), unique=True)
    type: Mapped[str] = mapped_column(String(64))
    payload_sha256: Mapped[str] = mapped_column(String(64))
    payload_json: Mapped[str] = mapped_column(Text)
    comment_id: Mapped[str | None] = mapped_column(String(255), index=True)
    status: Mapped[str] = mapped_column(String(16), default="received")
    error: Mapped[str | None] = mapped_column(Text)
    # The worker's tries at scoring it: one that can never succeed fails after a few.
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    callback_attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Set while a callback is owed; cleared when it is delivered or given up.
    callback_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class FeedbackRow(Base):
    """A moderator's decision on a scored comment, and which hints helped."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    comment_id: Mapped[str] = mapped_column(String(255), index=True)
    score_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("comment_scores.id", ondelete="SET NULL")
    )
    decision: Mapped[str] = mapped_column(String(16))
    hints_json: Mapped[str] = mapped_column(Text)  # [{"hint": i, "verdict": "useful"|"wrong"}]
    note: Mapped[str | None] = mapped_column(Text)
    key_name: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ApiKeyRow(Base):
    """An API key, kept only as its SHA-256: a leaked database gives no usable key."""

    __tablename__ = "api_keys"
    __table_args__ = (UniqueConstraint("name"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(255))
    key_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))  # the key's start, to tell keys apart
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
