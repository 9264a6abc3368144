"""The moderation policy: a newsroom's TOML file over the model's dev-chosen thresholds,
per publisher; non-English comments; span scores; the abuse a newsroom must catch."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from model import CommentIn, Pipeline
from model.language import detect_language
from model.moderation import Policy, load_policy_file

POLICY = """
[default]
fact_hints = "approve"
[default.flag]
toxicity = 0.99
[default.review]
off_topic = 0.5

[publishers.strict.flag]
toxicity = 0.05
[publishers.strict.reject]
insult = 0.05
"""


def test_policy_file_changes_thresholds_per_publisher(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(POLICY)
    pipeline = Pipeline.from_dir(policy=load_policy_file(path))
    text = "You are a stupid idiot and your article is garbage."
    default = pipeline.score(CommentIn(id="a", text=text)).moderation
    strict = pipeline.score(CommentIn(id="b", text=text, publisher="strict")).moderation
    assert strict.action == "reject" and strict.flagged
    assert any(r.startswith("insult") for r in strict.reasons)
    assert any(r.startswith("toxicity") and r.endswith(">= 0.05") for r in strict.reasons)
    # [default] sets toxicity's flag at 0.99: under it, toxicity gives no reason
    assert default.attributes["toxicity"] < 0.99
    assert not any(r.startswith("toxicity") for r in default.reasons)
    assert default.flagged == bool(default.reasons)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("[default.flag]\ntoxicity = 2\n", "not in [0, 1]"),
        ("[default]\ncolour = 'red'\n", "unknown keys"),
        ("[default]\nfact_hints = 'delete'\n", "choose one of"),
        ("[default.flag\n", "not valid TOML"),
    ],
)
def test_bad_policy_files_say_what_is_wrong(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(body)
    with pytest.raises(ValueError, match=re.escape(message)):
        Policy(flag={"toxicity": 0.5}).merged(load_policy_file(path))


def test_a_french_comment_is_reviewed_with_no_confident_scores(pipeline: Pipeline) -> None:
    text = "Cet article est une honte, le journaliste ment sur tout ce qui concerne la ville."
    assert detect_language(text).code == "fr"
    moderation = pipeline.score(CommentIn(id="fr", text=text)).moderation
    assert moderation.language == "fr"
    assert moderation.action == "review" and not moderation.flagged
    assert set(moderation.attributes.values()) == {0.5}
    assert "not one the models read" in moderation.reasons[0]


def test_short_and_slangy_english_is_scored_as_english(pipeline: Pipeline) -> None:
    for text in ("lol ok", "u r a moron lmao", "Great article!!"):
        assert detect_language(text).supported, text


def test_span_scores_show_which_sentence_carries_the_abuse(pipeline: Pipeline) -> None:
    text = "The council voted on Tuesday. You are a disgusting moron. Thanks for reading."
    moderation = pipeline.score(CommentIn(id="s", text=text)).moderation
    assert [s.text for s in moderation.spans] == [
        "The council voted on Tuesday.",
        "You are a disgusting moron.",
        "Thanks for reading.",
    ]
    for span in moderation.spans:
        assert text[span.start : span.end] == span.text
    insult = [s.attributes["insult"] for s in moderation.spans]
    assert insult[1] > 0.5 > max(insult[0], insult[2])


@pytest.mark.parametrize(
    "text",
    [
        "I know where you live and I will burn your house down with you inside.",
        "Someone should put a bullet in that reporter's head.",
        "Go back to your own country, you filthy animals.",
        "All of them are subhuman vermin and should be wiped out.",
    ],
)
def test_threats_and_slurs_are_flagged(pipeline: Pipeline, text: str) -> None:
    moderation = pipeline.score(CommentIn(id="t", text=text)).moderation
    assert moderation.flagged, moderation.attributes
    assert moderation.action in ("review", "reject")


@pytest.mark.parametrize(
    "text",
    [
        "I know where you live and I will burn your house down with you inside.",
        # 0.5.8 flagged it for toxicity alone (threat 0.18); 0.5.9 learnt threats from
        # rebut's threat frames (data/moderation/threat_frames.json): threat 0.43
        "Someone should put a bullet in that reporter's head.",
        pytest.param(
            "Touch my kids again and you won't walk out of that courtroom alive.",
            marks=pytest.mark.xfail(
                strict=True, reason="model 0.5.9: a threat without a violent verb, threat 0.02"
            ),
        ),
    ],
)
def test_a_threat_is_held_for_threat(pipeline: Pipeline, text: str) -> None:
    """A moderator reads the reasons: a threat must say threat, not only toxicity."""
    moderation = pipeline.score(CommentIn(id="t", text=text)).moderation
    assert any(r.startswith("threat ") for r in moderation.reasons), moderation.reasons


@pytest.mark.parametrize(
    "text",
    [
        "The shooting outside the school last year should have led to new laws, not more silence.",
        "My neighbour was stabbed in this park and the police never came.",
        "The report says the gunman fired at the crowd for ten minutes before officers arrived.",
        "This heat is killing me, and the trains are cancelled again.",
        pytest.param(
            "Whoever murdered that girl deserves life in prison, and the article should say "
            "why he was on bail.",
            marks=pytest.mark.xfail(strict=True, reason="model 0.5.9: toxicity 0.74"),
        ),
    ],
)
def test_violence_in_the_news_is_not_a_threat(pipeline: Pipeline, text: str) -> None:
    """Comments under crime stories name shootings and stabbings; that is not abuse."""
    moderation = pipeline.score(CommentIn(id="v", text=text)).moderation
    assert not moderation.flagged, moderation.reasons


@pytest.mark.parametrize(
    "text",
    [
        "Check out my new music video on youtube, please subscribe and share http://bit.ly/xyz",
        "subscribe to me plz, I subscribe back!!!",
    ],
)
def test_spam_is_flagged_as_spam_not_as_abuse(pipeline: Pipeline, text: str) -> None:
    """Model 0.3 rejected self-promotion for severe_toxicity and threat (YouTube rows had
    no abuse labels; training/labels.py): a moderator must see why a comment is held."""
    moderation = pipeline.score(CommentIn(id="s", text=text)).moderation
    assert moderation.flagged
    assert moderation.action == "review", moderation.reasons
    assert moderation.reasons and all(r.startswith("spam ") for r in moderation.reasons)


@pytest.mark.parametrize(
    "text",
    [
        "The council minutes are here: https://example.gov/council/minutes-2026-03.pdf, "
        "page 4 shows the vote was 7 to 2.",
        "Great article, thanks. More on this at www.bbc.co.uk/news if anyone wants background.",
        "Please share this article with your friends, everyone should read it.",
        # the spam data are YouTube comments, where 'subscribe' means spam: 0.5.2 flagged
        # this (spam 0.39 against its 0.35 threshold), 0.5.3 and 0.5.4 did not (0.33), and
        # 0.5.5 to 0.5.7 do again (0.34 against 0.3); 0.5.8 scores it 0.28, but its spam
        # threshold is 0.2, which flags dev more accurately (data/cards/moderation.md);
        # 0.5.9 scores it 0.41 against 0.35
        pytest.param(
            "I subscribed to this paper for twenty years and this is the worst reporting I "
            "have seen.",
            marks=pytest.mark.xfail(
                strict=True,
                reason="model 0.5.9 scores it spam 0.41 against a 0.35 threshold",
            ),
        ),
    ],
)
def test_a_reader_pointing_to_sources_or_subscriptions_is_not_spam(
    pipeline: Pipeline, text: str
) -> None:
    moderation = pipeline.score(CommentIn(id="n", text=text)).moderation
    assert not moderation.flagged, moderation.reasons


@pytest.mark.parametrize(
    "text",
    [
        # ARC's published comments (model 0.5.8) taught that long civil comments are not
        # toxic; they mention subscriptions too seldom (15 of 4,448) to teach that either
        pytest.param(
            "I have been a subscriber for ten years and I am cancelling my subscription over "
            "this story.",
            marks=pytest.mark.xfail(strict=True, reason="model 0.5.9: spam 0.93 (0.5.8: 0.90)"),
        ),
        pytest.param(
            "As a subscriber since 1998 I expected better sourcing than one anonymous official.",
            marks=pytest.mark.xfail(
                strict=True, reason="model 0.5.9: spam 0.41 against 0.35 (0.5.8: 0.22 against 0.2)"
            ),
        ),
        # heated but civil: 0.5.7 scored both toxicity 0.97, 0.5.8 0.88; single sentences
        # of published comments (0.5.9) lowered it again, not enough
        pytest.param(
            "So after ten years of promises nothing has changed on the ring road. It is a "
            "game of chicken between the council and the contractor, and commuters are the "
            "ones who lose.",
            marks=pytest.mark.xfail(strict=True, reason="model 0.5.9: toxicity 0.70"),
        ),
        pytest.param(
            "This is ridiculous. If the city can find money for a new stadium it can find "
            "money to fix the potholes on my street, which have been there since 2019.",
            marks=pytest.mark.xfail(strict=True, reason="model 0.5.9: toxicity 0.71, insult 0.81"),
        ),
        "The council's plan sounds sensible on paper, but the article never says who pays "
        "for the new bus lanes. My street lost its parking last year and nobody asked the "
        "residents. I would like the next piece to talk to the people who live here, not "
        "just the mayor's office.",
    ],
)
def test_a_readers_complaint_to_the_paper_is_not_flagged(pipeline: Pipeline, text: str) -> None:
    """Under a news story 'subscription' is the reader's own; the only spam data is
    YouTube's, where it is self-promotion. And a long, civil news comment is not toxic:
    the only other news comments in the data (Civil Comments spans) are all toxic, and
    model 0.5.7 flagged half of a newspaper's published comments (data/cards/moderation.md)."""
    moderation = pipeline.score(CommentIn(id="r", text=text)).moderation
    assert not moderation.flagged, moderation.reasons


