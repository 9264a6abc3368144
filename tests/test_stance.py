"""The comment's stance toward the article, on comments written for these tests under the
seed article (a report on the assault on Qusayr)."""

from __future__ import annotations

import pytest

from model import ArticleIn, CommentIn, Pipeline


@pytest.fixture(scope="module")
def article(seed) -> ArticleIn:
    body = seed[0]
    return ArticleIn(id="qusayr", title=body.get("title"), body=body["body"])


@pytest.mark.parametrize(
    "text",
    [
        "Arsenal were brilliant last night, Saka's second goal was the best I've seen all season.",
        "Does anyone know a good recipe for banana bread? Mine always comes out dry.",
    ],
)
def test_a_comment_about_something_else_is_unrelated(pipeline: Pipeline, article, text) -> None:
    result = pipeline.score(CommentIn(id="off", text=text), article)
    assert result.stance is not None and result.stance.label == "unrelated", result.stance
    # the same probability is moderation's off-topic signal
    assert result.moderation.attributes["off_topic"] == result.stance.scores["unrelated"]


def test_a_comment_that_restates_the_article_agrees_or_discusses(pipeline, article) -> None:
    text = (
        "Syrian government forces and Hezbollah fighters attacked Qusayr, "
        "and many civilians are trapped in the town."
    )
    result = pipeline.score(CommentIn(id="same", text=text), article)
    assert result.stance is not None and result.stance.label in ("agrees", "discusses")


def test_the_seed_comment_disputes_the_article(pipeline, article, seed) -> None:
    result = pipeline.score(CommentIn(id="seed", text=seed[1]["text"]), article)
    assert result.stance is not None and result.stance.label == "disputes", result.stance


def test_the_rebuttal_hint_names_the_claim_and_the_passage_it_disputes(
    pipeline, article, seed
) -> None:
    """What is disputed, side by side: the leaflet claim (its offsets in the comment) and
    the article passage it was checked against (its offsets in the article)."""
    text = seed[1]["text"]
    result = pipeline.score(CommentIn(id="seed", text=text), article)
    [rebuttal] = [h for h in result.hints if h.type == "rebuttal"]
    claim = result.claims[rebuttal.claim]
    assert "leaflet drop" in claim.text
    assert text[claim.start : claim.end] == claim.text
    assert rebuttal.passage is not None and rebuttal.passage == claim.evidence[0]
    assert article.body[rebuttal.passage.start : rebuttal.passage.end] == rebuttal.passage.text
    assert "leaflet drop" in rebuttal.message
    assert " ".join(rebuttal.passage.text.split()) in rebuttal.message


# Rebuttals by addition in wordings that no training frame uses (data/stance/
# comment_frames.json). Model 0.5.6 gets the first; the second ("Nothing in this report
# about ...") it still calls `discusses` (0.52 against `disputes` 0.27). strict: the day
# a model gets it, the mark comes off.
@pytest.mark.parametrize(
    "text",
    [
        "What they won't print is that the town was emptied of civilians a week before the attack.",
        pytest.param(
            "Nothing in this report about the rebels shelling the nearby villages for weeks "
            "beforehand.",
            marks=pytest.mark.xfail(
                strict=True, reason="model 0.5.6 calls this rebuttal by addition 'discusses'"
            ),
        ),
    ],
)
def test_a_comment_that_adds_what_the_article_leaves_out_disputes(
    pipeline: Pipeline, article, text
) -> None:
    result = pipeline.score(CommentIn(id="adds", text=text), article)
    assert result.stance is not None and result.stance.label == "disputes", result.stance


# The same comment under two reports that say opposite things: its stance must turn with
# the article (training.data.stance_synthetic.negated_claims). Model 0.5.10 gave the same label
# under both reports in all three; 0.5.11 gets the coffee one, by a few hundredths.
KEPT_BY_0_5_11 = pytest.mark.xfail(strict=True, reason="model 0.5.11: `agrees` under both")
POLARITY_CASES = [  # (the report the comment agrees with, the one it disputes, comment)
    pytest.param(
        "A large study found that drinking coffee raises the risk of heart disease. "
        "Researchers followed 50,000 adults for ten years.",
        "A large study found that drinking coffee does not raise the risk of heart disease. "
        "Researchers followed 50,000 adults for ten years.",
        "Coffee is bad for your heart, my doctor told me to stop drinking it years ago.",
        id="coffee",
    ),
    pytest.param(
        "The council voted on Tuesday not to build the new bridge over the river. Councillors "
        "said the project was too expensive. The vote was 7 to 2.",
        "The council voted on Tuesday to build the new bridge over the river. Councillors said "
        "the project was worth the cost. The vote was 7 to 2.",
        "Building that bridge would be a waste of money. The old one works fine.",
        id="bridge",
        marks=KEPT_BY_0_5_11,
    ),
    pytest.param(
        "The district made school uniforms compulsory from next year. The board said uniforms "
        "help discipline. Parents were divided.",
        "The district banned school uniforms from next year. The board said uniforms did "
        "little for discipline. Parents were divided.",
        "Uniforms are a great idea, they stop bullying over clothes and make mornings easier.",
        id="uniforms",
        marks=KEPT_BY_0_5_11,
    ),
]


@pytest.mark.parametrize(("agreed_with", "disputed", "comment"), POLARITY_CASES)
def test_the_stance_turns_with_what_the_article_says(
    pipeline: Pipeline, agreed_with: str, disputed: str, comment: str
) -> None:
    labels = [
        pipeline.score(CommentIn(id="c", text=comment), ArticleIn(id=name, body=body)).stance.label  # type: ignore[union-attr]
        for name, body in (("agreed", agreed_with), ("disputed", disputed))
    ]
    assert labels == ["agrees", "disputes"]
