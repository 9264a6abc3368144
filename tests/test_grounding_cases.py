"""Hand-written article/comment pairs, one per outcome an editor cares about, scored by the
bundled models through the real pipeline. Written for rebut; taken from no dataset.

Each comment is a single sentence, so each case names exactly one claim (or none)."""

from __future__ import annotations

import pytest

from model import ArticleIn, CommentIn, Pipeline

ARTICLE = ArticleIn(
    id="millbrook-bridge",
    title="Harbour Street bridge reopens after eight months of repairs",
    body=(
        "The Harbour Street bridge in Millbrook reopened to traffic on Tuesday after eight "
        "months of repairs, the city council said. The work cost 4.2 million pounds and was "
        "paid for by a regional transport grant.\n\n"
        "Council leader Maria Okafor cut the ribbon at a short ceremony attended by about "
        "200 residents. Engineers replaced the bridge's steel cables and resurfaced the "
        "roadway, which had been closed since March.\n\n"
        "Buses will return to the route from next Monday. Shop owners on Harbour Street said "
        "the closure had cut their trade by half over the winter. The council said it would "
        "review the timetable of the ferry, which carried extra passengers during the works."
    ),
)

# What the model gets wrong is marked strict xfail with the reason seen: such a case
# fails the suite the day a model gets it right, and the mark has to come off.

CASES = [
    # a restated fact
    ("supported", "The bridge was closed for eight months while it was being repaired."),
    # a paraphrase ('repairs' for 'the work'): 0.2.0 called it not_in_article, 0.3 gets it
    ("supported", "The repairs were funded by a regional transport grant."),
    # a changed number, place or actor
    pytest.param(
        "contradicted",
        "The repairs to the bridge cost 9 million pounds.",
        marks=pytest.mark.xfail(
            strict=True,
            reason="cross-encoders 0.2 to 0.5: a changed number inside a paraphrase reads "
            "as not_in_article (the 0.1 head with number features said contradicted)",
        ),
    ),
    # a claim since check-worthiness 0.5.7, which counts plain news statements as claims
    ("contradicted", "The Harbour Street bridge in Oakfield reopened on Tuesday."),
    pytest.param(
        "contradicted",
        "Mayor John Briggs cut the ribbon at the reopening ceremony.",
        marks=pytest.mark.xfail(
            strict=True,
            reason="a claim since check-worthiness 0.5.7, but the cross-encoder (0.5.6) reads "
            "an actor the article never names as not_in_article (0.85), not as a changed one",
        ),
    ),
    # found by probing 0.5.9 with restatements of this article (2026-11-27): a reader's
    # shortened restatement, and a changed figure or month in few words of their own
    pytest.param(
        "supported",
        "The bridge reopened to traffic on Tuesday after eight months of repairs, the city "
        "council said.",
        marks=pytest.mark.xfail(
            strict=True,
            reason="model 0.5.9: contradicted 0.98; a copy of the article's sentence that "
            "leaves out the bridge's name reads as a changed name (without the attribution "
            "it is supported 0.95)",
        ),
    ),
    pytest.param(
        "contradicted",
        "The bridge reopened after eleven months of repairs.",
        marks=pytest.mark.xfail(strict=True, reason="model 0.5.9: supported 0.54"),
    ),
    pytest.param(
        "contradicted",
        "The roadway had been closed since June.",
        marks=pytest.mark.xfail(strict=True, reason="model 0.5.9: not_in_article 0.91"),
    ),
    # an added event
    ("not_in_article", "Two workers were seriously injured when scaffolding collapsed in May."),
    ("not_in_article", "The contractor was fined for missing three deadlines."),
]

OPINIONS = [
    "Honestly this bridge has always been an eyesore.",
    "Why does anyone still trust the council with money?",
    "What a waste of everybody's time.",
]


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    return Pipeline.from_dir()


def _only_claim(pipeline: Pipeline, text: str):  # noqa: ANN202
    result = pipeline.score(CommentIn(id="c", article_id=ARTICLE.id, text=text), ARTICLE)
    assert len(result.claims) == 1, f"expected one claim in {text!r}, got {result.claims}"
    return result.claims[0]


@pytest.mark.parametrize(("expected", "text"), CASES)
def test_claim_gets_the_editors_status(pipeline: Pipeline, expected: str, text: str) -> None:
    claim = _only_claim(pipeline, text)
    assert claim.status == expected, claim.scores
    assert claim.evidence, "every grounded claim shows the closest passage"


@pytest.mark.parametrize("text", OPINIONS)
def test_opinion_question_and_rhetoric_make_no_claim(pipeline: Pipeline, text: str) -> None:
    result = pipeline.score(CommentIn(id="c", article_id=ARTICLE.id, text=text), ARTICLE)
    assert result.claims == []


def test_a_sentence_that_asserts_two_things_is_two_claims(pipeline: Pipeline) -> None:
    text = (
        "The bridge reopened on Tuesday after eight months of repairs "
        "and two workers were injured when scaffolding collapsed in May."
    )
    result = pipeline.score(CommentIn(id="c", article_id=ARTICLE.id, text=text), ARTICLE)
    assert [(c.text, c.status) for c in result.claims] == [
        ("The bridge reopened on Tuesday after eight months of repairs", "supported"),
        ("two workers were injured when scaffolding collapsed in May.", "not_in_article"),
    ]
    for claim in result.claims:
        assert text[claim.start : claim.end] == claim.text
