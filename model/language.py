"""Which language a comment is in, with py3langid (a maintained fork of langid.py that
ships its own model: no download, no network).

rebut's models read English. A comment confidently in another language is reported as
such and its abuse scores are not trusted (model/moderation.py's Policy says what to do
with it); short or mixed texts that the detector cannot place are scored as English,
because that is what most of them are on an English-language site ("lol ok", "u r a
moron").
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import py3langid.langid as langid

SUPPORTED = frozenset({"en"})
MIN_LETTERS = 20  # fewer letters than this and langid's guesses are noise
MIN_PROBABILITY = 0.9  # normalised probability needed to call a text non-English


@dataclass(frozen=True)
class Language:
    code: str  # ISO 639-1 as langid reports it; "en" also for texts it cannot place
    probability: float  # the detector's normalised probability for `code` (1.0 if assumed)
    supported: bool


@lru_cache(maxsize=1)
def _identifier() -> langid.LanguageIdentifier:
    return langid.LanguageIdentifier.from_modelpath(
        langid.MODEL_DIR / langid.MODEL_FILE, norm_probs=True
    )


def detect_language(text: str) -> Language:
    if sum(c.isalpha() for c in text) < MIN_LETTERS:
        return Language("en", 1.0, True)
    code, probability = _identifier().classify(text)
    if code in SUPPORTED or probability < MIN_PROBABILITY:
        return Language("en", 1.0 if code != "en" else float(probability), True)
    return Language(str(code), float(probability), False)
