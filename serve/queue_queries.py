"""The moderator queue's queries beyond serve/store.py's: the decided comments (the Approved
and Rejected tabs), the tabs' counts, and undoing a decision.

A comment's state is that of its newest scoring: waiting while no moderator has decided on
that scoring, else decided by the newest feedback row on it. A re-scored comment is waiting
again, so its earlier decision is no longer shown in the history (nor can it be undone
from the page).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, Select, delete, exists, func, select
from sqlalchemy.orm import Session

from serve.tables import CommentScoreRow, FeedbackRow

# The ids the Perspective-compatible endpoint stores its calls under
# (serve/api/routes/perspective.py): API traffic, not reader comments, so the queue leaves
# them out unless a moderator asks for them.
PERSPECTIVE_PREFIX = "perspective:"


def is_perspective(comment_id: str) -> bool:
    return comment_id.startswith(PERSPECTIVE_PREFIX)


def _not_perspective() -> ColumnElement[bool]:
    # substr rather than LIKE: SQLite's LIKE ignores case, and this prefix is exact.
    prefix = func.substr(CommentScoreRow.comment_id, 1, len(PERSPECTIVE_PREFIX))
    return prefix != PERSPECTIVE_PREFIX


def _newest_scores() -> Select[tuple[int]]:
    return select(func.max(CommentScoreRow.id)).group_by(CommentScoreRow.comment_id)


def _decided(decision: str, *, perspective: bool) -> Select[tuple[FeedbackRow, CommentScoreRow]]:
    """Each comment whose newest scoring's newest decision is `decision`, with that scoring."""
    newest_decisions = select(func.max(FeedbackRow.id)).group_by(FeedbackRow.score_id)
    query = (
        select(FeedbackRow, CommentScoreRow)
        .join(CommentScoreRow, FeedbackRow.score_id == CommentScoreRow.id)
        .where(CommentScoreRow.id.in_(_newest_scores()))
        .where(FeedbackRow.id.in_(newest_decisions))
        .where(FeedbackRow.decision == decision)
    )
    return query if perspective else query.where(_not_perspective())


def decided_page(
    session: Session, *, decision: str, perspective: bool, offset: int, limit: int
) -> Sequence[tuple[FeedbackRow, CommentScoreRow]]:
    """One page of the comments decided `decision`, the newest decision first. Paged here,
    not in memory like the waiting queue: the history only grows."""
    query = _decided(decision, perspective=perspective).order_by(FeedbackRow.id.desc())
    return session.execute(query.offset(offset).limit(limit)).tuples().all()


def count_decided(session: Session, *, decision: str, perspective: bool) -> int:
    query = _decided(decision, perspective=perspective).subquery()
    return session.scalar(select(func.count()).select_from(query)) or 0


def count_waiting(session: Session, *, perspective: bool) -> int:
    """How many comments no moderator has decided on, whatever their suggested action."""
    query = (
        select(func.count())
        .select_from(CommentScoreRow)
        .where(CommentScoreRow.id.in_(_newest_scores()))
        .where(~exists().where(FeedbackRow.score_id == CommentScoreRow.id))
    )
    return session.scalar(query if perspective else query.where(_not_perspective())) or 0


def newest_feedback(session: Session, *, comment_id: str) -> FeedbackRow | None:
    query = select(FeedbackRow).where(FeedbackRow.comment_id == comment_id)
    return session.scalars(query.order_by(FeedbackRow.id.desc()).limit(1)).first()


def delete_feedback(session: Session, *, feedback_id: int) -> bool:
    """Delete one feedback row; False when it is gone already (a concurrent undo). A DELETE
    statement, not session.delete, whose flush would fail on a row someone else deleted."""
    deleted = session.execute(delete(FeedbackRow).where(FeedbackRow.id == feedback_id))
    return deleted.rowcount == 1  # type: ignore[attr-defined]
