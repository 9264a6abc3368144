"""Stance rows written for rebut from real text: claims negated, reports turned, comments
framed around a fact, and off-topic reader comments. data/cards/stance.md says why each
exists. All are train-only or evaluation-only: no dev group's body is read.
"""

from __future__ import annotations

import json
import random
import re
from collections import defaultdict
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from training.data.examples import Split, StanceExample
from training.data.fnc_arc import _fnc
from training.data.grounding_synthetic import _from_other_body
from training.data.moderation_sources import load_moderation
from training.data.perturbations import (
    _NOT_NAME,
    _PERTURBATIONS,
    SYNTH_SEED,
    _claimable_sentences,
    _turn_negation,
)
from training.data.splits import _REPO, DEV_PERCENT, _hash, _root, in_dev

_NEGATION = re.compile(r"\b(?:not|no|never|nobody|nothing|none|cannot)\b|n[’']t\b", re.IGNORECASE)
_OPPOSITE = {"agrees": "disputes", "disputes": "agrees"}


def negate_claim(claim: str) -> str | None:
    """The claim with its polarity turned ("X should not Y" <-> "X should Y", "We don't
    need Z" -> "We do need Z"), or None where no single auxiliary can carry the change: a
    claim without one ("Tenure protects bad teachers") or with two negations."""
    return None if len(_NEGATION.findall(claim)) > 1 else _turn_negation(claim)


def negated_claims(examples: Iterable[StanceExample]) -> list[StanceExample]:
    """Each agreeing or disputing comment again, against its claim negated and with the
    opposite label (source `<source>_negated`, train only). ARC and Perspectrum judge a
    comment against a one-line claim, and every comment answers one claim, so a model can
    learn a comment's label without reading the claim: 0.5.10 kept its label for 69% of ARC's
    and Perspectrum's dev comments when their claim was negated (`negated_claims` in `rebut
    eval stance`; data/cards/stance.md). The same comment with opposite labels makes the
    claim count."""
    rows = []
    for e in examples:
        negated = negate_claim(e.article_body) if e.label in _OPPOSITE else None
        if negated is not None:
            rows.append(
                StanceExample(
                    e.comment,
                    e.article_title,
                    negated,
                    _OPPOSITE[e.label],
                    f"{e.source}_negated",
                    e.group,
                )
            )
    return rows


def turned_reports(
    data_dir: Path | str | None = None, *, dev: bool, limit: int | None = None
) -> list[StanceExample]:
    """One statement under one report and under the same report saying the opposite: for
    an FNC-1 body, a sentence S that one auxiliary can negate (`negate_claim`), the body B'
    with S turned in place, and four rows in this order: S under B `agrees`, S under B'
    `disputes`, not-S under B `disputes`, not-S under B' `agrees` (source
    `rebut_turned_reports`). A head that judges the comment alone gets two of four right;
    0.5.11 called not-S under B' (a negated statement under a report that says the same)
    `agrees` only half the time, as if a "not" in a comment meant `disputes`
    (data/cards/stance.md). `dev` picks the bodies of dev groups (`rebut eval stance`) or
    of training groups: a pass trained on those rows was tried and not shipped, so
    load_stance does not add them. One sentence a body, by a seeded draw."""
    bodies, _, cluster = _fnc(_root(data_dir))
    rows: list[StanceExample] = []
    for body_id in sorted(bodies, key=lambda b: _hash(f"turned-report:{b}")):
        group = f"fnc1:claim{cluster.get(body_id, body_id)}"
        if in_dev(group, DEV_PERCENT) != dev:
            continue
        body = bodies[body_id]
        candidates = [
            (s, t) for s in _claimable_sentences(body) if (t := negate_claim(s)) and s in body
        ]
        if not candidates:
            continue
        said, turned = random.Random(f"{SYNTH_SEED}:turned:{body_id}").choice(candidates)
        other = body.replace(said, turned, 1)
        for comment, report, label in (
            (said, body, "agrees"),
            (said, other, "disputes"),
            (turned, body, "disputes"),
            (turned, other, "agrees"),
        ):
            rows.append(StanceExample(comment, "", report, label, "rebut_turned_reports", group))
        if limit is not None and len(rows) >= 4 * limit:
            break
    return rows


# --------------------------------------------------------------------------- stance: synthetic

COMMENT_FRAMES = _REPO / "data" / "stance" / "comment_frames.json"
SYNTH_STANCE_PER_BODY = 2  # framed comments per FNC-1 training body, each of its own kind


@lru_cache(maxsize=1)
def _comment_frames() -> dict[str, dict]:
    frames = json.loads(COMMENT_FRAMES.read_text(encoding="utf-8"))
    return {kind: v for kind, v in frames.items() if kind != "about"}


_CONNECTIVE = re.compile(r"^(?:But|And|So|Yet|Still|However,|Meanwhile,)\s+(?=\S)")


