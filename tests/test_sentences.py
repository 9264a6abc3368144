"""Sentence splitting on messy CMS text: offsets always point back into the original."""

import json
from pathlib import Path

import pytest

from model.sentences import MAX_SENTENCE_CHARS, split_sentences

SEED = Path(__file__).resolve().parents[1] / ".." / "shared" / "seed"


def texts(text: str) -> list[str]:
    spans = split_sentences(text)
    for s in spans:
        assert text[s.start : s.end] == s.text
    return [s.text for s in spans]


def test_missing_space_after_full_stop_splits() -> None:
    assert texts("The vote was 58-42.It passed anyway!Then it failed.") == [
        "The vote was 58-42.",
        "It passed anyway!",
        "Then it failed.",
    ]


def test_abbreviations_quotes_and_urls_do_not_split() -> None:
    out = texts('Dr. Smith said "no." See https://example.com/a.b?c=1 for more. U.S. troops left')
    assert out == [
        'Dr. Smith said "no."',
        "See https://example.com/a.b?c=1 for more.",
        "U.S. troops left",
    ]


def test_line_breaks_end_sentences_and_blank_lines_vanish() -> None:
    assert texts("First line without stop\n\n  Second line.\r\nThird") == [
        "First line without stop",
        "Second line.",
        "Third",
    ]


@pytest.mark.parametrize("text", ["", "   ", "\n\n"])
def test_empty_text_has_no_sentences(text: str) -> None:
    assert split_sentences(text) == []


@pytest.mark.skipif(not SEED.exists(), reason="../shared/seed is not beside the checkout")
def test_seed_article_run_on_caption_is_cut_from_the_lead() -> None:
    body = json.loads((SEED / "article.json").read_text())["body"]
    out = texts(body)
    assert all(len(s) <= MAX_SENTENCE_CHARS for s in out)
    assert any(s.startswith("The streets of the western Syrian town") for s in out)
    assert any(s.startswith("On 11 May, regime sources said they warned civilians") for s in out)
