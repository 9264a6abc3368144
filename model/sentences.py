"""Split comments and articles into sentences with character offsets into the original text.

pysbd does the segmentation. CMS text defeats it in a few known ways, so it runs on a
copy prepared to survive them, and offsets are mapped back to the original:
- URLs and e-mail addresses are masked (same length), so their dots and '?' end nothing;
- a full stop with no space before the next capitalised word ("58-42.It passed") gets
  one, so the two sentences part;
- over-long runs (a caption glued to the lead, a comment without punctuation) are cut
  at clause boundaries so no passage is too long for the encoder to read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import pysbd
from pysbd.utils import TextSpan

_URL = re.compile(r"(?:https?://|www\.)\S+|\b[\w.+-]+@[\w-]+\.[\w.-]+\b")
# end punctuation glued to the next sentence's first capital: "said.The", "away!Then"
_GLUED = re.compile(r"(?<=[a-z0-9%)\]\"'”’][.!?])(?=[A-Z][a-z])")
# where an over-long sentence may be cut: after ; or a closing bracket before a capital,
# or after a comma followed by a conjunction that starts a new clause
_CLAUSE = re.compile(r"(?<=;)\s+|(?<=\))\s+(?=[A-Z])|(?<=,)\s+(?=(?:and|but|so|while|as|which)\b)")
MAX_SENTENCE_CHARS = 400
# Longest piece of a line pysbd reads at once (see _segments)
BLOCK_CHARS = 1_000


@dataclass(frozen=True, slots=True)
class Span:
    """A piece of a text; `text == source[start:end]`."""

    text: str
    start: int
    end: int


@lru_cache(maxsize=1)
def _segmenter() -> pysbd.Segmenter:
    return pysbd.Segmenter(language="en", clean=False, char_span=True)


def _prepare(text: str) -> tuple[str, list[int]]:
    """Return the text pysbd reads and, for each of its characters, the original offset
    (-1 for a space that was inserted)."""
    masked = _URL.sub(lambda m: "x" * len(m.group()), text)
    pieces: list[str] = []
    origin: list[int] = []
    last = 0
    for m in _GLUED.finditer(masked):
        pieces.append(masked[last : m.start()])
        origin.extend(range(last, m.start()))
        pieces.append(" ")
        origin.append(-1)
        last = m.start()
    pieces.append(masked[last:])
    origin.extend(range(last, len(masked)))
    return "".join(pieces), origin


def _trim(text: str, start: int, end: int) -> Span | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Span(text[start:end], start, end) if end > start else None


def _cut_long(text: str, span: Span) -> list[Span]:
    if len(span.text) <= MAX_SENTENCE_CHARS:
        return [span]
    out: list[Span] = []
    start = span.start
    for m in _CLAUSE.finditer(span.text):
        cut = span.start + m.start()
        if cut - start >= 40:  # keep clauses that say something on their own
            piece = _trim(text, start, cut)
            if piece:
                out.append(piece)
            start = span.start + m.end()
    tail = _trim(text, start, span.end)
    if tail:
        out.append(tail)
    return out


def _segments(prepared: str) -> list[TextSpan]:
    """pysbd's segments of the prepared text, with offsets into it, read line by line and
    a long line BLOCK_CHARS at a time.

    pysbd's time grows with the square of the sentences it reads at once (20,000
    characters of "Hi. ": 2.7 s whole, 0.2 s in blocks). A block keeps every sentence
    pysbd found in it but the last, which the block's end may have cut short; the next
    block starts there. Line breaks end a sentence anyway (split_sentences)."""
    segments: list[TextSpan] = []

    def read(start: int, end: int) -> list[TextSpan]:
        return [
            TextSpan(seg.sent, seg.start + start, seg.end + start)
            for seg in _segmenter().segment(prepared[start:end])
        ]

    for line in re.finditer(r"[^\n]+", prepared):
        start, end = line.span()
        while end - start > BLOCK_CHARS:
            block = read(start, start + BLOCK_CHARS)
            if len(block) < 2:  # one sentence longer than a block: cut it at a space
                cut = prepared.rfind(" ", start, start + BLOCK_CHARS)
                cut = cut + 1 if cut > start else start + BLOCK_CHARS
                segments.extend(read(start, cut))
                start = cut
                continue
            segments.extend(block[:-1])
            start = block[-1].start
        segments.extend(read(start, end))
    return segments


def split_sentences(text: str) -> list[Span]:
    """Sentences of `text`, in order, whitespace trimmed, with offsets into `text`.

    Line breaks always end a sentence: in comments and article bodies they separate
    paragraphs, captions and list items far more often than they wrap a sentence.
    """
    prepared, origin = _prepare(text)
    spans: list[Span] = []
    for seg in _segments(prepared):
        if seg.end <= seg.start:
            continue
        real = [i for i in (seg.start, seg.end - 1) if origin[i] >= 0]
        if len(real) < 2:  # a segment that begins or ends on an inserted space
            kept = [origin[i] for i in range(seg.start, seg.end) if origin[i] >= 0]
            if not kept:
                continue
            start, end = kept[0], kept[-1] + 1
        else:
            start, end = origin[seg.start], origin[seg.end - 1] + 1
        line_start = start
        for line in re.finditer(r"\n", text[start:end]):
            piece = _trim(text, line_start, start + line.start())
            if piece:
                spans.extend(_cut_long(text, piece))
            line_start = start + line.end()
        piece = _trim(text, line_start, end)
        if piece:
            spans.extend(_cut_long(text, piece))
    return spans


def join_neighbours(spans: list[Span], source: str, most: int) -> list[Span]:
    """At most `most` spans covering the same text: runs of neighbouring spans, as even in
    count as can be, each from its first span's start to its last span's end."""
    if len(spans) <= most:
        return spans
    size, extra = divmod(len(spans), most)
    joined: list[Span] = []
    at = 0
    for k in range(most):
        run = spans[at : at + size + (k < extra)]
        at += len(run)
        start, end = run[0].start, run[-1].end
        joined.append(Span(source[start:end], start, end))
    return joined
