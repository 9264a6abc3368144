"""Sentences a claim can be made of, and the edits that turn one into another claim.

A perturbation changes one fact of a sentence (a number, a name, the polarity) so the
article no longer supports it; a rewrite trims a frame ("X said that", a parenthesis) so
it still does. Synthetic grounding claims, framed stance comments, turned reports and
one-fact-changed grounding pairs are all built with these. Pure python (re, pysbd).
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from functools import lru_cache

import pysbd

SYNTH_SEED = 13  # seeds every synthetic draw

_STOP_WORDS = (
    "the a an and or but of to in on at by for with from as is was are were be been has have had "
    "that this these those it its he she they his her their we our you your i not no will would "
    "can could should said says also than then there which who whom what when where after before "
    "about into over more most other some such only just"
)
_STOP = frozenset(_STOP_WORDS.split())
_NUMBER = re.compile(
    r"(?<![\w.,$])\d{1,3}(?:,\d{3})+(?![\w,]|\.\d)|(?<![\w.,])\d+(?:\.\d+)?(?![\w]|[.,]\d)"
)
_CAPS_RUN = re.compile(r"\b[A-Z][\w-]*(?:\s+[A-Z][\w-]*)+")  # "Gang's" ends a run
_NOT_NAME_WORDS = (  # words that start a capitalised run but are no part of a name
    "The A An In On At But And If When While After Before According This That These Those It "
    "He She They We I As For With By From To Of Its His Her Their Our Mr Mrs Ms Dr Yet So Now "
    "Last Next Then There Here Monday Tuesday Wednesday Thursday Friday Saturday Sunday"
)
_NOT_NAME = frozenset(_NOT_NAME_WORDS.split())
_AUX = "is|was|are|were|will|would|could|should|can|must|has been|have been|had been"
_NEG_REMOVE = (
    (
        re.compile(
            r"\b(is|was|are|were|has|have|had|do|does|did|will|would|could|should|can|must|may"
            r"|might) not\b"
        ),
        r"\1",
    ),
    (re.compile(r"\b(is|was|are|were|has|have|had|do|does|did|could|would|should)n[’']t\b"), r"\1"),
    (re.compile(r"\bwon[’']t\b"), "will"),
    (re.compile(r"\b(?:can[’']t|cannot)\b"), "can"),
)
_NEG_INSERT = re.compile(rf"\b({_AUX})\b(?! not\b)")
_LEAD_CLAUSE = re.compile(
    r"^(?:However|Meanwhile|Also|Moreover|In addition|Additionally|Earlier|Later|Still|Indeed|"
    r"Separately|In a statement|According to [^,]{2,60}|On (?:Monday|Tuesday|Wednesday|Thursday|"
    r"Friday|Saturday|Sunday)|(?:Last|This|Earlier this) (?:week|month|year|weekend)),\s+(?=\S)"
)
_TRAIL_ATTRIBUTION = re.compile(
    r",([\"”]?)\s+(?:he|she|they|police|officials|authorities|the \w+|[A-Z][a-z]+(?: [A-Z][a-z]+)?)"
    r" (?:said|says|added|told [\w ]{2,40}|explained|reported)\.$"
)
_PARENTHESIS = re.compile(r"\s*\([^()]{1,80}\)")
_SAID_THAT = re.compile(
    r"^[A-Z][\w.'’ -]{1,60}? (?:said|says|told [\w ]{2,40}?|reported|announced|confirmed)"
    r"(?: on \w+)? that (?=[a-z])"
)
_ACCORDING_TRAIL = re.compile(r",\s+according to [^,]{2,60}(?=\.$)")
# a relative clause closed by a comma before a lower-case word ("Smith, who is 45, said")
_RELATIVE = re.compile(r",\s(?:who|which)\s[^,;\"“”]{3,80}?(?:,(?=\s[a-z])|(?=\.$))")
_REWRITES = (
    (_LEAD_CLAUSE, ""),
    (_SAID_THAT, ""),
    (_TRAIL_ATTRIBUTION, r".\1"),
    (_ACCORDING_TRAIL, ""),
    (_RELATIVE, ""),
    (_PARENTHESIS, ""),
)


@lru_cache(maxsize=1)
def _segmenter() -> pysbd.Segmenter:
    return pysbd.Segmenter(language="en", clean=False)


def _content_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if len(w) > 2 and w not in _STOP}


def _claimable(sentence: str) -> bool:
    """A sentence that could stand alone as a comment's claim."""
    s = sentence.strip()
    return (
        40 <= len(s) <= 300
        and len(s.split()) >= 7
        and s[-1] in ".!\"”’'"
        and "?" not in s
        and "\n" not in s
        and any(c.islower() for c in s)
    )


