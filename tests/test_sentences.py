"""Sentence splitting on messy CMS text: offsets always point back into the original."""

import json
from pathlib import Path

import pytest

from model.sentences import BLOCK_CHARS, MAX_SENTENCE_CHARS, join_neighbours, split_sentences

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


def test_a_long_line_is_split_as_pysbd_splits_it_whole() -> None:
    """pysbd reads a long line in blocks (its time grows with the square of the sentences
    it reads at once); the sentences are the ones it finds reading the line whole."""
    import pysbd

    line = " ".join(
        f"Mr. Hale said on Jan. {n % 28 + 1} that the U.S. plan cost ${n}.5m, not {n} bn. "
        f"Was it {n}? Yes!"
        for n in range(60)
    )
    assert len(line) > 3 * BLOCK_CHARS
    whole = pysbd.Segmenter(language="en", clean=False, char_span=True).segment(line)
    assert [s.text for s in split_sentences(line)] == [s.sent.strip() for s in whole]


def test_join_neighbours_covers_the_text_in_at_most_that_many_spans() -> None:
    text = "Hi. " * 130
    spans = split_sentences(text)
    joined = join_neighbours(spans, text, 64)
    assert len(spans) == 130 and len(joined) == 64
    assert joined[0].start == 0 and joined[-1].end == spans[-1].end
    assert all(text[s.start : s.end] == s.text for s in joined)
    assert all(a.end < b.start for a, b in zip(joined, joined[1:]))
    assert join_neighbours(spans[:10], text, 64) == spans[:10]
