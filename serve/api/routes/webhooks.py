"""The generic CMS webhook: signed events in, a durable queue, results out by callback.

A CMS POSTs `comment.created`, `comment.updated` and `article.updated` events signed with
`Rebut-Signature` (serve/integrations/signatures.py). The answer is 202 only once the event
is committed; the worker scores it, stores the result (GET /v1/comments/{id}) and, with
REBUT_CALLBACK_URL set, POSTs it back signed the same way.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from model.result import Id
from serve.deps import PipelineDep, SessionDep, SettingsDep
from serve.integrations.signatures import REBUT_HEADER, SignatureError, verify
from serve.integrations.webhooks.events import (
    Enqueued,
    EventPublic,
    EventStatus,
    WebhookEvent,
    enqueue,
    get_event,
    to_public,
)
from serve.problems import PROBLEM_RESPONSES, ApiProblem, Problem, parse_body

router = APIRouter(prefix="/webhooks", tags=["webhooks"], responses=PROBLEM_RESPONSES)


# The webhook's answer: where to follow the event and, for comments, the result.
class EventAccepted(BaseModel):
    id: str
    status: EventStatus
    duplicate: bool  # True: this id was received before; nothing new was queued
    comment_id: str | None
    event_url: str
    result_url: str | None


def _accepted(request: Request, enqueued: Enqueued) -> EventAccepted:
    row = enqueued.row
    return EventAccepted(
        id=row.id,
        status=row.status,  # type: ignore[arg-type]
        duplicate=not enqueued.created,
        comment_id=row.comment_id,
        event_url=str(request.url_for("get_webhook_event", event_id=row.id).path),
        result_url=(
            str(request.url_for("get_comment_result", comment_id=row.comment_id).path)
            if row.comment_id
            else None
        ),
    )


@router.post(
    "/comments",
    status_code=202,
    response_model=EventAccepted,
    responses={
        200: {"model": EventAccepted, "description": "A redelivery of a stored event"},
        409: {"model": Problem, "description": "The event id was used for another body"},
        503: {"model": Problem, "description": "No REBUT_WEBHOOK_SECRETS are configured"},
    },
)
async def receive_event(
    request: Request, settings: SettingsDep, pipeline: PipelineDep
) -> JSONResponse:
    """Verify, store and queue one CMS event; 202 once it is committed."""
    if not settings.webhook_secrets:
        raise ApiProblem(
            503, "webhooks_not_configured", "Set REBUT_WEBHOOK_SECRETS to receive webhooks"
        )
    body = await request.body()  # the raw bytes: the signature covers them exactly
    try:
        verify(
            request.headers.get(REBUT_HEADER),
            body,
            settings.webhook_secrets,
            tolerance_s=settings.webhook_tolerance_s,
        )
    except SignatureError as exc:
        raise ApiProblem(401, exc.code, exc.message) from None
    event = parse_body(body, WebhookEvent)
    # Refuse what can never be scored now, while the sender is listening.
    if event.data.comment is not None:
        pipeline.validate_comment(event.data.comment)
    if event.data.article is not None:
        pipeline.validate_article(event.data.article)

    def store() -> Enqueued:
        with request.app.state.sessions() as session:
            enqueued = enqueue(session, event=event)
            session.commit()
            return enqueued

    enqueued = await run_in_threadpool(store)
    if enqueued.created:
        request.app.state.worker.wake()
    elif not enqueued.same_payload:
        raise ApiProblem(
            409,
            "event_id_conflict",
            f"Event {event.id!r} was received before with a different body; "
            "send a new event id for new content",
        )
    status = 202 if enqueued.created else 200
    return JSONResponse(_accepted(request, enqueued).model_dump(mode="json"), status_code=status)


@router.get("/events/{event_id:path}")
def get_webhook_event(event_id: Id, session: SessionDep) -> EventPublic:
    """An event's place in the queue: received, scored (a comment), applied (an article),
    failed or dead, with the reason."""
    row = get_event(session, event_id=event_id)
    if row is None:
        raise ApiProblem(404, "unknown_event", f"No webhook event with id {event_id!r}")
    return to_public(row)
