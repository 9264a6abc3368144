"""The store: articles sent to the API and the results served for comments.

SQLite by default (WAL, so readers never wait on the writer); any SQLAlchemy URL works,
PostgreSQL at scale. Tables are made with `create_all` at start-up for now; Alembic
migrations replace that once the schema has a released version to migrate from.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Engine, String, Text, create_engine, event
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from model.article_index import content_hash
from model.result import ArticleIn, Result


class Base(DeclarativeBase):
    pass


class ArticleRow(Base):
    """One article; `content_sha256` lets callers and caches tell an edit from a re-send."""

    __tablename__ = "articles"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    title: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    content_sha256: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CommentResultRow(Base):
    """The latest result for a comment, as the contract's JSON."""

    __tablename__ = "comment_results"

    comment_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    article_id: Mapped[str | None] = mapped_column(String(255), index=True)
    result_json: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # Scoring runs in a thread pool: let a second writer wait instead of failing at once.
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def make_engine(database_url: str) -> Engine:
    """An engine for `database_url`, with the tables created (until Alembic takes over)."""
    is_sqlite = database_url.startswith("sqlite")
    # Handlers run in worker threads, so a pooled SQLite connection crosses threads.
    connect_args = {"check_same_thread": False} if is_sqlite else {}
    engine = create_engine(database_url, connect_args=connect_args)
    if is_sqlite:
        event.listen(engine, "connect", _sqlite_pragmas)
    Base.metadata.create_all(engine)
    return engine


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def _upsert(session: Session, row: type[Base], values: dict[str, Any], **kwargs: Any) -> None:
    """INSERT .. ON CONFLICT DO UPDATE, so two requests for one id cannot both insert."""
    dialect = session.get_bind().dialect.name
    if dialect not in ("sqlite", "postgresql"):
        session.merge(row(**values))
        return
    insert = sqlite_insert if dialect == "sqlite" else postgresql_insert
    statement = insert(row).values(**values)
    (key,) = row.__table__.primary_key.columns.keys()
    updated = {name: statement.excluded[name] for name in values if name != key}
    session.execute(statement.on_conflict_do_update(index_elements=[key], set_=updated, **kwargs))


def upsert_article(session: Session, *, article: ArticleIn) -> str:
    """Store `article`, returning its content hash; a re-send of the same content is a no-op."""
    # The same hash the pipeline's article cache keys on; it covers the title, which the
    # stance model reads.
    digest = content_hash(article.title, article.body)
    values = {
        "id": article.id,
        "title": article.title,
        "body": article.body,
        "content_sha256": digest,
        "updated_at": datetime.now(UTC),
    }
    _upsert(session, ArticleRow, values, where=ArticleRow.content_sha256 != digest)
    return digest


def get_article_row(session: Session, *, article_id: str) -> ArticleRow | None:
    return session.get(ArticleRow, article_id)


def get_article(session: Session, *, article_id: str) -> ArticleIn | None:
    row = session.get(ArticleRow, article_id)
    if row is None:
        return None
    return ArticleIn(id=row.id, title=row.title, body=row.body)


def save_result(session: Session, *, result: Result) -> None:
    """Keep the latest result per comment: a re-scored comment replaces its old one."""
    if result.comment_id is None:
        return
    values = {
        "comment_id": result.comment_id,
        "article_id": result.article_id,
        "result_json": result.model_dump_json(),
        "created_at": datetime.now(UTC),
    }
    _upsert(session, CommentResultRow, values)
