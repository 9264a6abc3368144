"""The store: engine, migrations, and keyword-only functions on a session.

SQLite by default (WAL, so readers never wait on the writer); PostgreSQL through
REBUT_DATABASE_URL (`postgresql+psycopg://user@host/db`). The schema is Alembic's
(serve/migrations/); `migrate()` upgrades a database to the newest revision, and the
server runs it at start-up.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, exists, func, inspect, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from model.article_index import content_hash
from model.errors import CommentOwnedElsewhere
from model.result import ArticleIn, Result
from serve.integrations.coral import moderation as coral
from serve.tables import (
    ArticleRow,
    ArticleVersionRow,
    Base,
    CommentScoreRow,
    FeedbackRow,
)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# The revision whose schema rebut 0.1.0 made with create_all, before Alembic.
PRE_ALEMBIC_REVISION = "0001"


def now() -> datetime:
    return datetime.now(UTC)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # Scoring runs in a thread pool and a worker thread: a second writer waits instead of
    # failing at once.
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(database_url: str) -> Engine:
    """An engine for `database_url` (run `migrate` before using it on a new database)."""
    is_sqlite = database_url.startswith("sqlite")
    # Handlers run in worker threads, so a pooled SQLite connection crosses threads.
    connect_args = {"check_same_thread": False} if is_sqlite else {}
    # hide_parameters: an error's message would otherwise quote them, comment text included
    engine = create_engine(
        database_url,
        connect_args=connect_args,
        pool_pre_ping=not is_sqlite,
        hide_parameters=True,
    )
    if is_sqlite:
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def alembic_config() -> Config:
    config = Config(str(MIGRATIONS_DIR / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the database to `revision`. A database that rebut 0.1.0 made (tables, no
    alembic_version) is first stamped at the revision that matches it, so its rows stay."""
    config = alembic_config()
    with engine.begin() as connection:
        tables = set(inspect(connection).get_table_names())
        config.attributes["connection"] = connection
        if "articles" in tables and "alembic_version" not in tables:
            command.stamp(config, PRE_ALEMBIC_REVISION)
        command.upgrade(config, revision)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def ping(session: Session) -> None:
    """Raise if the database cannot be reached."""
    session.execute(select(1))


# -- articles ---------------------------------------------------------------------------


def _upsert(session: Session, row: type[Base], values: dict[str, Any], **kwargs: Any) -> None:
    """INSERT .. ON CONFLICT DO UPDATE, so two requests for one id cannot both insert."""
    dialect = session.get_bind().dialect.name
    insert = sqlite_insert if dialect == "sqlite" else postgresql_insert
    statement = insert(row).values(**values)
    keys = list(row.__table__.primary_key.columns.keys())
    updated = {name: statement.excluded[name] for name in values if name not in keys}
    session.execute(statement.on_conflict_do_update(index_elements=keys, set_=updated, **kwargs))


def _insert_ignore(session: Session, row: type[Base], values: dict[str, Any]) -> None:
    dialect = session.get_bind().dialect.name
    insert = sqlite_insert if dialect == "sqlite" else postgresql_insert
    session.execute(insert(row).values(**values).on_conflict_do_nothing())


def _article_values(article: ArticleIn) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """The content hash, the `articles` row and the `article_versions` row for `article`."""
    # The same hash the pipeline's article cache keys on; it covers the title, which the
    # stance model reads.
    digest = content_hash(article.title, article.body)
    stamp = now()
    current = {
        "id": article.id,
        "title": article.title,
        "body": article.body,
        "content_sha256": digest,
        "updated_at": stamp,
    }
    version = {
        "article_id": article.id,
        "content_sha256": digest,
        "title": article.title,
        "body": article.body,
        "created_at": stamp,
    }
    return digest, current, version


def upsert_article(session: Session, *, article: ArticleIn) -> str:
    """Store `article` and its version, returning its content hash; a re-send of the same
    content is a no-op."""
    digest, current, version = _article_values(article)
    _upsert(session, ArticleRow, current, where=ArticleRow.content_sha256 != digest)
    _insert_ignore(session, ArticleVersionRow, version)
    return digest


def keep_article_version(session: Session, *, article: ArticleIn) -> str:
    """Keep `article` as a version of its id, returning its content hash, without replacing
    the stored article: a text sent along with one comment (a draft, a quote, a stale copy)
    must not change what later comments are checked against. Only an id with no stored
    article yet takes it as its current one."""
    digest, current, version = _article_values(article)
    # DO NOTHING on the primary key: two first sends racing cannot both insert
    _insert_ignore(session, ArticleRow, current)
    _insert_ignore(session, ArticleVersionRow, version)
    return digest


def get_article_row(session: Session, *, article_id: str) -> ArticleRow | None:
    return session.get(ArticleRow, article_id)


def get_article(session: Session, *, article_id: str) -> ArticleIn | None:
    row = session.get(ArticleRow, article_id)
    if row is None:
        return None
    return ArticleIn(id=row.id, title=row.title, body=row.body)


