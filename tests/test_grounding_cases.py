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
    # a changed number inside a paraphrase: not_in_article from cross-encoders 0.2 to 0.5.9
    # (the 0.1 head with number features said contradicted); model/claim_checks.py's
    # figure check decides it since 0.5.10
    ("contradicted", "The repairs to the bridge cost 9 million pounds."),
    # a claim since check-worthiness 0.5.7, which counts plain news statements as claims
    ("contradicted", "The Harbour Street bridge in Oakfield reopened on Tuesday."),
    # a claim since check-worthiness 0.5.7; the cross-encoder reads an actor the article
    # never names as not_in_article (0.85), model/claim_checks.py's actor check as a changed
    # one: another name did what the claim says this one did
    ("contradicted", "Mayor John Briggs cut the ribbon at the reopening ceremony."),
    # found by probing 0.5.9 with restatements of this article (2026-11-27); the model read
    # the first as contradicted (0.98), the second as supported (0.54) and the third as
    # not_in_article (0.91): model/claim_checks.py decides them from the words
    (
        "supported",
        "The bridge reopened to traffic on Tuesday after eight months of repairs, the city "
        "council said.",
    ),
    ("contradicted", "The bridge reopened after eleven months of repairs."),
    ("contradicted", "The roadway had been closed since June."),
    # an added event
    ("not_in_article", "Two workers were seriously injured when scaffolding collapsed in May."),
    ("not_in_article", "The contractor was fined for missing three deadlines."),
]

# A second article, and cases written for it on 2026-11-27 before model/claim_checks.py
# existed, as a check of what was built for the first one. Model 0.5.9 alone got 11 of 19
# (two are not taken for claims); the quote and figure checks took it to 15, the actor check
# and "doubled" to 16 (data/cards/grounding.md, "Word checks").
MILL = ArticleIn(
    id="ashford-mill",
    title="Ashford's Riverside mill to close with 340 jobs at risk",
    body=(
        "The Riverside textile mill in Ashford will close in September, putting 340 jobs at "
        "risk, its owner Calder Group announced on Thursday. The company blamed rising energy "
        "costs, which it said had tripled since 2022.\n\n"
        "Union representative Tom Hendry said workers had not been consulted before the "
        "decision. Calder Group said it had offered to sell the site to a local cooperative, "
        "but the talks collapsed in April.\n\n"
        "The mill opened in 1887 and once employed more than 2,000 people. Local MP Sarah Lund "
        "called the closure a heavy blow and said she would meet the company's chief "
        "executive, Peter Vance, next week. Staff will receive redundancy pay of twelve weeks' "
        "wages."
    ),
)


def _misses(reason: str) -> pytest.MarkDecorator:
    return pytest.mark.xfail(strict=True, reason=reason)


MILL_CASES = [
    # restatements: 0.5.9 called the first two contradicted (0.97)
    ("supported", "The mill will close in September, putting 340 jobs at risk."),
    (
        "supported",
        "The textile mill in Ashford will close in September, its owner announced on Thursday.",
    ),
    ("supported", "Calder Group blamed rising energy costs for the closure."),
    ("supported", "The mill first opened in 1887."),
    ("supported", "Workers were not consulted before the decision, according to the union."),
    ("supported", "Talks to sell the site to a local cooperative collapsed in April."),
    # a changed number or date: 0.5.9 called 1912 and June not_in_article
    ("contradicted", "The mill will close in September, putting 540 jobs at risk."),
    pytest.param(
        "contradicted",
        "About 800 workers will lose their jobs when the mill shuts.",
        marks=_misses(
            "not_in_article 0.80: an approximate figure of another unit (workers, "
            "the article: jobs) is left to the model, which reads it as new"
        ),
    ),
    ("contradicted", "The mill opened in 1912."),
    ("contradicted", "The talks with the cooperative fell apart in June."),
    ("contradicted", "Staff will get redundancy pay worth four weeks' wages."),
    # supported 0.79 from the model and missed by the first figure check, which had no
    # "doubled" against "tripled": the one case added to the checks after this list
    ("contradicted", "Energy costs have doubled since 2022, the company said."),
    # a changed actor or place
    ("contradicted", "Union representative Peter Vance said workers had not been consulted."),
    ("contradicted", "The Riverside textile mill in Dorford will close in September."),
    # an added event
    ("not_in_article", "The mill was fined last year for polluting the river."),
    ("not_in_article", "Calder Group made a profit of 12 million pounds last year."),
    ("not_in_article", "Workers plan to strike next month in protest."),
]

# Claims the check-worthiness model (0.5.7) does not take for claims, so never grounded.
MILL_MISSED_CLAIMS = [
    "Local MP James Carter called the closure a heavy blow.",  # a changed actor
    "Workers had been consulted before the decision.",  # a negation dropped
]


OPINIONS = [
    "Honestly this bridge has always been an eyesore.",
    "Why does anyone still trust the council with money?",
    "What a waste of everybody's time.",
]


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    return Pipeline.from_dir()


def _only_claim(pipeline: Pipeline, text: str, article: ArticleIn = ARTICLE):  # noqa: ANN202
    result = pipeline.score(CommentIn(id="c", article_id=article.id, text=text), article)
    assert len(result.claims) == 1, f"expected one claim in {text!r}, got {result.claims}"
    return result.claims[0]


@pytest.mark.parametrize(("expected", "text"), CASES)
def test_claim_gets_the_editors_status(pipeline: Pipeline, expected: str, text: str) -> None:
    claim = _only_claim(pipeline, text)
    assert claim.status == expected, claim.scores
    assert claim.evidence, "every grounded claim shows the closest passage"


@pytest.mark.parametrize(("expected", "text"), MILL_CASES)
def test_cases_written_before_the_word_checks(pipeline: Pipeline, expected: str, text: str) -> None:
    claim = _only_claim(pipeline, text, MILL)
    assert claim.status == expected, claim.scores


@pytest.mark.parametrize("text", MILL_MISSED_CLAIMS)
@pytest.mark.xfail(strict=True, reason="check-worthiness 0.5.7 reads no claim in it")
def test_claims_the_check_worthiness_model_misses(pipeline: Pipeline, text: str) -> None:
    _only_claim(pipeline, text, MILL)  # when this passes, move the case to MILL_CASES


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
