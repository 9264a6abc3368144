"""Undo the common ways abusive words are disguised, before the moderation model reads a
text (the claim and grounding models read the comment as written).

- Unicode look-alikes (Cyrillic і/о, fullwidth ｉ, mathematical 𝐢𝐝𝐢𝐨𝐭, accents) become
  ASCII with anyascii, a maintained transliteration table. Emoji become their names.
- Letters spelled out with separators ("i d i o t", "i.d.i.o.t", "s-c-u-m") are joined.
- Leetspeak inside a word ("1d10t", "sh!t", "@ss") becomes letters, but only for a token
  that mixes letters with those symbols: numbers, prices, handles and links stay as
  they are.
- A letter repeated three or more times ("stuuuupid") becomes one.

Ordinary text passes through unchanged apart from transliteration, which the model
sees the same way ("café" -> "cafe"); tests/test_normalize.py holds both sides.
"""

from __future__ import annotations

import re

from anyascii import anyascii

_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a",
                       "$": "s", "!": "i", "|": "l", "+": "t"})  # fmt: skip
_LEET_CHARS = "013457@$!|+"
_TOKEN = re.compile(r"\S+")
_EDGE = re.compile(r"^([\"'(\[]*)(.*?)([\"')\].,;:?!]*)$", re.DOTALL)
# three or more single letters separated by one separator each: "i d i o t", "i.d.i.o.t"
_SPELLED = re.compile(r"\b(?:[A-Za-z][ .\-_*]){2,}[A-Za-z]\b")
_REPEATS = re.compile(r"([A-Za-z])\1{2,}")


def _deleet(token: str) -> str:
    if token.startswith(("@", "#", "http", "www.")) or "://" in token:
        return token  # handles, hashtags and links keep their spelling
    lead, core, trail = _EDGE.match(token).groups()  # type: ignore[union-attr]
    if not core:
        return token
    # a symbol between letters ("k1ll", "sh!t") or a non-digit one in front ("@ss"); a
    # number in front or behind is a unit or a name ("7pm", "3rd", "covid19", "mp3")
    interior = re.search(rf"[A-Za-z][{re.escape(_LEET_CHARS)}]+[A-Za-z]", core)
    leading = re.match(rf"[{re.escape(_LEET_CHARS[6:])}]+[A-Za-z]", core)
    if not interior and not leading:
        return token
    mapped = core.translate(_LEET)
    return lead + mapped + trail if mapped.isalpha() else token


def _join_spelled(match: re.Match[str]) -> str:
    text = match.group(0)
    letters = text[::2]
    separators = set(text[1::2])
    # "a b c" lists and initials ("U S A") are rarer than disguise, but a single
    # consistent separator is what both look like; require four letters for spaces
    if separators == {" "} and len(letters) < 4:
        return text
    return letters


def normalize_for_moderation(text: str) -> str:
    text = anyascii(text)
    text = _SPELLED.sub(_join_spelled, text)
    text = _TOKEN.sub(lambda m: _deleet(m.group(0)), text)
    return _REPEATS.sub(r"\1", text)