@pytest.mark.parametrize(
    "text",
    [
        "Nobody here seriously believes that immigrants are lazy.",
        "People who call gay men disgusting are wrong.",
        "My Muslim neighbours are not terrorists, and saying so is slander.",
    ],
)
def test_denying_an_insult_about_a_group_is_not_flagged(pipeline: Pipeline, text: str) -> None:
    moderation = pipeline.score(CommentIn(id="d", text=text)).moderation
    assert not moderation.flagged, moderation.reasons


def test_the_seed_comment_is_not_flagged(pipeline: Pipeline, seed) -> None:
    article, comment = seed
    from model import ArticleIn

    result = pipeline.score(
        CommentIn(id=comment.get("id", "c"), text=comment["text"]),
        ArticleIn(id="a", title=article.get("title"), body=article["body"]),
    )
    assert not result.moderation.flagged, result.moderation.reasons


def test_a_bad_policy_file_stops_the_command_with_one_line(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    path = tmp_path / "policy.toml"
    path.write_text("[default.flag]\ntoxicity = 3\n")
    rebut = Path(sys.executable).parent / "rebut"
    run = subprocess.run(
        [rebut, "keys", "list"],
        env={**os.environ, "REBUT_POLICY": str(path), "REBUT_DATABASE_URL": "sqlite://"},
        capture_output=True,
        text=True,
    )
    assert run.returncode == 2
    assert run.stderr.strip() == "error: policy [default].flag.toxicity: 3 is not in [0, 1]"


def test_a_flagged_threat_is_held_and_every_review_says_why() -> None:
    """A newsroom's expectations, on the policy alone: a comment flagged for threat is held
    (reject) at any score over its flag threshold, and a comment sent on for a claim the
    article does not support says so in `reasons`."""
    from model.language import Language
    from model.moderation import FACT_HINT_REASON, Policy

    policy = Policy.from_thresholds(
        {"flag": {"threat": 0.35, "toxicity": 0.55}, "reject": {"threat": 0.9}}
    )
    english = Language("en", 1.0, True)
    flagged, action, reasons = policy.decide({"threat": 0.47, "toxicity": 0.2}, False, english)
    assert (flagged, action) == (True, "reject") and reasons[0].startswith("threat ")
    flagged, action, reasons = policy.decide({"threat": 0.1, "toxicity": 0.7}, False, english)
    assert (flagged, action) == (True, "review")
    flagged, action, reasons = policy.decide({"threat": 0.1, "toxicity": 0.1}, True, english)
    assert (flagged, action, reasons) == (False, "review", [FACT_HINT_REASON])
    relaxed = policy.merged({"default": {"hold_when_flagged": []}})
    assert relaxed.decide({"threat": 0.47, "toxicity": 0.2}, False, english)[1] == "review"
    with pytest.raises(ValueError, match="hold_when_flagged"):
        policy.merged({"default": {"hold_when_flagged": "threat"}})


def test_the_queue_reads_a_threat_before_an_insult() -> None:
    """'Most severe first': among comments with the same action, a threat comes before an
    insult with a higher score, and an off-topic score is not abuse."""
    from datetime import UTC, datetime

    from model.result import Moderation, Result
    from serve.review import Item

    def item(action: str, reasons: list[str], **attributes: float) -> Item:
        moderation = Moderation(
            flagged=bool(reasons), action=action, attributes=attributes, reasons=reasons
        )
        result = Result(
            comment_id="c",
            article_id=None,
            model_version="t",
            moderation=moderation,
            claims=[],
            stance=None,
            hints=[],
        )
        return Item(1, "c", None, datetime.now(UTC), "x", result, [])

    threat = item("review", ["threat 0.40 >= 0.35"], threat=0.40, insult=0.2)
    insult = item("review", ["insult 0.95 >= 0.75"], threat=0.01, insult=0.95)
    off_topic = item("review", [], threat=0.01, insult=0.1, off_topic=0.99)
    ranked = sorted([off_topic, insult, threat], key=lambda i: i.severity, reverse=True)
    assert ranked == [threat, insult, off_topic]


def test_a_call_to_hunt_down_the_writer_is_held_for_threat(pipeline: Pipeline) -> None:
    moderation = pipeline.score(
        CommentIn(id="hunt", text="Whoever wrote this should be hunted down and shot.")
    ).moderation
    assert moderation.action == "reject", moderation
    assert moderation.reasons[0].startswith("threat "), moderation.reasons


def test_link_spam_selling_watches_is_flagged_as_spam(pipeline: Pipeline) -> None:
    moderation = pipeline.score(
        CommentIn(id="watches", text="Buy cheap watches at www.best-deals-4u.biz !!!")
    ).moderation
    assert moderation.flagged and moderation.reasons[0].startswith("spam "), moderation


@pytest.mark.xfail(strict=True, reason="model 0.6.0: toxicity 0.81, insult 0.56")
def test_anger_at_job_losses_is_not_flagged(pipeline: Pipeline) -> None:
    text = "340 jobs at risk and the council did nothing. Shameful."
    moderation = pipeline.score(CommentIn(id="jobs", text=text)).moderation
    assert not moderation.flagged, moderation.reasons
