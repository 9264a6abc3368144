"""NLI and paraphrase pairs: is the hypothesis (the claim) entailed by the premise (the
evidence)? Each upstream test file is rebut's test split; the rest is carved by group.

Binary sources give `not_supported` where they merge contradiction with neutral (RTE,
DocNLI's MNLI) and where a non-paraphrase may be either (MRPC). STS-B is graded
similarity, not NLI: near-identical meaning (>= 4 of 5) is supported, unrelated (<= 1) is
not_in_article, and the middle, which is neither, is left out.

SICK, ANLI and ConTRoL carry non-commercial licences: `evaluation_only` reads them for
`rebut eval grounding`, and nothing that trains a model calls it.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

from training.data.pairs import GroundingPair, Split, carve, read_jsonl

_BINARY = {"entailment": "supported", "not_entailment": "not_supported"}
_THREE_WAY = {"e": "supported", "c": "contradicted", "n": "not_in_article"}
TEST_SAMPLE = 1500  # rows kept of a large upstream test file: enough for a figure per source


def _tsv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))


def _sample(rows: list[GroundingPair], n: int, seed: str) -> list[GroundingPair]:
    if len(rows) <= n:
        return rows
    return random.Random(seed).sample(rows, n)


def docnli_mnli(root: Path) -> list[GroundingPair]:
    """DocNLI's binary MNLI: label, premise, hypothesis. Grouped by premise."""
    out = []
    for name, split in (("dev", None), ("test", "test")):
        rows = []
        for r in _tsv(root / f"nli/docnli_mnli/{name}.txt"):
            if len(r) != 3 or r[0] not in _BINARY:
                continue
            label, premise, hypothesis = r
            group = f"mnli:{premise[:200]}"
            side: Split = split or carve(group)
            rows.append(GroundingPair(hypothesis, premise, _BINARY[label], "mnli", group, side))
        out += _sample(rows, TEST_SAMPLE, "mnli") if split == "test" else rows
    return out


def rte(root: Path) -> list[GroundingPair]:
    """RTE re-split by its copying repository; its test.tsv is labelled and is rebut's test."""
    out = []
    for name in ("train", "dev", "test"):
        for r in _tsv(root / f"nli/rte/{name}.tsv")[1:]:
            if len(r) < 4 or r[3] not in _BINARY:
                continue
            group = f"rte:{r[1][:200]}"
            side: Split = "test" if name == "test" else carve(group)
            out.append(GroundingPair(r[2], r[1], _BINARY[r[3]], "rte", group, side))
    return out


def mrpc(root: Path) -> list[GroundingPair]:
    """News sentence pairs. A paraphrase is supported either way round; a non-paraphrase
    adds or drops information, or changes it: not_supported."""
    out = []
    for name in ("train", "test"):
        for r in _tsv(root / f"nli/mrpc/msr_paraphrase_{name}.txt")[1:]:
            if len(r) != 5 or r[0] not in ("0", "1"):
                continue
            quality, id1, id2, first, second = r
            group = f"mrpc:{min(id1, id2)}"
            side: Split = "test" if name == "test" else carve(group)
            label = "supported" if quality == "1" else "not_supported"
            # which side is the claim: by the pair's hash, so both directions are seen
            claim, evidence = (first, second) if int(id1) % 2 else (second, first)
            out.append(GroundingPair(claim, evidence, label, "mrpc", group, side))
    return out


def stsb(root: Path) -> list[GroundingPair]:
    """STS-B train and dev (its test file is not in the shared data): train and dev only."""
    out = []
    for name in ("train", "dev"):
        for r in _tsv(root / f"nli/stsb/sts-{name}.tsv"):
            if len(r) < 7:
                continue
            score = float(r[4])
            if 1.0 < score < 4.0:
                continue
            label = "supported" if score >= 4.0 else "not_in_article"
            group = f"stsb:{r[1]}:{r[2]}:{r[3]}"
            claim, evidence = (r[5], r[6]) if int(r[3]) % 2 else (r[6], r[5])
            out.append(GroundingPair(claim, evidence, label, "stsb", group, carve(group)))
    return out


def evaluation_only(root: Path) -> list[GroundingPair]:
    """Non-commercial sets, as test rows only: ANLI dev rounds, SICK's test part,
    ConTRoL's test file. Never training data."""
    out = []
    for n in (1, 2, 3):
        with (root / f"nli/anli_annotated/ANLI_analysis_r{n}_dev.csv").open(encoding="utf-8") as f:
            for r in csv.DictReader(f):
                label = _THREE_WAY.get(r.get("gold_label", ""))
                if label:
                    group = f"anli:{r.get('uid', r['context'][:100])}"
                    out.append(
                        GroundingPair(r["statement"], r["context"], label, "anli", group, "test")
                    )
    sick = {"ENTAILMENT": "supported", "CONTRADICTION": "contradicted", "NEUTRAL": "not_in_article"}
    for r in _tsv(root / "nli/sick/SICK.txt")[1:]:
        if len(r) >= 12 and r[11] == "TEST" and r[3] in sick:
            out.append(GroundingPair(r[2], r[1], sick[r[3]], "sick", f"sick:{r[0]}", "test"))
    for r in read_jsonl(root / "nli/control/test.jsonl"):
        label = _THREE_WAY.get(r.get("label", ""))
        if label:
            group = f"control:{r['premise'][:100]}"
            out.append(
                GroundingPair(r["hypothesis"], r["premise"], label, "control", group, "test")
            )
    return out
