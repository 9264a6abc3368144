"""Synthetic grounding claims against FNC-1 bodies, and the label balance of a split.

From each body: rewritten sentences (supported), perturbed ones (contradicted), sentences
removed with their neighbours (not_in_article), verbatim sentences (supported), and
same-story sentences of another body that this one lacks (not_in_article).
"""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

from training.data.examples import GroundingExample, Split
from training.data.fnc_arc import _fnc
from training.data.perturbations import (
    _PERTURBATIONS,
    SYNTH_SEED,
    _claimable,
    _claimable_sentences,
    _content_words,
    _Perturb,
    _rewrite,
    _segmenter,
)
from training.data.splits import DEV_PERCENT, _hash, _key, _split

SYNTH_PER_KIND = 3  # synthetic grounding examples per FNC-1 body and label
MAX_LABEL_SHARE = 0.45  # no grounding label may exceed this share of a split


def _synthesize(body: str, group: str, rng: random.Random, per_kind: int) -> list[GroundingExample]:
    """Up to `per_kind` examples of each label from one body, each from its own sentence.
    Scarce kinds pick first: rewritable sentences, then one of each perturbation."""
    sentences = _segmenter().segment(body)
    candidates = [i for i, s in enumerate(sentences) if _claimable(s)]
    rng.shuffle(candidates)
    used: set[int] = set()
    out: list[GroundingExample] = []

    def take(make: Callable[[int, str], GroundingExample | None], quota: int) -> None:
        for i in candidates:
            if quota <= 0:
                return
            example = None if i in used else make(i, sentences[i].strip())
            if example is not None:
                out.append(example)
                used.add(i)
                quota -= 1

    def rewritten(i: int, claim: str) -> GroundingExample | None:
        new = _rewrite(claim)
        return (
            GroundingExample(new, body, "supported", "fnc1_synth_rewrite", group) if new else None
        )

    def perturbed(name: str, perturb: _Perturb) -> Callable[[int, str], GroundingExample | None]:
        def make(i: int, claim: str) -> GroundingExample | None:
            new = perturb(claim, body, rng)
            source = f"fnc1_synth_{name}"
            return GroundingExample(new, body, "contradicted", source, group) if new else None

        return make

    def removed(i: int, claim: str) -> GroundingExample | None:
        if len(sentences) < 6:
            return None
        rest = "".join(sentences[: max(i - 1, 0)] + sentences[i + 2 :])  # and its neighbours
        words = _content_words(claim)
        # a fact restated elsewhere (a lede repeated lower down) would still be in the article
        if not words or len(words & _content_words(rest)) / len(words) > 0.7:
            return None
        return GroundingExample(claim, rest.strip(), "not_in_article", "fnc1_synth_removed", group)

    def verbatim(i: int, claim: str) -> GroundingExample:
        return GroundingExample(claim, body, "supported", "fnc1_synth_verbatim", group)

    take(rewritten, per_kind)
    supported = len(out)
    for name, perturb in _PERTURBATIONS:
        take(perturbed(name, perturb), max(1, per_kind // len(_PERTURBATIONS)))
    contradicted = len(out) - supported
    for name, perturb in _PERTURBATIONS:  # fill up with whatever applies
        take(perturbed(name, perturb), per_kind - contradicted)
        contradicted = len(out) - supported
    take(removed, per_kind)
    take(verbatim, per_kind - supported)
    return out


def _fnc_synthetic(root: Path, limit: int | None) -> Split[GroundingExample]:
    """Synthetic claims against FNC-1 bodies; each body gets its own seeded Random, so an
    example does not depend on which other bodies were mined (limit only mines fewer)."""
    bodies, _, cluster = _fnc(root)
    ids = sorted(bodies, key=lambda b: _hash(f"synth:{b}"))
    if limit is not None:
        ids = ids[: max(30, 2 * limit)]  # a smoke run segments a few bodies, not all 1,683
    same_topic: dict[str, list[str]] = defaultdict(list)
    for body_id in ids:
        same_topic[cluster.get(body_id, body_id)].append(body_id)
    pieces = []
    for body_id in ids:
        topic = cluster.get(body_id, body_id)
        group = f"fnc1:claim{topic}"
        rng = random.Random(f"{SYNTH_SEED}:{body_id}")
        pieces.extend((e, group) for e in _synthesize(bodies[body_id], group, rng, SYNTH_PER_KIND))
        others = [bodies[b] for b in same_topic[topic] if b != body_id]
        pieces.extend((e, group) for e in _from_other_body(bodies[body_id], others, group, rng))
    return _split(pieces, DEV_PERCENT)


def _from_other_body(
    body: str, others: list[str], group: str, rng: random.Random, per_body: int = 2
) -> list[GroundingExample]:
    """`not_in_article` claims that are on topic: sentences of another article about the
    same story (same FNC-1 claim cluster) whose content words this body mostly lacks.
    The same split group holds both bodies, so no dev claim was seen in training."""
    if not others:
        return []
    words = _content_words(body)
    candidates = [c for o in others for c in _claimable_sentences(o)]
    rng.shuffle(candidates)
    out: list[GroundingExample] = []
    for claim in candidates:
        claim_words = _content_words(claim)
        if claim_words and len(claim_words & words) / len(claim_words) <= 0.5:
            out.append(GroundingExample(claim, body, "not_in_article", "fnc1_synth_other", group))
            if len(out) == per_body:
                break
    return out


def _balance(examples: list[GroundingExample]) -> list[GroundingExample]:
    """Drop synthetic examples of any label above MAX_LABEL_SHARE; human labels are kept."""
    examples = list(examples)
    while examples:
        counts = Counter(e.label for e in examples)
        label, n = counts.most_common(1)[0]
        cap = math.floor(MAX_LABEL_SHARE / (1 - MAX_LABEL_SHARE) * (len(examples) - n))
        synthetic = [e for e in examples if e.label == label and e.source.startswith("fnc1_synth")]
        if n <= cap or not synthetic:
            return examples
        drop = {id(e) for e in sorted(synthetic, key=lambda e: _key("balance", e))[: n - cap]}
        examples = [e for e in examples if id(e) not in drop]
    return examples
