"""The store on real SQLite and real PostgreSQL (a scratch database each test, conftest.py).

.venv/bin/pytest tests/test_store.py
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.exc import IntegrityError

from model.errors import CommentOwnedElsewhere
from model.result import ArticleIn, Moderation, Result
from serve.store import (
    alembic_config,
    article_versions,
    check_owner,
    get_article,
    latest_score,
    make_engine,
    make_sessionmaker,
    migrate,
    save_result,
    upsert_article,
)
from serve.tables import Base, CommentScoreRow


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def _result(comment_id: str, article_id: str | None = None, toxicity: float = 0.1) -> Result:
    return Result(
        comment_id=comment_id,
        article_id=article_id,
        model_version="test",
        moderation=Moderation(flagged=False, action="approve", attributes={"toxicity": toxicity}),
        claims=[],
        stance=None,
        hints=[],
    )


def test_migrations_build_the_schema_the_tables_declare(engine: Engine) -> None:
    migrate(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == [], f"serve/tables.py and the migrations disagree: {diff}"


def test_migrate_twice_changes_nothing(engine: Engine) -> None:
    migrate(engine)
    sessions = make_sessionmaker(engine)
    with sessions() as session:
        upsert_article(session, article=ArticleIn(id="a", body="Rain in Leeds."))
        session.commit()
    migrate(engine)
    with sessions() as session:
        assert get_article(session, article_id="a") is not None
    with engine.connect() as connection:
        version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    assert version == "0003"


def test_a_database_from_before_alembic_keeps_its_rows(engine: Engine) -> None:
    """rebut 0.1.0 made its tables with create_all and had no alembic_version."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
        connection.execute(text("DROP TABLE alembic_version"))
        connection.execute(
            text(
                "INSERT INTO articles (id, title, body, content_sha256, updated_at) "
                "VALUES ('old', 'Old', 'An old body.', :h, CURRENT_TIMESTAMP)"
            ),
            {"h": "0" * 64},
        )
        connection.execute(
            text(
                "INSERT INTO comment_results (comment_id, article_id, result_json, created_at) "
                "VALUES ('c-old', 'old', :j, CURRENT_TIMESTAMP)"
            ),
            {"j": _result("c-old", "old").model_dump_json()},
        )

    migrate(engine)

    assert "comment_results" not in inspect(engine).get_table_names()
    with make_sessionmaker(engine)() as session:
        score = latest_score(session, comment_id="c-old")
        assert score is not None and score.article_id == "old"
        assert Result.model_validate_json(score.result_json).comment_id == "c-old"
        versions = article_versions(session, article_id="old")
        assert [(v.title, v.body) for v in versions] == [("Old", "An old body.")]


def test_downgrade_to_the_first_schema_keeps_the_latest_results(engine: Engine) -> None:
    migrate(engine)
    with make_sessionmaker(engine)() as session:
        save_result(session, result=_result("c", toxicity=0.1), text="t")
        save_result(session, result=_result("c", toxicity=0.9), text="t")
        session.commit()
    migrate_to = alembic_config()
    with engine.begin() as connection:
        migrate_to.attributes["connection"] = connection
        command.downgrade(migrate_to, "0001")
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT result_json FROM comment_results")).all()
    assert [Result.model_validate_json(r[0]).moderation.attributes["toxicity"] for r in rows] == [
        0.9
    ]
    migrate(engine)  # and back up


def test_articles_keep_a_version_per_content_hash(engine: Engine) -> None:
    migrate(engine)
    sessions = make_sessionmaker(engine)
    with sessions() as session:
        first = upsert_article(session, article=ArticleIn(id="a", title="Rain", body="Wet."))
        again = upsert_article(session, article=ArticleIn(id="a", title="Rain", body="Wet."))
        edited = upsert_article(session, article=ArticleIn(id="a", title="Floods", body="Wet."))
        session.commit()
    assert first == again != edited
    with sessions() as session:
        versions = article_versions(session, article_id="a")
        assert [v.content_sha256 for v in versions] == [first, edited]
        current = get_article(session, article_id="a")
        assert current is not None and current.title == "Floods"


