"""The schema rebut 0.1.0 made with create_all: articles and the latest result per comment.

A database made by that version has these tables and no alembic_version; the store stamps
it at this revision, so upgrading it keeps its rows.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "articles",
        sa.Column("id", sa.String(255), primary_key=True),
        sa.Column("title", sa.Text()),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "comment_results",
        sa.Column("comment_id", sa.String(255), primary_key=True),
        sa.Column("article_id", sa.String(255)),
        sa.Column("result_json", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_comment_results_article_id", "comment_results", ["article_id"])


def downgrade() -> None:
    op.drop_table("comment_results")
    op.drop_table("articles")
