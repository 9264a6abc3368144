"""Language detection: which comments the English models may score."""

from __future__ import annotations

import pytest

from model.language import detect_language


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Das ist doch Unsinn, die Regierung lügt wie immer über diese Stadt.", "de"),
        ("Le conseil municipal a approuvé quarante nouvelles maisons mardi soir.", "fr"),
        ("El gobierno ha mentido sobre todo lo que pasó en la ciudad ayer.", "es"),
    ],
)
def test_other_languages_are_detected_and_not_supported(text: str, code: str) -> None:
    language = detect_language(text)
    assert (language.code, language.supported) == (code, False)
    assert language.probability >= 0.9


@pytest.mark.parametrize(
    "text",
    [
        "Assad's forces did a leaflet drop on the town before the assault.",
        "lol ok",
        "u r a moron lmao",
        "Great article!!",
        "Merci!",  # too short to tell: scored as English
    ],
)
def test_english_and_undecidable_texts_are_scored(text: str) -> None:
    assert detect_language(text).supported