def _entities(text: str) -> list[str]:
    """Capitalised multi-word runs minus leading function words: rough names."""
    out = []
    for m in _CAPS_RUN.finditer(text):
        words = m.group().split()
        while words and words[0] in _NOT_NAME:
            words = words[1:]
        if len(words) >= 2:
            out.append(" ".join(words))
    return out


def _other_number(old: str, rng: random.Random) -> str:
    if "." in old:
        return f"{float(old) * 2:.{len(old.split('.')[1])}f}"
    n = int(old.replace(",", ""))
    if len(old) == 4 and 1900 <= n <= 2099:  # a year: move it a little
        return str(n + rng.choice((-3, -2, -1, 1, 2, 3)))
    flipped = str(n)[::-1]
    if len(set(str(n))) > 1 and flipped[0] != "0" and rng.random() < 0.5:
        new = int(flipped)  # 58 -> 85
    else:
        new = n * 2 if n > 1 else n + rng.randint(2, 5)
    return f"{new:,}" if "," in old else str(new)


def _change_number(sentence: str, article: str, rng: random.Random) -> str | None:
    matches = list(_NUMBER.finditer(sentence))
    if not matches:
        return None
    m = rng.choice(matches)
    new = _other_number(m.group(), rng)
    if new == m.group() or re.search(rf"(?<![\d,.]){re.escape(new)}(?![\d])", article):
        return None  # the new number occurs in the article: it might be true elsewhere
    return sentence[: m.start()] + new + sentence[m.end() :]


def _swap_entity(sentence: str, article: str, rng: random.Random) -> str | None:
    """Replace a name with another name from the same article: the article then says
    something else about both (an intrinsic error), not merely nothing."""
    present = _entities(sentence)
    if not present:
        return None
    old = rng.choice(present)
    options = sorted(
        {
            e
            for e in _entities(article)
            if e not in sentence and not set(e.split()) & set(old.split())
        }
    )
    if not options:
        return None
    return sentence.replace(old, rng.choice(options), 1)


def _turn_negation(text: str) -> str | None:
    """The first negated auxiliary un-negated, else the first auxiliary negated."""
    for pattern, repl in _NEG_REMOVE:
        if pattern.search(text):
            return pattern.sub(repl, text, count=1)
    if _NEG_INSERT.search(text):
        return _NEG_INSERT.sub(r"\1 not", text, count=1)
    return None


def _flip_negation(sentence: str, article: str, rng: random.Random) -> str | None:
    return _turn_negation(sentence)


_Perturb = Callable[[str, str, random.Random], str | None]  # (sentence, article, rng) -> claim
_PERTURBATIONS: tuple[tuple[str, _Perturb], ...] = (
    ("number", _change_number),
    ("entity", _swap_entity),
    ("negation", _flip_negation),
)


def _rewrite(sentence: str) -> str | None:
    """A trim that keeps the sentence entailed: drop a discourse/time lead-in, a "X said
    that" frame, a trailing attribution, a non-restrictive relative clause or a
    parenthesis. None when nothing applies."""
    new = sentence
    for pattern, repl in _REWRITES:
        new = pattern.sub(repl, new, count=1).strip()
    if new == sentence or len(new.split()) < 6:
        return None
    return new[0].upper() + new[1:]


@lru_cache(maxsize=4096)
def _claimable_sentences(body: str) -> tuple[str, ...]:
    return tuple(s.strip() for s in _segmenter().segment(body) if _claimable(s))
