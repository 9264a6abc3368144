"""Coral Talk's external moderation phase: `POST /v1/integrations/coral/moderation`.

In Coral's admin (Configure > Moderation > Phases) the URL is
`https://REBUT/v1/integrations/coral/moderation?key=KEY`, and the signing secret Coral shows
goes into REBUT_CORAL_SECRETS. With REBUT_CORAL_FETCH_STORIES, a story with no stored article
gets one from its page (serve/story_fetch.py).
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool

from model.result import ArticleIn, CommentIn
from serve.coral import ExternalModerationRequest, ExternalModerationResponse, comment_id, decide
from serve.deps import PipelineDep, SettingsDep
from serve.problems import PROBLEM_RESPONSES, ApiProblem, parse_body
from serve.signatures import CORAL_HEADER, SignatureError, verify_coral
from serve.store import get_article, save_result, upsert_article
from serve.story_fetch import fetch_story

router = APIRouter(prefix="/integrations/coral", tags=["coral"], responses=PROBLEM_RESPONSES)


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

    def stored_article() -> ArticleIn | None:
        with request.app.state.sessions() as session:
            return get_article(session, article_id=coral.story.id)

    # A story is matched to the article stored under its id. Without one, its page may be
    # fetched (opt-in, listed hosts only); without that either, moderation still runs.
    article = await run_in_threadpool(stored_article)
    fetched = None
    if article is None and settings.coral_fetch_stories and coral.story.url:
        fetched = await fetch_story(
            coral.story.id,
            coral.story.url,
            hosts=settings.coral_story_hosts,
            timeout_s=settings.coral_fetch_timeout_s,
        )

    def score() -> ExternalModerationResponse:
        with request.app.state.sessions() as session:
            article_now = article
            if fetched is not None:
                # The newsroom's own PUT wins over a page it may have sent during the fetch.
                article_now = get_article(session, article_id=coral.story.id)
                if article_now is None:
                    upsert_article(session, article=fetched)
                    article_now = fetched
            scored = comment if article_now else comment.model_copy(update={"article_id": None})
            result = pipeline.score(scored, article_now)
            save_result(session, result=result, text=comment.text, article=article_now)
            session.commit()
        return decide(result, pipeline.policy_.flag)

    decision = await run_in_threadpool(score)
    if not decision.actions and decision.status is None:
        return Response(status_code=204)
    return Response(decision.model_dump_json(exclude_none=True), media_type="application/json")
