"""Atomic claims: a comment sentence that asserts two things ("a leaflet drop ... and
there's a corridor for civilians") is checked as two claims, each with its own span.

Candidate parts come from clause boundaries (semicolons, and "and" / "but" / "whereas"
between clauses; not "while", which mostly opens a time clause that belongs to its
sentence); the check-worthiness model decides: a sentence is split only
where at least two of its parts are claims on their own. A part too short to hold a
subject and a verb is never cut off, so "Smith and Jones won" stays whole.
"""

from __future__ import annotations

import re

from model.sentences import Span

_BREAK = re.compile(r"\s*;\s+|,?\s+(?:and|but|whereas)\s+(?=\S)", re.IGNORECASE)
MIN_PART_WORDS = 4


def clause_parts(sentence: Span) -> list[Span]:
    """The sentence's clauses as spans into the same source; [] when it has fewer than two.

    Cuts are made left to right where both the piece before and the rest after hold at
    least MIN_PART_WORDS words; the joining word belongs to neither part."""
    text = sentence.text
    parts: list[Span] = []
    start = 0
    for match in _BREAK.finditer(text):
        before = text[start : match.start()]
        after = text[match.end() :]
        if len(before.split()) >= MIN_PART_WORDS and len(after.split()) >= MIN_PART_WORDS:
            parts.append(_span(sentence, start, match.start()))
            start = match.end()
    if not parts:
        return []
    parts.append(_span(sentence, start, len(text)))
    return parts


def as_statement(clause: str) -> str:
    """A clause as the models read it: ended like the sentences they were trained on.

    A clause cut before "and" has no full stop, and the check-worthiness and grounding
    models read one without it as another kind of text: the pair model called the seed's
    leaflet clause `contradicted` (0.68) without it and `not_in_article` (0.91) with it.
    The claim's span stays the clause as written."""
    return clause if clause[-1:] in ".!?\"”’')" else f"{clause}."


def _span(sentence: Span, start: int, end: int) -> Span:
    piece = sentence.text[start:end]
    stripped = piece.strip().rstrip(",")
    lead = piece.index(stripped) if stripped else 0
    begin = sentence.start + start + lead
    return Span(stripped, begin, begin + len(stripped))