def _framed(frame: str, fact: str, body: str) -> str:
    """`fact` put into `frame`, without a leading "But"/"And" that tied it to its own
    article. Mid-sentence, a fact that opens with a common word ("The", "It", or one the
    body also writes in lower case) loses its capital; a name keeps it."""
    fact = _CONNECTIVE.sub("", fact)
    fact = fact[0].upper() + fact[1:]
    head = frame.split("{fact}")[0]
    first = fact.split(" ", 1)[0]
    common = first in _NOT_NAME or re.search(rf"\b{re.escape(first.lower())}\b", body)
    if head and not head.rstrip().endswith((".", ":", "?", "!")) and common:
        fact = fact[0].lower() + fact[1:]
    return frame.replace("{fact}", fact)


def _stance_synthetic(root: Path, limit: int | None) -> Split[StanceExample]:
    """Comments that take a side by how they frame a fact, against FNC-1 training bodies:
    the rebuttals real readers write most ("the article leaves out that ...", "wrong, it
    was ...") are rare in FNC-1, ARC and Perspectrum, whose disputes deny a headline
    (data/cards/stance.md). Frames are data/stance/comment_frames.json, written for rebut;
    facts come from the grounding synthesis: a same-story sentence this body lacks
    (omission, addition), a perturbed body sentence (correction), a body sentence
    (agreement). Dev groups are skipped, so dev bodies stay unseen; rows are train only."""
    bodies, _, cluster = _fnc(root)
    ids = sorted(bodies, key=lambda b: _hash(f"stance-synth:{b}"))
    if limit is not None:
        ids = ids[: max(30, 2 * limit)]
    same_topic: dict[str, list[str]] = defaultdict(list)
    for body_id in ids:
        same_topic[cluster.get(body_id, body_id)].append(body_id)
    frames = _comment_frames()
    train: list[StanceExample] = []
    for body_id in ids:
        topic = cluster.get(body_id, body_id)
        group = f"fnc1:claim{topic}"
        if in_dev(group, DEV_PERCENT):
            continue
        body = bodies[body_id]
        rng = random.Random(f"{SYNTH_SEED}:stance:{body_id}")
        others = [bodies[b] for b in same_topic[topic] if b != body_id]
        own = list(_claimable_sentences(body))
        rng.shuffle(own)
        kinds = sorted(frames)
        rng.shuffle(kinds)
        made = 0
        for kind in kinds:
            if made == SYNTH_STANCE_PER_BODY:
                break
            fact = _stance_fact(kind, body, own, others, group, rng)
            if fact is None:
                continue
            comment = _framed(rng.choice(frames[kind]["frames"]), fact, body)
            label = frames[kind]["label"]
            train.append(StanceExample(comment, "", body, label, "rebut_frames", group))
            made += 1
    return train, []


# real comments about something else: Wikipedia talk pages, news sites' own threads, music
# videos; non-abusive, so that `unrelated` is not learned as "abusive"
OFFTOPIC_SOURCES = ("jigsaw", "civil_comments_spans", "youtube_spam")
OFFTOPIC_WORDS = (6, 60)


def _stance_offtopic(root: Path, limit: int | None) -> Split[StanceExample]:
    """Reader comments from the moderation sources' *train* splits beside FNC-1 training
    bodies, labelled `unrelated`: one per body, for half the bodies. FNC-1's unrelated
    pairs are a headline against another story's body, so a model trained on them and on
    framed comments calls a chatty comment about football under a war report `discusses`
    (data/cards/stance.md); these are comments as readers write them, about other things.
    Dev groups are skipped; rows are train only."""
    comments = sorted(
        {
            e.text
            for e in load_moderation(root, limit_per_source=limit)[0]
            if e.source in OFFTOPIC_SOURCES
            and not any(e.labels.get(a) for a in ("toxicity", "insult", "threat", "profanity"))
            and OFFTOPIC_WORDS[0] <= len(e.text.split()) <= OFFTOPIC_WORDS[1]
        },
        key=lambda t: _hash(f"stance-offtopic:{t}"),
    )
    bodies, _, cluster = _fnc(root)
    ids = sorted(bodies, key=lambda b: _hash(f"stance-offtopic:{b}"))
    ids = ids[: len(ids) // 2] if limit is None else ids[: max(15, limit)]
    train: list[StanceExample] = []
    for body_id, comment in zip(ids, comments):
        group = f"fnc1:claim{cluster.get(body_id, body_id)}"
        if in_dev(group, DEV_PERCENT):
            continue
        train.append(
            StanceExample(comment, "", bodies[body_id], "unrelated", "rebut_offtopic", group)
        )
    return train, []


def _stance_fact(
    kind: str, body: str, own: list[str], others: list[str], group: str, rng: random.Random
) -> str | None:
    """The sentence a frame of `kind` wraps (`own`: this body's claimable sentences,
    shuffled; `others`: same-story bodies), or None where the body offers none."""
    if kind in ("omission", "addition"):
        found = _from_other_body(body, others, group, rng, per_body=1)
        return found[0].claim if found else None
    if kind == "agreement":
        return own[0] if own else None
    for sentence in own[:5]:  # correction: the first body sentence a perturbation changes
        for _, perturb in rng.sample(_PERTURBATIONS, len(_PERTURBATIONS)):
            changed = perturb(sentence, body, rng)
            if changed:
                return changed
    return None
