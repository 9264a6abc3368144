"""One fact changed in a real paraphrase: contradictions that are not near-copies.

The shared data hold few human-written contradictions beside many supported pairs. These
rows take a real supported pair (the claim already says the evidence's fact in other
words) and change one fact of the claim that the evidence also states: a number, a name,
or the polarity. The claim then disagrees with the evidence about something it states,
while still differing from it in wording, so the difference alone does not give the label
away. They are synthetic: kept to a minority of the training rows, reported apart, and
shipped only if the real dev split says they help.
"""

from __future__ import annotations

import random
import re

from training.data.pairs import GroundingPair
from training.data.perturbations import _NUMBER, _entities, _other_number, _turn_negation

# pair sources whose supported rows are one claim against the passage that states it
BASES = ("mrpc", "stsb", "check_covid", "healthver", "climate_fever", "fever_symmetric", "rte")
SHARE = 0.08  # of the training rows at most


def _stated(old: str, evidence: str) -> bool:
    return re.search(rf"(?<![\w,.]){re.escape(old)}(?![\w])", evidence) is not None


def one_fact_changed(pairs: list[GroundingPair], limit: int, seed: int = 0) -> list[GroundingPair]:
    """Up to `limit` contradicted rows per split, one per base pair at most."""
    rng = random.Random(seed)
    out: list[GroundingPair] = []
    made = {"train": 0, "dev": 0}
    bases = [p for p in pairs if p.label == "supported" and p.source in BASES and not p.document]
    rng.shuffle(bases)
    for p in bases:
        if p.split not in made or made[p.split] >= limit:
            continue
        kinds = ["number", "name", "negation"]
        rng.shuffle(kinds)
        for kind in kinds:
            claim = None
            if kind == "number":
                numbers = [m for m in _NUMBER.finditer(p.claim) if _stated(m.group(), p.evidence)]
                if numbers:
                    m = rng.choice(numbers)
                    new = _other_number(m.group(), rng)
                    if new != m.group() and not _stated(new, p.evidence):
                        claim = p.claim[: m.start()] + new + p.claim[m.end() :]
            elif kind == "name":
                names = [e for e in _entities(p.claim) if e in p.evidence]
                others = [e for e in _entities(p.evidence) if e not in p.claim]
                if names and others:
                    claim = p.claim.replace(rng.choice(names), rng.choice(others), 1)
            else:
                claim = _turn_negation(p.claim)
            if claim and claim != p.claim:
                out.append(
                    GroundingPair(claim, p.evidence, "contradicted", "edits", p.group, p.split)
                )
                made[p.split] += 1
                break
    return out
