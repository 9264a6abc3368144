"""The bundled pipeline on real ONNX models: contract invariants, batching, caching."""

from __future__ import annotations

import pytest

from model import ArticleIn, CommentIn, EmptyText, Pipeline, Result, TextTooLong
from model.limits import MAX_COMMENT_CHARS

ARTICLE = ArticleIn(
    id="council-budget",
    title="Council approves budget after long debate",
    body=(
        "The city council approved the 2026 budget on Tuesday by a vote of 7 to 2. "
        "The budget raises spending on public libraries by 4 percent. "
        "Mayor Elena Ruiz said the plan keeps property taxes flat.\n\n"
        "Two council members opposed the plan, citing the cost of the new tram line. "
        "The tram line is expected to open in 2028."
    ),
)


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    return Pipeline.from_dir()


def check_contract(result: Result, comment: CommentIn, article: ArticleIn | None) -> None:
    assert result.comment_id == comment.id
    assert result.model_version
    attributes = result.moderation.attributes
    assert set(attributes) >= {
        "toxicity",
        "severe_toxicity",
        "insult",
        "threat",
        "identity_attack",
        "profanity",
        "spam",
    }
    assert all(0.0 <= v <= 1.0 for v in attributes.values())
    for claim in result.claims:
        assert comment.text[claim.start : claim.end] == claim.text
        assert 0.0 <= claim.check_worthiness <= 1.0
        if article is None:
            assert claim.status is None and claim.evidence == []
            continue
        assert claim.status in ("supported", "contradicted", "not_in_article")
        assert claim.scores is not None and abs(sum(claim.scores.values()) - 1) < 1e-3
        assert claim.evidence
        for ev in claim.evidence:
            assert article.body[ev.start : ev.end] == ev.text
            assert 0.0 <= ev.score <= 1.0
    for hint in result.hints:
        assert hint.message
        assert hint.claim is None or 0 <= hint.claim < len(result.claims)
    if article is None:
        assert result.stance is None
    else:
        assert result.stance is not None
        assert abs(sum(result.stance.scores.values()) - 1) < 1e-3


def test_scores_with_and_without_an_article(pipeline: Pipeline) -> None:
    comment = CommentIn(
        id="c1",
        text="The council voted 7 to 2 for the budget. I think the tram is a waste of money.",
    )
    check_contract(pipeline.score(comment, ARTICLE), comment, ARTICLE)
    check_contract(pipeline.score(comment), comment, None)


def test_batch_equals_one_by_one(pipeline: Pipeline) -> None:
    comments = [
        CommentIn(id="a", text="Library spending went up by 40 percent, not 4."),
        CommentIn(id="b", text="Great reporting, thanks!"),
        CommentIn(id="c", text="The mayor resigned last week after a scandal. Typical."),
    ]
    batch = pipeline.score_batch([(c, ARTICLE) for c in comments])
    for comment, result in zip(comments, batch):
        alone = pipeline.score(comment, ARTICLE)
        assert alone.model_dump() == result.model_dump()


def test_article_is_indexed_once_per_content(pipeline: Pipeline) -> None:
    article = ARTICLE.model_copy(update={"id": "cache-test"})
    before = pipeline.articles_.builds
    pipeline.score(CommentIn(id="x", text="The tram opens in 2028."), article)
    pipeline.score(CommentIn(id="y", text="The tram opens in 2030."), article)
    assert pipeline.articles_.builds == before + 1
    edited = article.model_copy(update={"body": article.body + " The vote was recorded."})
    pipeline.score(CommentIn(id="z", text="The tram opens in 2028."), edited)
    assert pipeline.articles_.builds == before + 2


@pytest.mark.parametrize("text", ["", "   \n\t "])
def test_empty_comment_is_refused(pipeline: Pipeline, text: str) -> None:
    with pytest.raises(EmptyText):
        pipeline.score(CommentIn(id="e", text=text))


def test_oversize_comment_is_refused(pipeline: Pipeline) -> None:
    with pytest.raises(TextTooLong):
        pipeline.score(CommentIn(id="big", text="word " * (MAX_COMMENT_CHARS // 4)))


def test_punctuation_only_comment_still_scores(pipeline: Pipeline) -> None:
    comment = CommentIn(id="p", text="?!")
    check_contract(pipeline.score(comment, ARTICLE), comment, ARTICLE)
