"""Perspective's SuggestCommentScore, kept as moderator feedback.

A suggestion is a person's scores for a text, the same kind of label as a moderator's
decision, so it goes in the `feedback` table and `rebut export-feedback` exports it with the
decisions. Its row: `decision` "reject" when any suggested score is at least
REJECT_AT, else "approve"; `note` a JSON object (SOURCE, the scores, languages, communityId
and, where no stored result holds it, the text); `key_name` the caller.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from serve.store import add_feedback, latest_score
from serve.tables import FeedbackRow

SOURCE = "perspective:suggestscore"
# Perspective's scores are probabilities that a reader perceives the comment as the attribute
# (toxic, an insult, ...): a person saying "more likely than not" for any of them is a reject.
REJECT_AT = 0.5


def add_suggestion(
    session: Session,
    *,
    comment_id: str,
    owner: str,
    key_name: str,
    text: str,
    scores: dict[str, float],
    languages: list[str] | None,
    community_id: str | None,
) -> FeedbackRow:
    """Store a suggestion on `comment_id`, linked to its newest result when `owner` wrote
    that result; otherwise the text is kept in the note, as export needs it."""
    newest = latest_score(session, comment_id=comment_id)
    if newest is not None and newest.owner not in (None, owner):
        newest = None  # another writer's result: not this caller's to label
    note: dict[str, Any] = {
        "source": SOURCE,
        "scores": scores,
        "languages": languages,
        "community_id": community_id,
    }
    if newest is None or newest.text is None:
        note["text"] = text
    return add_feedback(
        session,
        comment_id=comment_id,
        score_id=newest.id if newest is not None else None,
        decision="reject" if any(v >= REJECT_AT for v in scores.values()) else "approve",
        hints=[],
        note=json.dumps(note, ensure_ascii=False),
        key_name=key_name,
    )


def suggestion_from_note(note: str | None) -> dict[str, Any] | None:
    """The suggestion a feedback row's note holds, or None for a moderator's own note."""
    if not note or not note.startswith("{"):
        return None
    try:
        parsed = json.loads(note)
    except json.JSONDecodeError:
        return None
    if not isinstance(parsed, dict) or parsed.get("source") != SOURCE:
        return None
    return parsed
