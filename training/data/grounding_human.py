"""Human-labelled grounding examples (FRANK, XSum hallucinations, WiCE, FNC-1 headlines),
and `load_grounding`, which adds the synthetic claims and balances each split.

FRANK's test split is never read: its entries are dropped before any of their article
files is opened, and XSum-hallucination summaries of those articles are dropped too.

    from training.data.grounding_human import load_grounding
    train, dev = load_grounding(limit_per_source=200)    # a CI-sized sample
"""

from __future__ import annotations

import json
from collections import defaultdict
from functools import lru_cache
from pathlib import Path

from training.data.examples import GroundingExample, Split
from training.data.fnc_arc import _fnc, _GroupedPairs, _split_pairs
from training.data.grounding_synthetic import _balance, _fnc_synthetic
from training.data.splits import SMALL_DEV_PERCENT, _assemble, _norm, _root, _rows, _split
from training.data.summaries import _detok, _frank_label, _xsum_label, frank_summary


@lru_cache(maxsize=4)
def _frank_annotations(root: Path) -> tuple[list[dict], frozenset[str]]:
    """(non-test entries, test article hashes). FRANK's README: the test split is for
    reporting; every summary of an article shares the article's split."""
    entries = json.loads(
        (root / "grounding/frank/human_annotations.json").read_text(encoding="utf-8")
    )
    test = frozenset(e["hash"] for e in entries if e["split"] == "test")
    return [e for e in entries if e["split"] != "test"], test


@lru_cache(maxsize=512)
def _frank_article(root: Path, article_hash: str) -> dict:
    assert article_hash not in _frank_annotations(root)[1], f"FRANK test article {article_hash}"
    return json.loads(
        (root / f"grounding/frank/articles/{article_hash}.json").read_text(encoding="utf-8")
    )


def _frank(root: Path) -> list[GroundingExample]:
    entries, _ = _frank_annotations(root)
    examples = []
    for entry in entries:
        label = _frank_label(entry)
        if label is None:
            continue
        article = _frank_article(root, entry["hash"])
        summary = frank_summary(article, entry["model_name"])
        prefix = "cnndm" if entry["dataset"] == "cnndm" else "xsum"
        examples.append(
            GroundingExample(
                summary, article["article"].strip(), label, "frank", f"{prefix}:{entry['hash']}"
            )
        )
    return examples


def _xsum_hallucinations(root: Path) -> list[GroundingExample]:
    folder = root / "grounding/xsum_hallucinations"
    _, frank_test = _frank_annotations(root)
    available = {p.stem for p in (root / "grounding/frank/articles").glob("*.json")} - frank_test
    spans: dict[tuple[str, str], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    summaries: dict[tuple[str, str], str] = {}
    for r in _rows(folder / "hallucination_annotations_xsum_summaries.csv"):
        if r["bbcid"] in available:
            key = (r["bbcid"], r["system"])
            spans[key][r["worker_id"]].add(r["hallucination_type"])
            summaries[key] = r["summary"]
    factual: dict[tuple[str, str], list[str]] = defaultdict(list)
    for r in _rows(folder / "factuality_annotations_xsum_summaries.csv"):
        factual[(r["bbcid"], r["system"])].append(r["is_factual"])
    examples = []
    for key, workers in spans.items():
        label = _xsum_label(workers, factual.get(key, []))
        if label is not None:
            article = _frank_article(root, key[0])["article"].strip()
            examples.append(
                GroundingExample(
                    _detok(summaries[key]), article, label, "xsum_hallucinations", f"xsum:{key[0]}"
                )
            )
    return examples


def _wice(root: Path) -> list[GroundingExample]:
    """WiCE claims vs their cited evidence sentences; grouped by Wikipedia article. Each
    claim comes three times with different evidence chunks (all holding the oracle evidence
    when supported); the first is kept, as three near-copies would only add weight."""
    label = {"supported": "supported", "not_supported": "not_in_article"}
    examples, seen = [], set()
    with (root / "grounding/wice/dev.jsonl").open(encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            if r["label"] in label and r["claim"] not in seen:  # partially_supported: skip
                seen.add(r["claim"])
                evidence = " ".join(s.strip() for s in r["evidence"])
                group = f"wice:{r['meta']['claim_title']}"
                examples.append(
                    GroundingExample(r["claim"].strip(), evidence, label[r["label"]], "wice", group)
                )
    return examples


def _fnc_headlines(root: Path) -> Split[GroundingExample]:
    """FNC-1 headlines the body agrees with -> supported, disagrees with -> contradicted."""
    bodies, pairs, cluster = _fnc(root)
    label = {"agree": "supported", "disagree": "contradicted"}
    train, dev = _split_pairs([p for p in pairs if p.stance in label], cluster, "fnc1")

    def build(side: _GroupedPairs) -> list[GroundingExample]:
        return [
            GroundingExample(p.headline, bodies[p.body_id], label[p.stance], "fnc1_headlines", g)
            for p, g in side
        ]

    return build(train), build(dev)


def load_grounding(
    data_dir: Path | str | None = None, *, limit_per_source: int | None = None
) -> Split[GroundingExample]:
    """FRANK (non-test), XSum hallucinations, WiCE, FNC-1 headlines and synthetic FNC-1
    claims -> (train, dev), each split balanced so no label exceeds 45%."""
    root = _root(data_dir)
    human = _frank(root) + _xsum_hallucinations(root) + _wice(root)
    seen: set[tuple[str, str]] = set()
    unique = []
    for e in human:  # FRANK and Maynez et al. annotate some of the same XSum summaries
        key = (e.article_id, _norm(e.claim))
        if key not in seen:
            seen.add(key)
            unique.append(e)
    human_split = _split(((e, e.article_id) for e in unique), SMALL_DEV_PERCENT)
    parts = [human_split, _fnc_headlines(root), _fnc_synthetic(root, limit_per_source)]
    train, dev = _assemble(parts, limit_per_source)
    return _balance(train), _balance(dev)
