"""Fact-verification claims with the evidence annotators judged them against.

Check-COVID, Climate-FEVER and HealthVer are three-way (supported / contradicted / not
enough information); FEVER-Symmetric is two-way; DocNLI's FEVER is binary. Check-COVID and
WiCE also give which sentences of a longer text are the evidence: their `document` rows
carry the whole text and the gold sentences' spans, for grounding through retrieval as
served and for retrieval recall.

COVID-Fact is left out: its refuted claims are machine-made one-word edits, the pattern
a grounding model must not learn to equate with contradiction.
"""

from __future__ import annotations

import csv
from pathlib import Path

from training.data.nli import TEST_SAMPLE, _sample, _tsv
from training.data.pairs import GroundingPair, Split, carve, read_jsonl

_VERDICT = {
    "SUPPORT": "supported",
    "SUPPORTS": "supported",
    "Supports": "supported",
    "REFUTE": "contradicted",
    "REFUTES": "contradicted",
    "Refutes": "contradicted",
    "NOTENOUGHINFO": "not_in_article",
    "NOT_ENOUGH_INFO": "not_in_article",
    "Neutral": "not_in_article",
}


def _document(sentences: list[str], gold: list[int]) -> tuple[str, tuple[tuple[int, int], ...]]:
    """Sentences joined with a space, and the character spans of the gold ones."""
    spans, at = [], 0
    for i, s in enumerate(sentences):
        if i in gold:
            spans.append((at, at + len(s)))
        at += len(s) + 1
    return " ".join(sentences), tuple(spans)


def check_covid(root: Path) -> list[GroundingPair]:
    """Claims from news reports against one scientific abstract each. A pair row reads
    the evidence sentences the annotators marked (for not-enough-info, the sentence they
    found closest); a document row reads the whole abstract. Upstream splits kept."""
    folder = root / "nli/check_covid"
    abstracts = {r["cord_id"]: r for r in read_jsonl(folder / "corpus.json")}
    out = []
    for split in ("train", "dev", "test"):
        for kind in ("composed", "extracted"):
            for r in read_jsonl(folder / f"covidCheck_{split}_{kind}.json"):
                label = _VERDICT[r["label"]]
                sentences = [s.strip() for s in abstracts[r["cord_id"]]["abstract"]]
                gold = sorted({e["sent_index"] for e in r["evidence_set"]})
                group, claim = f"check_covid:{r['cord_id']}", r["claim"].strip()
                evidence = " ".join(sentences[i] for i in gold if i < len(sentences))
                if evidence:
                    out.append(GroundingPair(claim, evidence, label, "check_covid", group, split))
                body, spans = _document(sentences, gold)
                out.append(
                    GroundingPair(
                        claim, body, label, "check_covid", group, split, document=True, gold=spans
                    )
                )
    return out


def climate_fever(root: Path) -> list[GroundingPair]:
    """Each claim's five Wikipedia sentences, each labelled: the NOT_ENOUGH_INFO ones were
    retrieved for the claim, so they are near misses. No upstream split: carved by claim,
    a fifth of the claims in test."""
    out = []
    for r in read_jsonl(root / "nli/climate_fever/climate-fever.jsonl"):
        group = f"climate_fever:{r['claim_id']}"
        split = carve(group, dev_percent=15, test_percent=20)
        for e in r["evidences"]:
            label = _VERDICT[e["evidence_label"]]
            evidence = f"{e['article']}: {e['evidence'].strip()}"
            out.append(
                GroundingPair(r["claim"].strip(), evidence, label, "climate_fever", group, split)
            )
    return out


def healthver(root: Path) -> list[GroundingPair]:
    """Health claims against abstract excerpts; the upstream dev file is carved into train
    and dev by claim, the test file is test."""
    out = []
    for name in ("dev", "test"):
        path = root / f"nli/healthver/healthver_{name}.csv"
        with path.open(encoding="utf-8", newline="") as f:
            for r in csv.DictReader(f):
                group = f"healthver:{r['claim'].strip().casefold()}"
                split: Split = "test" if name == "test" else carve(group)
                label = _VERDICT[r["label"]]
                out.append(
                    GroundingPair(
                        r["claim"].strip(), r["evidence"].strip(), label, "healthver", group, split
                    )
                )
    return out


def fever_symmetric(root: Path) -> list[GroundingPair]:
    """FEVER pairs and their hand-edited counterparts (the label flips with a small edit of
    claim or evidence). Grouped by FEVER id, so a pair and its counterpart share a split."""
    out = []
    for name in ("dev", "test"):
        for r in read_jsonl(root / f"nli/fever_symmetric/fever_symmetric_{name}.jsonl"):
            group = f"fever_symmetric:{str(r['id']).split('-')[0]}"
            split: Split = "test" if name == "test" else carve(group)
            out.append(
                GroundingPair(
                    r["claim"].strip(),
                    r["evidence"].strip(),
                    _VERDICT[r["gold_label"]],
                    "fever_symmetric",
                    group,
                    split,
                )
            )
    return out


def docnli_fever(root: Path) -> list[GroundingPair]:
    """DocNLI's binary FEVER: Wikipedia evidence ('Title . sentences') and a claim."""
    label = {"entailment": "supported", "not_entailment": "not_supported"}
    out = []
    for name in ("dev", "test"):
        rows = []
        for r in _tsv(root / f"nli/docnli_fever/{name}.txt"):
            if len(r) != 3 or r[0] not in label:
                continue
            group = f"fever:{r[1].split(' . ')[0][:80]}"
            split: Split = "test" if name == "test" else carve(group)
            rows.append(
                GroundingPair(r[2].strip(), r[1].strip(), label[r[0]], "fever", group, split)
            )
        out += _sample(rows, TEST_SAMPLE, "fever") if name == "test" else rows
    return out


def wice(root: Path) -> list[GroundingPair]:
    """Wikipedia claims against the web page they cite, as document rows with the oracle
    sentences as gold. partially_supported is left out. Each claim comes with three chunk
    selections; the first is kept. WiCE's dev file only: carved by Wikipedia article, a
    third of them in test."""
    verdict = {"supported": "supported", "not_supported": "not_in_article"}
    out, seen = [], set()
    for r in read_jsonl(root / "grounding/wice/dev.jsonl"):
        if r["label"] not in verdict or r["claim"] in seen:
            continue
        seen.add(r["claim"])
        sentences = [s.strip() for s in r["evidence"]]
        chunk = r["meta"]["chunk_idx"]
        gold = [chunk.index(i) for i in r["meta"].get("oracle_idx", []) if i in chunk]
        body, spans = _document(sentences, gold)
        group = f"wice:{r['meta']['claim_title']}"
        split = carve(group, dev_percent=15, test_percent=33)
        out.append(
            GroundingPair(
                r["claim"].strip(), body, verdict[r["label"]], "wice", group, split, True, spans
            )
        )
    return out
