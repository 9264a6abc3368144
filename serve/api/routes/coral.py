"""Coral Talk's external moderation phase: `POST /v1/integrations/coral/moderation`.

In Coral's admin (Configure > Moderation > Phases) the URL is
`https://REBUT/v1/integrations/coral/moderation?key=KEY`, and the signing secret Coral shows
goes into REBUT_CORAL_SECRETS. With REBUT_CORAL_FETCH_STORIES, a story with no stored article
gets one from its page (serve/integrations/coral/story_fetch.py).

Coral retries a phase it got no answer from, so a comment may come twice: a resend with the
same id and text is answered from the stored result, with no model pass and no new row (a
moderator's decision on it stands). An edit, the same id with new text, is scored anew.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from model.result import ArticleIn, CommentIn, Result
from serve.deps import PipelineDep, SettingsDep
from serve.integrations.coral.moderation import (
    OWNER,
    ExternalModerationRequest,
    ExternalModerationResponse,
    comment_id,
    decide,
)
from serve.integrations.coral.story_fetch import fetch_story
from serve.integrations.signatures import CORAL_HEADER, SignatureError, verify_coral
from serve.problems import PROBLEM_RESPONSES, ApiProblem, parse_body
from serve.store import check_owner, get_article, save_result, upsert_article

router = APIRouter(prefix="/integrations/coral", tags=["coral"], responses=PROBLEM_RESPONSES)


def _replayed(session: Session, comment: CommentIn) -> Result | None:
    """The stored result when `comment` was scored before with this very text, else None.
    Raises CommentOwnedElsewhere (409) for an id another writer holds."""
    newest = check_owner(session, comment_id=comment.id, owner=OWNER)
    if newest is None or newest.text != comment.text:
        return None
    return Result.model_validate_json(newest.result_json)


def _answer(decision: ExternalModerationResponse) -> Response:
    if not decision.actions and decision.status is None:
        return Response(status_code=204)
    return Response(decision.model_dump_json(exclude_none=True), media_type="application/json")


@router.post(
    "/moderation",
    response_model=ExternalModerationResponse,
    response_model_exclude_none=True,
    responses={204: {"description": "Nothing to flag: Coral goes on with its own phases"}},
)
async def coral_moderation(
    request: Request, settings: SettingsDep, pipeline: PipelineDep
) -> Response:
    """Score a Coral comment against its story's stored article; flag it or answer 204."""
    if not settings.coral_secrets:
        raise ApiProblem(
            503, "coral_not_configured", "Set REBUT_CORAL_SECRETS to Coral's signing secret"
        )
    body = await request.body()
    try:
        verify_coral(request.headers.get(CORAL_HEADER), body, settings.coral_secrets)
    except SignatureError as exc:
        raise ApiProblem(401, exc.code, exc.message) from None
    coral = parse_body(body, ExternalModerationRequest)
    comment = CommentIn(id=comment_id(coral), text=coral.comment.body, article_id=coral.story.id)
    pipeline.validate_comment(comment)

    def stored() -> tuple[Result | None, ArticleIn | None]:
        with request.app.state.sessions() as session:
            replayed = _replayed(session, comment)
            if replayed is not None:
                return replayed, None
            return None, get_article(session, article_id=coral.story.id)

    # A resend is answered before any page fetch or model pass.
    replayed, article = await run_in_threadpool(stored)
    if replayed is not None:
        return _answer(decide(replayed, pipeline.policy_.flag))

    # A story is matched to the article stored under its id. Without one, its page may be
    # fetched (opt-in, listed hosts only); without that either, moderation still runs.
    fetched = None
    if article is None and settings.coral_fetch_stories and coral.story.url:
        fetched = await fetch_story(
            coral.story.id,
            coral.story.url,
            hosts=settings.coral_story_hosts,
            timeout_s=settings.coral_fetch_timeout_s,
        )

    def score() -> Result:
        with request.app.state.sessions() as session:
            # A resend that arrived while this one fetched its page may have been stored.
            replayed = _replayed(session, comment)
            if replayed is not None:
                return replayed
            article_now = article
            if fetched is not None:
                # The newsroom's own PUT wins over a page it may have sent during the fetch.
                article_now = get_article(session, article_id=coral.story.id)
                if article_now is None:
                    upsert_article(session, article=fetched)
                    article_now = fetched
            scored = comment if article_now else comment.model_copy(update={"article_id": None})
            result = pipeline.score(scored, article_now)
            save_result(session, result=result, text=comment.text, article=article_now, owner=OWNER)
            session.commit()
        return result

    return _answer(decide(await run_in_threadpool(score), pipeline.policy_.flag))
