"""Articles, stored so that comments can name theirs by `article_id` alone."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel

from model.errors import UnknownArticle
from model.result import ArticleIn, Id, Text
from serve.deps import PipelineDep, SessionDep
from serve.problems import PROBLEM_RESPONSES
from serve.store import get_article_row, upsert_article

router = APIRouter(prefix="/articles", tags=["articles"], responses=PROBLEM_RESPONSES)


# The id comes from the path, so the body carries only the content.
class ArticleUpsert(BaseModel):
    title: Text | None = None
    body: Text


# What a PUT answers: enough to tell whether the content changed.
class ArticleStored(BaseModel):
    id: str
    content_sha256: str
    sentences: int


# A stored article as GET returns it.
class ArticlePublic(BaseModel):
    id: str
    title: str | None
    body: str
    content_sha256: str
    updated_at: datetime


@router.put("/{article_id:path}")
def put_article(
    article_id: Id, body: ArticleUpsert, pipeline: PipelineDep, session: SessionDep
) -> ArticleStored:
    """Create or replace an article, and index it so its first comment is scored fast."""
    article = ArticleIn(id=article_id, title=body.title, body=body.body)
    index = pipeline.index_article(article)
    digest = upsert_article(session, article=article)
    session.commit()
    return ArticleStored(id=article_id, content_sha256=digest, sentences=len(index.sentences))


@router.get("/{article_id:path}")
def get_article(article_id: Id, session: SessionDep) -> ArticlePublic:
    """Return a stored article."""
    row = get_article_row(session, article_id=article_id)
    if row is None:
        raise UnknownArticle(f"No article with id {article_id!r} is stored")
    return ArticlePublic.model_validate(row, from_attributes=True)
