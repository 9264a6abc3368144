"""Scoring attempts per webhook event, and the owner of each stored result.

webhook_events.attempts counts the worker's tries at an event, so one that can never be
scored is marked failed after a bounded number and stops blocking the queue behind it.
comment_scores.owner names who wrote a result (an API key's name, the webhook, Coral), so
one integration or key cannot overwrite another's; rows from before have none.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_events") as batch:
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("comment_scores") as batch:
        batch.add_column(sa.Column("owner", sa.String(255)))


def downgrade() -> None:
    with op.batch_alter_table("comment_scores") as batch:
        batch.drop_column("owner")
    with op.batch_alter_table("webhook_events") as batch:
        batch.drop_column("attempts")
