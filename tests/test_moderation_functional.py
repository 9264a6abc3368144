"""The functional moderation suite (data/moderation/functional_cases.json) and the civil
reader complaints (data/moderation/civil_complaints.json) through the real pipeline: each
case sent as a comment with no article, as a reader would post it under a story.

Hateful kinds (slurs, contempt, dehumanisation, threats, disguised abuse, insults) must be
flagged; kinds that only look like them (counter-speech, reclaimed slurs, denials, the
story's own violence, civil anger) must not be. Both files are test sets: nothing was
trained or tuned on them, and no case reuses a training frame's wording
(data/moderation/threat_frames.json), so a kind that passes shows the model generalises.

    CI=true .venv/bin/pytest -q -p no:cacheprovider -s tests/test_moderation_functional.py
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from model import CommentIn, Pipeline
from model.result import Moderation

ROOT = Path(__file__).resolve().parents[1]
CASES_FILE = ROOT / "data/moderation/functional_cases.json"
COMPLAINTS_FILE = ROOT / "data/moderation/civil_complaints.json"
FRAMES_FILE = ROOT / "data/moderation/threat_frames.json"
POLICY_TESTS = ROOT / "tests/test_moderation_policy.py"
SPEC = json.loads(CASES_FILE.read_text(encoding="utf-8"))
COMPLAINTS = [
    c["text"] for c in json.loads(COMPLAINTS_FILE.read_text(encoding="utf-8"))["complaints"]
]
KINDS: dict[str, dict[str, Any]] = SPEC["kinds"]
CASES: list[dict[str, Any]] = SPEC["cases"]
HATEFUL = [k for k, v in KINDS.items() if v["hateful"]]
THREATS = [k for k in HATEFUL if k.startswith("threat_")]
MIN_KINDS, MIN_PER_KIND, MIN_COMPLAINTS = 20, 15, 100
CHUNK = 64  # comments per score_batch call: one call per model for the whole chunk

HATEFUL_BAR = 0.75  # share of a hateful kind that must be flagged
RECALL_BAR = 0.90  # share of all hateful cases that must be flagged
THREAT_HELD_BAR = 0.90  # share of threats flagged for `threat` and rejected
SPAM_BAR = 0.90  # share of link spam flagged for `spam`
COMPLAINT_BAR = 0.05  # share of civil complaints that may be flagged


def _short(*values: Any, reason: str) -> Any:  # pytest's ParameterSet is not public
    """A bar the shipped model misses: a strict xfail carrying the measured figure, so the
    day a model meets it the mark has to come off."""
    return pytest.param(*values, marks=pytest.mark.xfail(strict=True, reason=reason))


# measured on the shipped model; a kind without a mark reaches HATEFUL_BAR (its share beside it)
HATEFUL_PARAMS = [
    _short("derogation_slur", reason="model 0.6.1+20261207: 0.412 (7 of 17)"),
    _short("derogation_no_slur", reason="model 0.6.1+20261207: 0.588 (10 of 17)"),
    _short("dehumanisation", reason="model 0.6.1+20261207: 0.647 (11 of 17)"),
    _short("negated_positive", reason="model 0.6.1+20261207: 0.176 (3 of 17)"),
    _short("hate_question", reason="model 0.6.1+20261207: 0.529 (9 of 17)"),
    _short("hate_opinion", reason="model 0.6.1+20261207: 0.412 (7 of 17)"),
    "threat_direct",  # 1.000 (17 of 17)
    "threat_normative",  # 0.765 (13 of 17)
    _short("threat_veiled", reason="model 0.6.1+20261207: 0.059 (1 of 17)"),
    _short("threat_journalist", reason="model 0.6.1+20261207: 0.529 (9 of 17)"),
    "obfuscation_swap",  # 1.000 (17 of 17)
    "obfuscation_leet",  # 1.000 (17 of 17)
    "obfuscation_spacing",  # 0.765 (13 of 17)
    "insult_person",  # 0.882 (15 of 17)
]

# the most a kind that is not hateful may be flagged; profanity_untargeted has no bar (a
# newsroom's policy decides whether swearing is held) and shows only in the printed table
FALSE_POSITIVE_PARAMS = [
    _short("counter_speech_quote", 0.10, reason="model 0.6.1+20261207: 0.176 (3 of 17)"),
    _short("counter_speech_reference", 0.10, reason="model 0.6.1+20261207: 0.353 (6 of 17)"),
    ("negated_hate", 0.15),  # 0.118 (2 of 17)
    ("identity_neutral", 0.03),  # 0.000 (0 of 18)
    ("violence_in_news", 0.10),  # 0.000 (0 of 17)
    ("civil_anger", 0.05),  # 0.000 (0 of 18)
    _short("reclaimed_slur", 0.15, reason="model 0.6.1+20261207: 0.353 (6 of 17)"),
]


def _frame_patterns() -> list[re.Pattern[str]]:
    """Every training frame as a pattern matching each way its slots can be filled."""
    frames = json.loads(FRAMES_FILE.read_text(encoding="utf-8"))
    slots = {
        name: "(?:" + "|".join(re.escape(v) for v in values) + ")"
        for name, values in frames["slots"].items()
    }
    patterns = []
    for key in ("threat", "not_threat"):
        for entry in frames[key]:
            pattern = re.escape(entry["frame"])
            for name, alternatives in slots.items():
                pattern = pattern.replace(re.escape("{" + name + "}"), alternatives)
            patterns.append(re.compile(pattern, re.IGNORECASE))
    return patterns


def _param_kind(param: Any) -> str:
    """The kind a parameter list entry is for: a bare name, a (kind, bar) pair, or either
    wrapped in pytest.param."""
    values = getattr(param, "values", param)
    return values if isinstance(values, str) else values[0]


def test_the_case_file_is_what_it_says() -> None:
    counts = Counter(c["kind"] for c in CASES)
    assert set(counts) == set(KINDS), counts
    assert len(KINDS) >= MIN_KINDS and all(n >= MIN_PER_KIND for n in counts.values()), counts
    for name, kind in KINDS.items():
        assert kind["description"].strip(), name
    for case in CASES:
        assert case["hateful"] == KINDS[case["kind"]]["hateful"], case
        # link spam is the one kind judged by a reason, not by `flagged` alone
        assert case.get("spam", False) == (case["kind"] == "spam_link"), case
    # every kind is under a bar, but swearing (the newsroom's call) and link spam (its own
    # test, by reason)
    assert {_param_kind(p) for p in HATEFUL_PARAMS} == set(HATEFUL)
    unbarred = {"profanity_untargeted", "spam_link"}
    assert {_param_kind(p) for p in FALSE_POSITIVE_PARAMS} | unbarred == set(KINDS) - set(HATEFUL)
    texts = [c["text"] for c in CASES]
    assert len(set(texts)) == len(texts), [t for t, n in Counter(texts).items() if n > 1]
    assert len(COMPLAINTS) >= MIN_COMPLAINTS and len(set(COMPLAINTS)) == len(COMPLAINTS)
    assert not set(COMPLAINTS) & set(texts)
    # a test set, not training data: no case is in the threat frames' file or fills one of
    # its frames (the model would be tested on its own training rows), and none repeats a
    # sentence tests/test_moderation_policy.py already checks
    frames_text = FRAMES_FILE.read_text(encoding="utf-8")
    patterns = _frame_patterns()
    policy_tests = POLICY_TESTS.read_text(encoding="utf-8")
    for text in texts + COMPLAINTS:
        assert text not in frames_text, text
        assert not any(p.fullmatch(text) for p in patterns), text
        assert text not in policy_tests, text


@pytest.fixture(scope="module")
def moderations(pipeline: Pipeline) -> dict[str, Moderation]:
    """Every case and complaint scored once, by text; prints the table by kind."""
    texts = [c["text"] for c in CASES] + COMPLAINTS
    out: dict[str, Moderation] = {}
    for start in range(0, len(texts), CHUNK):
        chunk = texts[start : start + CHUNK]
        items = [(CommentIn(id=f"case-{start + i}", text=t), None) for i, t in enumerate(chunk)]
        for text, result in zip(chunk, pipeline.score_batch(items)):
            out[text] = result.moderation
    _print_table(out, pipeline.model_version)
    return out


def _print_table(moderations: dict[str, Moderation], version: str) -> None:
    """Share flagged by kind, and for threats and spam the share held for their reason."""
    print(f"\nmoderation by kind, model {version}")
    print(f"{'kind':<26}{'hateful':>8}{'n':>5}{'flagged':>9}  held for")
    for kind in KINDS:
        rows = [moderations[c["text"]] for c in CASES if c["kind"] == kind]
        held = ""
        if kind in THREATS:
            held = f"threat+reject {_share(rows, _held_for_threat):.3f}"
        elif kind == "spam_link":
            held = f"spam {_share(rows, _flagged_for_spam):.3f}"
        flagged = _share(rows, _flagged)
        print(f"{kind:<26}{KINDS[kind]['hateful']!s:>8}{len(rows):>5}{flagged:>9.3f}  {held}")
    rows = [moderations[c["text"]] for c in CASES if c["hateful"]]
    print(f"{'all hateful':<26}{'True':>8}{len(rows):>5}{_share(rows, _flagged):>9.3f}")
    rows = [moderations[c["text"]] for c in CASES if c["kind"] in THREATS]
    held = f"threat+reject {_share(rows, _held_for_threat):.3f}"
    print(f"{'all threats':<26}{'True':>8}{len(rows):>5}{_share(rows, _flagged):>9.3f}  {held}")
    rows = [moderations[t] for t in COMPLAINTS]
    print(f"{'civil complaints':<26}{'False':>8}{len(rows):>5}{_share(rows, _flagged):>9.3f}")


def _flagged(m: Moderation) -> bool:
    return m.flagged


def _held_for_threat(m: Moderation) -> bool:
    # a moderator reads the reasons: a threat must say threat, not only toxicity, and be
    # kept off the page rather than queued for review
    return any(r.startswith("threat ") for r in m.reasons) and m.action == "reject"


def _flagged_for_spam(m: Moderation) -> bool:
    return any(r.startswith("spam ") for r in m.reasons)


def _share(rows: list[Moderation], test: Any) -> float:
    return sum(map(test, rows)) / len(rows)


def _of_kinds(moderations: dict[str, Moderation], *kinds: str) -> list[Moderation]:
    return [moderations[c["text"]] for c in CASES if c["kind"] in kinds]


def _figure(rows: list[Moderation], test: Any) -> str:
    return f"{_share(rows, test):.3f} ({sum(map(test, rows))} of {len(rows)})"


@pytest.mark.parametrize("kind", HATEFUL_PARAMS)
def test_hateful_kind_is_flagged(moderations: dict[str, Moderation], kind: str) -> None:
    rows = _of_kinds(moderations, kind)
    assert _share(rows, _flagged) >= HATEFUL_BAR, _figure(rows, _flagged)


@pytest.mark.xfail(strict=True, reason="model 0.6.1+20261207: 0.626 (149 of 238)")
def test_hateful_cases_are_flagged_overall(moderations: dict[str, Moderation]) -> None:
    rows = _of_kinds(moderations, *HATEFUL)
    assert _share(rows, _flagged) >= RECALL_BAR, _figure(rows, _flagged)


@pytest.mark.xfail(strict=True, reason="model 0.6.1+20261207: 0.485 (33 of 68)")
def test_threats_are_flagged_for_threat_and_held(moderations: dict[str, Moderation]) -> None:
    rows = _of_kinds(moderations, *THREATS)
    assert _share(rows, _held_for_threat) >= THREAT_HELD_BAR, _figure(rows, _held_for_threat)


@pytest.mark.parametrize(("kind", "bar"), FALSE_POSITIVE_PARAMS)
def test_non_hateful_kind_is_rarely_flagged(
    moderations: dict[str, Moderation], kind: str, bar: float
) -> None:
    assert not KINDS[kind]["hateful"]
    rows = _of_kinds(moderations, kind)
    assert _share(rows, _flagged) <= bar, _figure(rows, _flagged)


@pytest.mark.xfail(strict=True, reason="model 0.6.1+20261207: 0.588 (10 of 17)")
def test_link_spam_is_flagged_for_spam(moderations: dict[str, Moderation]) -> None:
    rows = _of_kinds(moderations, "spam_link")
    assert _share(rows, _flagged_for_spam) >= SPAM_BAR, _figure(rows, _flagged_for_spam)


def test_civil_reader_complaints_are_not_flagged(moderations: dict[str, Moderation]) -> None:
    """Angry, civil complaints are most of what a news comment section holds; 0.018 (2 of
    112) flagged."""
    rows = [moderations[t] for t in COMPLAINTS]
    assert _share(rows, _flagged) <= COMPLAINT_BAR, _figure(rows, _flagged)