def article_versions(session: Session, *, article_id: str) -> Sequence[ArticleVersionRow]:
    query = select(ArticleVersionRow).where(ArticleVersionRow.article_id == article_id)
    return session.scalars(query.order_by(ArticleVersionRow.created_at)).all()


# -- results ----------------------------------------------------------------------------


def save_result(
    session: Session,
    *,
    result: Result,
    text: str | None,
    article: ArticleIn | None = None,
    event_id: str | None = None,
    owner: str | None = None,
) -> CommentScoreRow | None:
    """Add one scoring of a comment (`text` is what was scored); the newest row is the
    comment's current result. `owner` names who wrote it (tables.CommentScoreRow); a comment
    another owner holds is refused (check_owner), though writers check before scoring too."""
    if result.comment_id is None:
        return None
    if owner is not None:
        check_owner(session, comment_id=result.comment_id, owner=owner)
    digest = content_hash(article.title, article.body) if article else None
    # The stored result names the version it was scored against, whichever writer stored it.
    result = result.model_copy(update={"article_sha256": digest})
    row = CommentScoreRow(
        comment_id=result.comment_id,
        article_id=result.article_id,
        article_sha256=digest,
        event_id=event_id,
        text=text,
        owner=owner,
        model_version=result.model_version,
        result_json=result.model_dump_json(),
        created_at=now(),
    )
    session.add(row)
    session.flush()
    return row


def latest_score(session: Session, *, comment_id: str) -> CommentScoreRow | None:
    query = select(CommentScoreRow).where(CommentScoreRow.comment_id == comment_id)
    return session.scalars(query.order_by(CommentScoreRow.id.desc()).limit(1)).first()


def check_owner(session: Session, *, comment_id: str, owner: str) -> CommentScoreRow | None:
    """Raise CommentOwnedElsewhere unless `owner` may write a result for `comment_id`: the
    comment's newest result is its own, was stored before owners were kept (owner NULL), or
    does not exist. Coral's ids are Coral's even before it sends them, so that no key can
    take one first. Returns the newest result, which callers often want next."""
    if comment_id.startswith(coral.ID_PREFIXES) and owner != coral.OWNER:
        raise CommentOwnedElsewhere(
            f"Comment ids starting with {' or '.join(coral.ID_PREFIXES)} are Coral's"
        )
    newest = latest_score(session, comment_id=comment_id)
    if newest is not None and newest.owner not in (None, owner):
        raise CommentOwnedElsewhere(
            f"Comment {comment_id!r} has a result another writer stored; "
            "only that writer can score it again"
        )
    return newest


def newest_scores(
    session: Session, *, article_id: str | None = None, undecided: bool = False
) -> Sequence[CommentScoreRow]:
    """Each comment's newest scoring, newest first; with `undecided`, only those no moderator
    has decided on (the moderator's queue: a re-scored comment comes back to it)."""
    newest = select(func.max(CommentScoreRow.id)).group_by(CommentScoreRow.comment_id)
    query = select(CommentScoreRow).where(CommentScoreRow.id.in_(newest))
    if article_id is not None:
        query = query.where(CommentScoreRow.article_id == article_id)
    if undecided:
        query = query.where(~exists().where(FeedbackRow.score_id == CommentScoreRow.id))
    return session.scalars(query.order_by(CommentScoreRow.id.desc())).all()


def decisions_for(session: Session, *, score_ids: Sequence[int]) -> dict[int, str]:
    """The newest decision on each of these scorings that has one."""
    query = (
        select(FeedbackRow.score_id, FeedbackRow.decision)
        .where(FeedbackRow.score_id.in_(score_ids))
        .order_by(FeedbackRow.id)
    )
    return {score_id: decision for score_id, decision in session.execute(query).tuples()}


def count_scores(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(CommentScoreRow)) or 0


# -- feedback ---------------------------------------------------------------------------


def add_feedback(
    session: Session,
    *,
    comment_id: str,
    score_id: int | None,
    decision: str,
    hints: list[dict[str, Any]],
    note: str | None,
    key_name: str | None,
) -> FeedbackRow:
    row = FeedbackRow(
        comment_id=comment_id,
        score_id=score_id,
        decision=decision,
        hints_json=json.dumps(hints),
        note=note,
        key_name=key_name,
        created_at=now(),
    )
    session.add(row)
    session.flush()
    return row


def feedback_with_scores(
    session: Session,
) -> Iterator[tuple[FeedbackRow, CommentScoreRow | None]]:
    """Every feedback row with the scoring it judged, oldest first, streamed."""
    query = (
        select(FeedbackRow, CommentScoreRow)
        .outerjoin(CommentScoreRow, FeedbackRow.score_id == CommentScoreRow.id)
        .order_by(FeedbackRow.id)
        .execution_options(yield_per=500)
    )
    yield from session.execute(query).tuples()
