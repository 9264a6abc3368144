"""Three checks an editor makes before trusting the grounding cross-encoder's verdict.

The cross-encoder learned contradictions from one-word edits of article sentences (a number,
a name or a negation changed), so it reads any other local difference the same way: a
reader's copy of an article sentence with a few words left out ("The mill will close in
September, putting 340 jobs at risk") came out `contradicted` at 0.97. And once the rest of
the claim is reworded, a figure or a name the article gives differently comes out
`not_in_article` or even `supported` ("The mill opened in 1912" against "The mill opened
in 1887").

These mistakes are visible in the words, so the checks read the words of the evidence the
cross-encoder read (the same string, in the pipeline and in `rebut eval grounding`):

- **quoted**: every word of the claim appears, in order, in one sentence of the evidence;
  the quote starts the sentence or a clause; what it leaves out is a few words at a time
  (`MAX_GAP`), a clause set off by commas or a conjunct before "and"; and nothing left out
  or around it negates, hedges or disputes it (not, denied, allegedly, former; a number
  among a few words left out). The article then says what the claim says: `supported`.
- **figure differs**: the claim gives a figure (a count of some unit, an amount of money, a
  share, a year, a month, a weekday, "doubled") that the evidence gives differently, in a
  sentence that, with the sentence before it (a fact spread over two), holds at least half
  of the claim's other content words. Not when the claim's figure, or its number as
  written, appears anywhere in the evidence, or one within 5% of it (rounding), or when
  another figure of the claim in the same unit does; dates are compared only after the
  same word ("since June" with "since March"); approximate figures on either side ("about
  300", "more than 2,000", "the 1970s", "early 2011") are not compared. The article then
  says something else about the same fact: `contradicted`.
- **actor differs**: the claim opens with a full name that the evidence sentence lacks
  ("Mayor John Briggs"), and the claim's next three words ("cut the ribbon") follow another
  full name there ("Council leader Maria Okafor cut the ribbon"): `contradicted`.

A check that fires sets its label's probability to the check's measured precision on the
grounding dev split (`CHECK_PRECISION`; data/cards/grounding.md, "Word checks") unless the
model is surer, and shares the rest as the model did, so status is still the arg-max of
scores. A check that does not fire leaves the model's probabilities alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import numpy as np

Check = Literal["quoted", "figure_differs", "actor_differs"]

MAX_GAP = 2  # words the claim may leave out at one place inside the quote ("in Millbrook")
MIN_QUOTED_WORDS = 5  # shorter quotes ("The mill closed.") prove little
MAX_SUBJECT_WORDS = 5  # "Union representative Peter Vance": a title and a name, no more
PREDICATE_WORDS = 3  # words after the subject that must match for "someone else did it"
MIN_SHARED_WORDS = 0.5  # share of the claim's other content words the figure's sentence holds

# Of the grounding dev rows where each check fires (model 0.5.9's evidence), the share whose
# label is the check's, as the lower end of its 95% Wilson interval, so that a check on few
# rows does not claim more than they show: quoted 404 of 405, figure 111 of 112, actor 19
# of 19 (data/cards/grounding.md, "Word checks"; `rebut eval grounding`, "word_checks").
CHECK_PRECISION: dict[Check, float] = {
    "quoted": 0.986,
    "figure_differs": 0.951,
    "actor_differs": 0.832,
}
CHECK_LABEL: dict[Check, str] = {
    "quoted": "supported",
    "figure_differs": "contradicted",
    "actor_differs": "contradicted",
}

_TOKEN = re.compile(r"[£$€%,]|\d+(?:[.,]\d+)*|[A-Za-z]+(?:['’][A-Za-z]+)*|[.!?;]")
_SENTENCE_END = {".", "!", "?", ";"}

# Words that, left out of a quote or standing around it, change what it asserts: negation,
# denial, hearsay, possibility, and intentions ("the council hopes that the bridge will
# reopen on Tuesday" does not say it will).
_CHANGES_MEANING = re.compile(
    r"^(?:not|no|never|none|nobody|nothing|neither|nor|without|cannot|"
    r"den(?:y|ies|ied)|refus\w*|reject\w*|disput\w*|doubt\w*|false\w*|untrue|wrong\w*|"
    r"alleged\w*|reported\w*|rumou?r\w*|unconfirmed|unverified|supposed\w*|claim\w*|"
    r"may|might|could|if|unless|whether|former|ex|almost|nearly|"
    r"hop(?:e|es|ed|ing)|expect\w*|plan(?:s|ned|ning)?|aim\w*|intend\w*|want\w*|"
    r"propos\w*|predict\w*|fear\w*)$|n['’]t$",
    re.IGNORECASE,
)

_NUMBER_WORDS = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
                 "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
                 "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
                 "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30,
                 "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
                 "ninety": 90, "hundred": 100, "dozen": 12}  # fmt: skip
_MAGNITUDE = {"hundred": 1e2, "thousand": 1e3, "million": 1e6, "m": 1e6, "billion": 1e9,
              "bn": 1e9, "trillion": 1e12, "k": 1e3}  # fmt: skip
_CURRENCY = {"£": "gbp", "pound": "gbp", "pounds": "gbp", "$": "usd", "dollar": "usd",
             "dollars": "usd", "€": "eur", "euro": "eur", "euros": "eur"}  # fmt: skip
_PERCENT = {"percent", "per", "pct"}
_FOLD = {"halved": 0.5, "doubled": 2.0, "tripled": 3.0, "trebled": 3.0, "quadrupled": 4.0}
_APPROXIMATE = {"about", "around", "approximately", "roughly", "some", "nearly", "almost",
                "early", "late", "mid",
                "over", "under", "than", "least", "most", "up", "estimated", "upwards",
                "several", "few", "many", "dozens", "hundreds", "thousands"}  # fmt: skip
_MONTHS = {"January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"}  # fmt: skip
_WEEKDAYS = {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}
# Words after which a quote may start: it then quotes a whole clause, not the tail of a noun
# phrase ("a man who attacked the officer was arrested" does not say the officer was).
_CLAUSE_START = {",", ":", "said", "says", "that", "and", "but"}
# Words after a number that are not what it counts ("between 2013 and 2014", "the 6th").
_NOT_UNIT = {"and", "or", "to", "in", "on", "at", "of", "for", "by", "from", "with", "as",
             "than", "per", "but", "when", "while", "he", "she", "it", "they", "we", "i",
             "th", "st", "nd", "rd", "s", "the", "a", "an", "is", "was", "were", "are"}  # fmt: skip
_YEAR_BEFORE = {"in", "since", "until", "till", "by", "from", "before", "after", "during",
                "of", "to", "early", "late", "mid"}  # fmt: skip
_STOP = {"the", "a", "an", "of", "to", "in", "on", "at", "for", "and", "or", "but", "by",
         "with", "from", "as", "is", "are", "was", "were", "be", "been", "being", "has",
         "have", "had", "it", "its", "this", "that", "these", "those", "their", "they",
         "he", "she", "his", "her", "will", "would", "said", "says", "after", "before",
         "since", "than", "which", "who", "there", "s"}  # fmt: skip


@dataclass(frozen=True)
class Figure:
    # "calendar year", "month", "weekday", "fold" (doubled), "%", a currency, or the
    # counted noun ("job")
    unit: str
    value: float | str
    approximate: bool
    position: int  # index of its first token, to leave its words out of the overlap
    before: str  # the word before it: a date is compared only after the same one ("in")


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def _sentences(tokens: list[str]) -> list[list[str]]:
    out: list[list[str]] = [[]]
    for t in tokens:
        out[-1].append(t)
        if t in _SENTENCE_END:
            out.append([])
    return [s for s in out if any(t not in _SENTENCE_END for t in s)]


def _words(tokens: list[str]) -> list[str]:
    return [t.lower() for t in tokens if t not in _SENTENCE_END and t != ","]


def _number(token: str) -> float | None:
    if token.lower() in _NUMBER_WORDS:
        return float(_NUMBER_WORDS[token.lower()])
    if token[0].isdigit():
        try:
            return float(token.replace(",", ""))
        except ValueError:  # "1.2.3": a version or a date, not a figure
            return None
    return None


def _singular(word: str) -> str:
    word = word.lower().replace("’", "'").removesuffix("'s").removesuffix("'")
    return word[:-1] if word.endswith("s") and not word.endswith("ss") and len(word) > 3 else word


def figures(text: str) -> list[Figure]:
    """The figures a text gives, each with the unit it counts."""
    return _figures(_tokens(text))


def _figures(tokens: list[str]) -> list[Figure]:
    out: list[Figure] = []
    lower = [t.lower() for t in tokens]
    for i, token in enumerate(tokens):
        before = lower[i - 1] if i else ""
        approximate = before in _APPROXIMATE or (i > 1 and lower[i - 2] in _APPROXIMATE)
        if token in _MONTHS and (i == 0 or before != "the"):  # "the May report" is a name
            out.append(Figure("month", token, approximate, i, before))
            continue
        if token in _WEEKDAYS:
            out.append(Figure("weekday", token, approximate, i, before))
            continue
        if lower[i] in _FOLD:
            out.append(Figure("fold", _FOLD[lower[i]], approximate, i, before))
            continue
        value = _number(token)
        if value is None or (i and _number(tokens[i - 1]) is not None):
            continue  # not a number, or the second word of one ("twenty five")
        after = lower[i + 1] if i + 1 < len(tokens) else ""
        if re.fullmatch(r"1[89]\d\d|20\d\d", token) and (
            before in _YEAR_BEFORE or not after[:1].isalpha() or after in _NOT_UNIT
        ):
            decade = after == "s"  # "the 1970s"
            out.append(Figure("calendar year", value, approximate or decade, i, before))
            continue
        unit = "count"
        j = i + 1
        while j < len(tokens) and lower[j] in _MAGNITUDE:
            value *= _MAGNITUDE[lower[j]]
            j += 1
        if before in _CURRENCY:
            unit = _CURRENCY[before]
        elif j < len(tokens) and lower[j] in _CURRENCY:
            unit = _CURRENCY[lower[j]]
        elif j < len(tokens) and (lower[j] in _PERCENT or tokens[j] == "%"):
            unit = "%"
        elif j < len(tokens) and tokens[j][0].isalpha() and lower[j] not in _NOT_UNIT:
            unit = _singular(tokens[j])
        if unit == "count" or len(unit) < 2:
            continue  # no noun to count ("one of them", "the 6th", "9in"): nothing to compare
        out.append(Figure(unit, value, approximate, i, before))
    return out


_DATES = {"calendar year", "month", "weekday"}
ROUNDING = 0.05  # a figure within 5% of the article's may be the same one, rounded


def _rounded(claimed: float, given: float) -> bool:
    return abs(claimed - given) <= ROUNDING * max(abs(claimed), abs(given))


def _content(words: list[str]) -> set[str]:
    return {_singular(w) for w in words if w not in _STOP and len(w) > 1}


def _skippable(run: list[str]) -> bool:
    """Whether a quote may leave these words of the sentence out: a few words that neither
    negate, hedge nor count ("Riverside textile", "in Millbrook"), or, if it does not negate
    or hedge, a whole clause set off by commas (", putting 340 jobs at risk,") or a conjunct
    before "and" ("cost 4.2 million pounds and")."""
    words = [w for w in run if w != ","]
    if any(_CHANGES_MEANING.match(w) for w in words):
        return False
    if len(run) >= 2 and run[0] == "," and run[-1] == ",":
        return True
    if words and words[-1].lower() == "and":  # a conjunct: "cost 4.2 million pounds and"
        return True
    return len(words) <= MAX_GAP and not any(_number(w) is not None for w in words)


def _quoted(claim: list[str], evidence: list[list[str]]) -> bool:
    """Whether the claim's words are one evidence sentence's words, in order, with only
    skippable runs left out, the quote starting a sentence or a clause, and nothing around
    it that negates or hedges it ("..., a claim the opposition denied")."""
    if len(claim) < MIN_QUOTED_WORDS:
        return False
    for sentence in evidence:
        words = [w.lower() for w in sentence if w not in _SENTENCE_END]
        starts = [
            k
            for k, w in enumerate(words)
            if w == claim[0] and (k == 0 or words[k - 1] in _CLAUSE_START)
        ]
        for start in starts:
            at = start
            for word in claim[1:]:
                nxt = next(
                    (j for j in range(at + 1, len(words))
                     if words[j] == word and _skippable(words[at + 1 : j])),
                    None,
                )  # fmt: skip
                if nxt is None:
                    break
                at = nxt
            else:
                if not any(_CHANGES_MEANING.match(w) for w in words[:start] + words[at + 1 :]):
                    return True
    return False


def _figure_differs(claim_tokens: list[str], evidence: list[list[str]]) -> bool:
    all_figures = _figures(claim_tokens)
    claim_figures = [f for f in all_figures if not f.approximate]
    if not claim_figures:
        return False
    per_sentence = [_figures(s) for s in evidence]
    # each sentence's content words with the sentence before it's: a fact spread over two
    nearby = [_content(_words((evidence[k - 1] if k else []) + s)) for k, s in enumerate(evidence)]
    # any unit, and the number as written: "seven girls" is not contradicted by "28 girls"
    # when "Seven Bosnian teenagers" is there too, nor "$800 million" by a careless "$800"
    evidence_values = {f.value for fs in per_sentence for f in fs} | {
        v for v in map(_number, _words([t for s in evidence for t in s])) if v is not None
    }
    figure_words = _content([claim_tokens[f.position].lower() for f in all_figures])
    others = _content(_words(claim_tokens)) - figure_words - {f.unit for f in claim_figures}
    others -= _content([*_MAGNITUDE, *_CURRENCY])
    if len(others) < 2:
        return False  # too little else to say the two sentences are about the same fact
    for figure in claim_figures:
        if any(f.unit == figure.unit and f.value in evidence_values for f in claim_figures):
            continue  # "in 1974 … the parents of 2014": the article's year is the claim's too
        # "doubled" is 2 only beside another fold ("two" is likely something else)
        given = (
            evidence_values
            if figure.unit != "fold"
            else {f.value for fs in per_sentence for f in fs if f.unit == "fold"}
        )
        written = _number(claim_tokens[figure.position])
        if figure.value in given or (figure.unit != "fold" and written in given):
            continue
        if (
            isinstance(figure.value, float)
            and figure.unit not in _DATES
            and any(isinstance(v, float) and _rounded(figure.value, v) for v in given)
        ):
            continue  # "$2,000 tip" for "$2,084", "20-stone" for "19 stone"
        for found, shared_words in zip(per_sentence, nearby, strict=True):
            same_unit = [
                f
                for f in found
                if f.unit == figure.unit
                and (figure.unit not in _DATES or f.before == figure.before)
            ]
            if not same_unit or any(f.approximate for f in same_unit):
                continue
            shared = len(others & shared_words) / len(others)
            if shared >= MIN_SHARED_WORDS:
                return True
    return False


def _subject_end(tokens: list[str]) -> int | None:
    """Where the predicate starts after a leading subject that names someone ("Mayor John
    Briggs | cut the ribbon", "Union representative Peter Vance | said"): the first of three
    lower-case words in a row; None when the subject holds no full name."""
    for n in range(1, min(len(tokens) - 2, MAX_SUBJECT_WORDS + 1)):
        if all(t[0].islower() for t in tokens[n : n + PREDICATE_WORDS]):
            return n if _full_name(tokens[:n]) else None
    return None


def _is_name(token: str) -> bool:
    # "Briggs", not "UNK" or "US" (data artefacts and acronyms) nor "The"
    return token[0].isupper() and token[1:].islower() and token.lower() not in _STOP


def _full_name(tokens: list[str]) -> set[str]:
    """The words of the subject's names when it holds a full name: two name words in a row
    ("John Briggs"), so that a place or an organisation alone ("Dog abandoned at Scotland")
    is not taken for a person."""
    if not any(_is_name(a) and _is_name(b) for a, b in zip(tokens, tokens[1:])):
        return set()
    return {t.lower() for t in tokens if _is_name(t)}


def _actor_differs(claim_tokens: list[str], evidence: list[list[str]]) -> bool:
    """The claim says someone the evidence never names did what the evidence says someone
    else did: its predicate's first words follow another full name in an evidence sentence,
    and no name of the claim's subject is in that sentence."""
    words = [t for t in claim_tokens if t != ","]
    n = _subject_end(words)
    if n is None or any(_CHANGES_MEANING.match(w) for w in words):
        return False
    predicate = [w.lower() for w in words[n : n + PREDICATE_WORDS]]
    ours = _full_name(words[:n]) - {words[0].lower()}  # "Mayor" may well be in the article
    for sentence in evidence:
        tokens = [t for t in sentence if t != "," and t not in _SENTENCE_END]
        lower = [t.lower() for t in tokens]
        for m in range(1, min(len(tokens) - PREDICATE_WORDS, MAX_SUBJECT_WORDS) + 1):
            if lower[m : m + PREDICATE_WORDS] != predicate:
                continue
            theirs = _full_name(tokens[:m])
            if (
                ours & set(lower)
                or not theirs - ours
                or any(_CHANGES_MEANING.match(w) for w in lower)
            ):
                continue
            rest = _content([w.lower() for w in words[n:]])
            if rest and len(rest & _content(lower[m:])) / len(rest) >= MIN_SHARED_WORDS:
                return True
    return False


def check_claim(claim: str, evidence: str) -> Check | None:
    """Which check, if any, decides this claim against the evidence the model read."""
    claim_tokens = [t for t in _tokens(claim) if t not in _SENTENCE_END]
    sentences = _sentences(_tokens(evidence))
    if _quoted(_words(claim_tokens), sentences):
        return "quoted"
    if _figure_differs(claim_tokens, sentences):
        return "figure_differs"
    if _actor_differs(claim_tokens, sentences):
        return "actor_differs"
    return None


def apply_checks(
    probabilities: np.ndarray, labels: list[str], checks: list[Check | None]
) -> np.ndarray:
    """`apply_check` over a batch: row i of the probabilities after checks[i]."""
    rows = [apply_check(p, labels, check) for p, check in zip(probabilities, checks)]
    return np.array(rows, dtype=probabilities.dtype).reshape(probabilities.shape)


def apply_check(probabilities: np.ndarray, labels: list[str], check: Check | None) -> np.ndarray:
    """The claim's probabilities after a check: the model's own when none fired, else the
    check's label at its dev precision and the rest shared as the model shared it."""
    if check is None:
        return probabilities
    target = labels.index(CHECK_LABEL[check])
    precision = CHECK_PRECISION[check]
    if probabilities[target] >= precision:  # the model already agrees, and more surely
        return probabilities
    rest = np.delete(probabilities, target)
    rest = rest / rest.sum() if rest.sum() > 0 else np.full_like(rest, 1 / len(rest))
    out = np.insert(rest * (1 - precision), target, precision)
    return out.astype(probabilities.dtype)
