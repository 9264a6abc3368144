"""Scoring a comment: moderation, claims grounded against its article, stance."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from model.article_index import content_hash
from model.errors import InputError, UnknownArticle
from model.result import ArticleIn, CommentIn, Id, Result
from serve.deps import BatcherDep, CallerDep, PipelineDep, SessionDep
from serve.problems import PROBLEM_RESPONSES
from serve.store import (
    check_owner,
    get_article,
    keep_article_version,
    latest_score,
    save_result,
    upsert_article,
)

router = APIRouter(prefix="/comments", tags=["comments"], responses=PROBLEM_RESPONSES)


class ArticleMismatch(InputError):
    code = "article_mismatch"


# `article` is optional: without it the comment's `article_id` names a stored article,
# and without either only moderation runs. An inline article is scored against and kept as
# a version, but replaces the stored article of its id only with `store_article`.
class ScoreRequest(BaseModel):
    comment: CommentIn
    article: ArticleIn | None = None
    store_article: bool = False


@router.post(":score", response_model=Result)
def score_comment(
    request: ScoreRequest,
    pipeline: PipelineDep,
    batcher: BatcherDep,
    session: SessionDep,
    caller: CallerDep,
) -> Result:
    """Score one comment against its article (sent inline or stored earlier). A comment
    whose result another key, the webhook or Coral stored is refused (409)."""
    comment, article = request.comment, request.article
    pipeline.validate_comment(comment)
    owner = f"key:{caller.name}"
    # before the article is stored or the models run: a refused request changes nothing
    check_owner(session, comment_id=comment.id, owner=owner)
    if article is not None:
        if comment.article_id not in (None, article.id):
            raise ArticleMismatch(
                f"comment.article_id {comment.article_id!r} differs from article.id {article.id!r}"
            )
        pipeline.validate_article(article)
        if request.store_article:
            upsert_article(session, article=article)
        else:
            keep_article_version(session, article=article)
        # commit before scoring: an open write would hold SQLite's lock for the whole of
        # the model passes, and concurrent requests would time out on it
        session.commit()
    elif comment.article_id is not None:
        article = get_article(session, article_id=comment.article_id)
        if article is None:
            raise UnknownArticle(
                f"No article with id {comment.article_id!r} is stored; "
                "PUT /v1/articles/{id} first, or send it as `article`"
            )
    result = batcher.score(comment, article)  # scored with concurrent requests' comments
    if article is not None:
        # the text actually scored (inline, or the stored article as read above), so a
        # client can tell results on different versions apart; save_result stores the same
        digest = content_hash(article.title, article.body)
        result = result.model_copy(update={"article_sha256": digest})
    save_result(session, result=result, text=comment.text, article=article, owner=owner)
    session.commit()
    return result


class UnknownComment(InputError):
    code = "unknown_comment"


@router.get("/{comment_id:path}", response_model=Result)
def get_comment_result(comment_id: Id, session: SessionDep) -> Result:
    """The newest result for a comment, scored through this API or a webhook event."""
    row = latest_score(session, comment_id=comment_id)
    if row is None:
        raise UnknownComment(f"No result for comment {comment_id!r} is stored (yet)")
    return Result.model_validate_json(row.result_json)