def test_results_keep_history_and_the_newest_is_current(engine: Engine) -> None:
    migrate(engine)
    sessions = make_sessionmaker(engine)
    article = ArticleIn(id="a", body="Body.")
    with sessions() as session:
        upsert_article(session, article=article)
        save_result(session, result=_result("c", "a", 0.2), text="t", article=article)
        save_result(session, result=_result("c", "a", 0.7), text="t", article=article)
        session.commit()
    with sessions() as session:
        latest = latest_score(session, comment_id="c")
        assert latest is not None and latest.article_sha256 is not None
        assert Result.model_validate_json(latest.result_json).moderation.attributes == {
            "toxicity": 0.7
        }
        assert len(session.scalars(select(CommentScoreRow)).all()) == 2


def test_an_event_is_scored_at_most_once(engine: Engine) -> None:
    """The queue's guarantee rests on this constraint: a second result for one event fails."""
    migrate(engine)
    sessions = make_sessionmaker(engine)
    with sessions() as session:
        save_result(session, result=_result("c"), text="t", event_id="evt-1")
        session.commit()
    with sessions() as session, pytest.raises(IntegrityError):
        save_result(session, result=_result("c"), text="t", event_id="evt-1")


def test_a_comment_is_written_by_its_owner_only(engine: Engine) -> None:
    migrate(engine)
    sessions = make_sessionmaker(engine)
    with sessions() as session:
        save_result(session, result=_result("old"), text="t")  # before owners were kept
        save_result(session, result=_result("c"), text="t", owner="key:a")
        session.commit()
    with sessions() as session:
        assert check_owner(session, comment_id="new", owner="key:b") is None
        assert check_owner(session, comment_id="old", owner="key:b") is not None
        newest = check_owner(session, comment_id="c", owner="key:a")
        assert newest is not None and newest.owner == "key:a"
        for writer in ("key:b", "webhook", "coral"):
            with pytest.raises(CommentOwnedElsewhere):
                check_owner(session, comment_id="c", owner=writer)
        # save_result itself refuses too: a check before scoring cannot be skipped by a race
        with pytest.raises(CommentOwnedElsewhere):
            save_result(session, result=_result("c"), text="t2", owner="key:b")
        # Coral's id forms are Coral's before any row exists; a look-alike id is not
        for reserved in ("coral:x", "coral-hash:0f"):
            with pytest.raises(CommentOwnedElsewhere):
                check_owner(session, comment_id=reserved, owner="key:a")
            assert check_owner(session, comment_id=reserved, owner="coral") is None
        assert check_owner(session, comment_id="coralreef-1", owner="key:a") is None
        session.rollback()
    with sessions() as session:
        owners = session.scalars(select(CommentScoreRow.owner).order_by(CommentScoreRow.id))
        assert owners.all() == [None, "key:a"]


def test_database_url_from_rebut_or_platform_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    from serve.config import Settings

    monkeypatch.delenv("REBUT_DATABASE_URL", raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgres://app:pw@db.internal:5432/rebut")
    assert Settings(_env_file=None).database_url == (
        "postgresql+psycopg://app:pw@db.internal:5432/rebut"
    )
    monkeypatch.setenv("REBUT_DATABASE_URL", "sqlite:///./mine.db")
    assert Settings(_env_file=None).database_url == "sqlite:///./mine.db"


def test_callbacks_need_a_signing_secret_and_secrets_a_length(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pydantic import ValidationError

    from serve.config import Settings

    monkeypatch.setenv("REBUT_CALLBACK_URL", "https://cms.example/hook")
    monkeypatch.delenv("REBUT_WEBHOOK_SECRETS", raising=False)
    with pytest.raises(ValidationError, match="REBUT_WEBHOOK_SECRETS"):
        Settings(_env_file=None)
    monkeypatch.setenv("REBUT_WEBHOOK_SECRETS", "s1,s2")
    with pytest.raises(ValidationError, match="at least 16 characters"):
        Settings(_env_file=None)
    monkeypatch.setenv("REBUT_WEBHOOK_SECRETS", " whsec-new-0123456789 , whsec-old-0123456789")
    assert Settings(_env_file=None).webhook_secrets == [
        "whsec-new-0123456789",
        "whsec-old-0123456789",
    ]
