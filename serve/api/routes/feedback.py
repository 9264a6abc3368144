"""Moderator feedback: what a moderator decided on a scored comment, and which of rebut's
hints helped. Exported by `rebut export-feedback` as training and evaluation data."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from model.result import Id, Result, Text
from serve.deps import CallerDep, SessionDep
from serve.problems import PROBLEM_RESPONSES, ApiProblem
from serve.queue_queries import delete_feedback, newest_feedback
from serve.store import add_feedback, latest_score

router = APIRouter(prefix="/comments", tags=["feedback"], responses=PROBLEM_RESPONSES)


# A moderator's verdict on one hint of the result, by its index in `hints`.
class HintVerdict(BaseModel):
    hint: int = Field(ge=0)
    verdict: Literal["useful", "wrong"]


class DecisionCreate(BaseModel):
    decision: Literal["approve", "reject"]
    hints: list[HintVerdict] = Field(default_factory=list)
    note: Text | None = Field(default=None, max_length=2000)


class DecisionPublic(BaseModel):
    id: int
    comment_id: str
    decision: str
    hints: list[HintVerdict]
    note: str | None
    model_version: str
    decided_by: str | None
    created_at: datetime


@router.post("/{comment_id:path}/decision", status_code=201)
def record_decision(
    comment_id: Id, body: DecisionCreate, session: SessionDep, caller: CallerDep
) -> DecisionPublic:
    """Store a moderator's decision on the comment's newest result."""
    score = latest_score(session, comment_id=comment_id)
    if score is None:
        raise ApiProblem(404, "unknown_comment", f"No result for comment {comment_id!r} is stored")
    result = Result.model_validate_json(score.result_json)
    for verdict in body.hints:
        if verdict.hint >= len(result.hints):
            raise ApiProblem(
                422,
                "unknown_hint",
                f"hint {verdict.hint} does not exist: the result has {len(result.hints)} hints",
            )
    row = add_feedback(
        session,
        comment_id=comment_id,
        score_id=score.id,
        decision=body.decision,
        hints=[v.model_dump() for v in body.hints],
        note=body.note,
        key_name=caller.name,
    )
    session.commit()
    return DecisionPublic(
        id=row.id,
        comment_id=comment_id,
        decision=row.decision,
        hints=[HintVerdict.model_validate(h) for h in json.loads(row.hints_json)],
        note=row.note,
        model_version=score.model_version,
        decided_by=row.key_name,
        created_at=row.created_at,
    )


@router.delete("/{comment_id:path}/decision", status_code=204)
def undo_decision(
    comment_id: Id,
    session: SessionDep,
    _caller: CallerDep,
    decision_id: Annotated[int | None, Query(alias="id")] = None,
) -> Response:
    """Delete the comment's newest decision: it waits for a moderator again (unless an
    earlier decision on the same result remains, which then stands). With `id`, only if
    that is still the newest decision (409 otherwise), so that a second click, or a
    moderator working from a stale page, cannot undo an earlier decision too."""
    row = newest_feedback(session, comment_id=comment_id)
    missing = ApiProblem(404, "no_decision", f"No decision on comment {comment_id!r} is stored")
    if row is None:
        raise missing
    if decision_id is not None and row.id != decision_id:
        raise ApiProblem(
            409, "decision_changed", f"Decision {decision_id} is not the comment's newest"
        )
    # The row is deleted rather than marked undone: an undo takes back a mistake, which
    # export-feedback must not hand to training as a moderator's judgement, and marking it
    # would need a new column (a migration) that every reader of feedback then must filter.
    if not delete_feedback(session, feedback_id=row.id):
        raise missing  # another undo deleted it in between
    session.commit()
    return Response(status_code=204)
