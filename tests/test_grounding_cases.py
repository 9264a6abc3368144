"""Hand-written article/comment pairs, one per outcome an editor cares about, scored by the
bundled models through the real pipeline. Written for rebut; taken from no dataset.

Each comment is a single sentence, so each case names exactly one claim (or none)."""

from __future__ import annotations

import pytest
from conftest import SEED_CLAIM, SEED_CORRIDOR

from model import ArticleIn, CommentIn, Pipeline
from model.hints import write_hints
from model.result import Claim, Evidence, Moderation

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
    pytest.param(
        "supported",
        "The repairs were funded by a regional transport grant.",
        marks=pytest.mark.xfail(strict=True, reason="model 0.6.0: contradicted"),
    ),
    # a changed number, place or actor
    ("contradicted", "The repairs to the bridge cost 9 million pounds."),
    ("contradicted", "The Harbour Street bridge in Oakfield reopened on Tuesday."),
    # another name did what the article says someone else did
    ("contradicted", "Mayor John Briggs cut the ribbon at the reopening ceremony."),
    (
        "supported",
        "The bridge reopened to traffic on Tuesday after eight months of repairs, the city "
        "council said.",
    ),
    ("contradicted", "The bridge reopened after eleven months of repairs."),
    pytest.param(
        "contradicted",
        "The roadway had been closed since June.",
        marks=pytest.mark.xfail(strict=True, reason="model 0.6.0: not_in_article"),
    ),
    # an added event
    ("not_in_article", "Two workers were seriously injured when scaffolding collapsed in May."),
    ("not_in_article", "The contractor was fined for missing three deadlines."),
]

# A second article, and cases written for it as a check of what was built for the first.
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
    ("supported", "The mill will close in September, putting 340 jobs at risk."),
    pytest.param(
        "supported",
        "The textile mill in Ashford will close in September, its owner announced on Thursday.",
        marks=pytest.mark.xfail(strict=True, reason="model 0.6.0: contradicted"),
    ),
    pytest.param(
        "supported",
        "Calder Group blamed rising energy costs for the closure.",
        marks=pytest.mark.xfail(strict=True, reason="model 0.6.0: contradicted"),
    ),
    pytest.param(
        "supported",
        "The mill first opened in 1887.",
        marks=pytest.mark.xfail(strict=True, reason="model 0.6.0: contradicted"),
    ),
    ("supported", "Workers were not consulted before the decision, according to the union."),
    ("supported", "Talks to sell the site to a local cooperative collapsed in April."),
    ("contradicted", "The mill will close in September, putting 540 jobs at risk."),
    ("contradicted", "About 800 workers will lose their jobs when the mill shuts."),
    ("contradicted", "The mill opened in 1912."),
    ("contradicted", "The talks with the cooperative fell apart in June."),
    ("contradicted", "Staff will get redundancy pay worth four weeks' wages."),
    ("contradicted", "Energy costs have doubled since 2022, the company said."),
    # a changed actor or place
    ("contradicted", "Union representative Peter Vance said workers had not been consulted."),
    ("contradicted", "The Riverside textile mill in Dorford will close in September."),
    # an added event
    ("not_in_article", "The mill was fined last year for polluting the river."),
    pytest.param(
        "not_in_article",
        "Calder Group made a profit of 12 million pounds last year.",
        marks=pytest.mark.xfail(strict=True, reason="model 0.6.0: contradicted"),
    ),
    ("not_in_article", "Workers plan to strike next month in protest."),
]

# Plain statements a reader makes: claims, so a contradiction of the article is checked.
PLAIN_STATEMENTS = [
    pytest.param(
        "Local MP James Carter called the closure a heavy blow.",  # a changed actor
        marks=pytest.mark.xfail(strict=True, reason="check-worthiness below the 0.3913 cut"),
    ),
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
def test_cases_of_a_second_article(pipeline: Pipeline, expected: str, text: str) -> None:
    claim = _only_claim(pipeline, text, MILL)
    assert claim.status == expected, claim.scores


@pytest.mark.parametrize("text", PLAIN_STATEMENTS)
def test_plain_statements_are_claims(pipeline: Pipeline, text: str) -> None:
    _only_claim(pipeline, text, MILL)


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


# -- the seed: what a fact-checker needs from the leaflet and corridor claims ------------

SEED_WARNING = "warned civilians to leave the town"  # the article's nearest fact to leaflets
SEED_NO_WAY_OUT = "no safe passage to escape"


@pytest.fixture(scope="module")
def seed_result(pipeline: Pipeline, seed):  # noqa: ANN001, ANN201
    article, comment = seed
    return pipeline.score(
        CommentIn(id=comment["id"], article_id=article["id"], text=comment["text"]),
        ArticleIn(id=article["id"], title=article["title"], body=article["body"]),
    )


def _seed_claim(result, words: str):  # noqa: ANN001, ANN202
    return next(c for c in result.claims if words in c.text)


@pytest.mark.xfail(strict=True, reason="model 0.6.0: contradicted (0.51)")
def test_seed_leaflet_claim_is_not_in_the_article(seed_result) -> None:  # noqa: ANN001
    assert _seed_claim(seed_result, SEED_CLAIM).status == "not_in_article"


@pytest.mark.xfail(
    strict=True, reason="retrieval ranks it 8th of the passages and the model does not raise it"
)
def test_seed_leaflet_claim_shows_the_warning_passage(seed_result) -> None:  # noqa: ANN001
    evidence = _seed_claim(seed_result, SEED_CLAIM).evidence
    assert any(SEED_WARNING in e.text for e in evidence[:2]), [e.text for e in evidence]


def test_seed_corridor_hint_quotes_the_no_way_out_passage_whole(seed_result) -> None:  # noqa: ANN001
    claim = _seed_claim(seed_result, SEED_CORRIDOR)
    k = seed_result.claims.index(claim)
    hint = next(h for h in seed_result.hints if h.claim == k and h.type.startswith("fact_"))
    passage = next(e.text for e in claim.evidence if SEED_NO_WAY_OUT in e.text)
    assert " ".join(passage.split()) in hint.message


def test_a_hint_quotes_its_evidence_whole() -> None:
    passage = "A long sentence about the town. " * 8 + "They have no safe passage to escape."
    claim = Claim(
        text="There is a corridor.", start=0, end=20, check_worthiness=0.9, status="contradicted"
    )
    claim.evidence = [Evidence(text=passage, start=0, end=len(passage), score=0.5)]
    moderation = Moderation(flagged=False, action="review", attributes={}, reasons=[])
    hints = write_hints([claim], moderation, None)
    assert " ".join(passage.split()) in hints[0].message
