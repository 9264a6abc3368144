"""Disguised abuse is undone before moderation; ordinary text passes through."""

from __future__ import annotations

import pytest

from model.normalize import normalize_for_moderation

DISGUISED = [
    ("you are an 1d10t", "you are an idiot"),
    ("sh!t happens", "shit happens"),
    ("what a stuuuupid take", "what a stupid take"),
    ("i d i o t", "idiot"),
    ("f.u.c.k you", "fuck you"),
    ("𝐢𝐝𝐢𝐨𝐭 ｉｄｉｏｔ іdіоt", "idiot idiot idiot"),  # bold maths, fullwidth, Cyrillic
    ("you r@cist p!g", "you racist pig"),
    ("$hit", "shit"),
]
ORDINARY = [
    "@USER thanks! I paid $5 for 3 items in 2026.",
    "The U S A and the UK signed it at 7pm on the 3rd.",
    "cool story, 100% agree with covid19 mp3 A-B testing",
    "I give it 4/5 stars!!!",
    "See https://example.com/a1b2 and email bob@example.com",
    "Mr. Smith said 4 out of 5 voted no; the F-16 landed.",
]


@pytest.mark.parametrize(("text", "expected"), DISGUISED)
def test_disguises_are_undone(text: str, expected: str) -> None:
    assert normalize_for_moderation(text) == expected


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_text_is_unchanged(text: str) -> None:
    assert normalize_for_moderation(text) == text


def test_pipeline_flags_the_disguised_form_like_the_plain_one(pipeline) -> None:
    from model import CommentIn

    plain = pipeline.score(CommentIn(id="p", text="You are a stupid idiot."))
    disguised = pipeline.score(CommentIn(id="d", text="You are a stuuupid 1d10t."))
    assert plain.moderation.flagged and disguised.moderation.flagged
    assert (
        abs(plain.moderation.attributes["insult"] - disguised.moderation.attributes["insult"]) < 0.1
    )
