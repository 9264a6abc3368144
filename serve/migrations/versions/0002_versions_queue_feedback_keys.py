"""Article versions, a scoring history, the webhook queue, moderator feedback, API keys.

comment_results (latest result per comment) becomes comment_scores (one row per scoring,
unique per webhook event); its rows are copied over. Each stored article gets its current
version in article_versions.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# BIGINT on PostgreSQL; SQLite autoincrements only an INTEGER PRIMARY KEY.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "article_versions",
        sa.Column("article_id", sa.String(255), primary_key=True),
        sa.Column("content_sha256", sa.String(64), primary_key=True),
        sa.Column("title", sa.Text()),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.execute(
        "INSERT INTO article_versions (article_id, content_sha256, title, body, created_at) "
        "SELECT id, content_sha256, title, body, updated_at FROM articles"
    )

    op.create_table(
        "comment_scores",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("comment_id", sa.String(255), nullable=False),
        sa.Column("article_id", sa.String(255)),
        sa.Column("article_sha256", sa.String(64)),
        sa.Column("event_id", sa.String(255), unique=True),
        sa.Column("text", sa.Text()),
        sa.Column("model_version", sa.String(64), nullable=False),
        sa.Column("result_json", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_comment_scores_article_id", "comment_scores", ["article_id"])
    op.create_index("ix_comment_scores_comment_id_id", "comment_scores", ["comment_id", "id"])
    # The old rows did not record their model version apart from the JSON: "unknown".
    op.execute(
        "INSERT INTO comment_scores (comment_id, article_id, model_version, result_json, "
        "created_at) SELECT comment_id, article_id, 'unknown', result_json, created_at "
        "FROM comment_results ORDER BY created_at"
    )
    op.drop_index("ix_comment_results_article_id", table_name="comment_results")
    op.drop_table("comment_results")

    op.create_table(
        "webhook_events",
        sa.Column("seq", BigId, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(255), nullable=False, unique=True),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("payload_sha256", sa.String(64), nullable=False),
        sa.Column("payload_json", sa.Text(), nullable=False),
        sa.Column("comment_id", sa.String(255)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error", sa.Text()),
        sa.Column("callback_attempts", sa.Integer(), nullable=False),
        sa.Column("callback_due_at", sa.DateTime(timezone=True)),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_webhook_events_status_seq", "webhook_events", ["status", "seq"])
    op.create_index("ix_webhook_events_comment_id", "webhook_events", ["comment_id"])

    op.create_table(
        "feedback",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("comment_id", sa.String(255), nullable=False),
        sa.Column("score_id", BigId, sa.ForeignKey("comment_scores.id", ondelete="SET NULL")),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("hints_json", sa.Text(), nullable=False),
        sa.Column("note", sa.Text()),
        sa.Column("key_name", sa.String(255)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_feedback_comment_id", "feedback", ["comment_id"])

    op.create_table(
        "api_keys",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(255), nullable=False, unique=True),
        sa.Column("key_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
    )


def downgrade() -> None:
    op.drop_table("api_keys")
    op.drop_table("feedback")
    op.drop_table("webhook_events")
    op.create_table(
        "comment_results",
        sa.Column("comment_id", sa.String(255), primary_key=True),
        sa.Column("article_id", sa.String(255)),
        sa.Column("result_json", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_comment_results_article_id", "comment_results", ["article_id"])
    # The newest scoring of each comment is what the old table held.
    op.execute(
        "INSERT INTO comment_results (comment_id, article_id, result_json, created_at) "
        "SELECT s.comment_id, s.article_id, s.result_json, s.created_at FROM comment_scores s "
        "WHERE s.id = (SELECT MAX(t.id) FROM comment_scores t WHERE t.comment_id = s.comment_id)"
    )
    op.drop_table("comment_scores")
    op.drop_table("article_versions")
