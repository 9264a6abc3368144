"""Concurrency that must not change a result: forward passes run side by side
(Pipeline `rows`) and the API's micro-batching of concurrent requests (serve/micro_batcher.py),
on the real bundled models."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from model import ArticleIn, CommentIn, EmptyText, Pipeline
from serve.micro_batcher import MicroBatcher

ARTICLE = ArticleIn(
    id="tram",
    title="Council approves tram line",
    body=(
        "The council approved the tram line on Tuesday by 7 votes to 2. "
        "The line will cost 40 million pounds. It is expected to open in 2028. "
        "Mayor Elena Ruiz said fares would stay at two pounds."
    ),
)
COMMENTS = [
    CommentIn(id=f"c{i}", text=text)
    for i, text in enumerate(
        [
            "The vote was 9 to 0 and the line costs 80 million pounds. What a waste.",
            "You idiots on the council never listen to anyone.",
            "Great news, I will take the tram to work every day.",
            "It opens in 2030, not 2028, and fares will double.",
            "Nothing to do with trams but the bins were not collected again.",
            "The mayor is right. Fares stay at two pounds and the line opens in 2028.",
        ]
    )
]


@pytest.fixture(scope="module")
def one_at_a_time() -> Pipeline:
    return Pipeline.from_dir(threads=1, rows=1)


def test_passes_side_by_side_give_the_same_results(pipeline: Pipeline, one_at_a_time) -> None:
    # the default runs passes side by side, every model's on the one pool
    shared = {id(m.pool_) for m in [pipeline.encoder_, *pipeline.models_.values()]}
    assert shared == {id(pipeline.rows_)}
    assert pipeline.rows_ is not None or pipeline.threads == 1
    items = [(c, ARTICLE if i % 2 else None) for i, c in enumerate(COMMENTS)]
    side_by_side = Pipeline.from_dir(threads=2, rows=3).score_batch(items)
    for (comment, article), result in zip(items, side_by_side):
        assert result.model_dump() == one_at_a_time.score(comment, article).model_dump()


def test_concurrent_requests_are_scored_as_alone(pipeline: Pipeline, one_at_a_time) -> None:
    batcher = MicroBatcher(pipeline, max_wait_s=0.05, max_batch=4).start()
    try:
        with ThreadPoolExecutor(len(COMMENTS)) as pool:
            results = list(pool.map(lambda c: batcher.score(c, ARTICLE), COMMENTS))
    finally:
        batcher.stop()
    for comment, result in zip(COMMENTS, results):
        assert result.model_dump() == one_at_a_time.score(comment, ARTICLE).model_dump()


def test_a_bad_comment_fails_alone(pipeline: Pipeline) -> None:
    batcher = MicroBatcher(pipeline).start()
    try:
        with pytest.raises(EmptyText):
            batcher.score(CommentIn(id="empty", text="   "), ARTICLE)
        assert batcher.score(COMMENTS[0], ARTICLE).comment_id == COMMENTS[0].id
    finally:
        batcher.stop()


def test_a_batch_mixing_with_and_without_claims(pipeline: Pipeline, one_at_a_time) -> None:
    # Perspective's analyze with doNotStore asks for no claims; its batch-mates still get
    # theirs, and without claims the abuse scores and stance are what the full call gives
    batcher = MicroBatcher(pipeline, max_wait_s=0.05, max_batch=len(COMMENTS)).start()
    wants_claims = [i % 2 == 0 for i in range(len(COMMENTS))]
    try:
        with ThreadPoolExecutor(len(COMMENTS)) as pool:
            results = list(
                pool.map(
                    lambda c, w: batcher.score(c, ARTICLE, with_claims=w), COMMENTS, wants_claims
                )
            )
    finally:
        batcher.stop()
    for comment, with_claims, result in zip(COMMENTS, wants_claims, results):
        full = one_at_a_time.score(comment, ARTICLE)
        if with_claims:
            assert result.model_dump() == full.model_dump()
            continue
        # the action may differ: fact hints, which need claims, send a comment to review
        assert result.claims == []
        assert result.moderation.attributes == full.moderation.attributes
        assert result.moderation.spans == full.moderation.spans
        assert result.moderation.flagged == full.moderation.flagged
        assert result.stance == full.stance
    assert any(one_at_a_time.score(c, ARTICLE).claims for c in COMMENTS[1::2]), (
        "no comment left without claims had any, so the check above could not fail"
    )
