"""The grounding model's data: every source as train / dev / test rows, and the rows the
cross-encoder trains on, written as training/multitask/ reads them.

    python -m training.data.grounding --out runs/grounding.jsonl.xz

Training rows are (claim, passage) pairs, because that is what the served model reads:
the pipeline retrieves an article's closest passages for a claim and scores the claim
against each (model/grounding.py). Pair sources give their passage; document sources
(FRANK, XSum, WiCE) get the passage the served retrieval picks. A binary source's
`not_supported` row is written with y = -1: the loss then asks only that the pair is not
supported, leaving contradicted against not_in_article to the three-way sources.

Test rows are never written here: `rebut eval grounding` reads them itself.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import lzma
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from model.result import GROUNDING_LABELS
from model.sentences import split_sentences
from training.data import factcheck, nli, summaries
from training.data.edits import one_fact_changed
from training.data.grounding_human import _fnc_headlines
from training.data.pairs import GroundingPair, norm
from training.data.splits import default_data_dir

NOT_SUPPORTED = -1  # y of a binary source's negative: any label but `supported`
# training rows kept per (source, label), sampled by hash: the large binary sources
# (DocNLI's FEVER and MNLI) and FNC-1's agreeing headlines would otherwise fill most of an
# epoch, which on two CPU cores is what a session can train
MAX_TRAIN_PER_LABEL = 1500


def fnc_headlines(root: Path) -> list[GroundingPair]:
    """FNC-1 headlines whose body agrees (supported) or disagrees (contradicted), as
    document rows against the body: news claims, and the largest source of real
    contradictions. Split as rebut's stance data splits FNC-1 (by claim cluster), so no
    headline's story is on both sides; FNC-1's own test set is not in the shared data."""
    out = []
    for split, examples in zip(("train", "dev"), _fnc_headlines(root)):
        for e in examples:
            out.append(
                GroundingPair(e.claim, e.article, e.label, "fnc1", e.article_id, split, True)
            )
    return out


# source -> loader, for the sources whose licence allows training a shipped model (or
# states none: the model card says which)
TRAINABLE = {
    "check_covid": factcheck.check_covid,
    "climate_fever": factcheck.climate_fever,
    "healthver": factcheck.healthver,
    "fever_symmetric": factcheck.fever_symmetric,
    "fever": factcheck.docnli_fever,
    "wice": factcheck.wice,
    "mnli": nli.docnli_mnli,
    "rte": nli.rte,
    "mrpc": nli.mrpc,
    "stsb": nli.stsb,
    "frank": summaries.frank,
    "xsum": summaries.xsum_hallucinations,
    "fnc1": fnc_headlines,
}


def load_pairs(root: Path, sources: tuple[str, ...] = tuple(TRAINABLE)) -> list[GroundingPair]:
    """Every source's rows; a claim a later source repeats about the same document or
    evidence (Maynez et al. annotate many of FRANK's XSum summaries) keeps the first label."""
    out, seen = [], set()
    for name in sources:
        for p in TRAINABLE[name](root):
            key = (p.group, norm(p.claim), p.document, norm(p.evidence[:300]))
            if key not in seen:
                seen.add(key)
                out.append(p)
    return without_test_overlap(out)


def without_test_overlap(pairs: list[GroundingPair]) -> list[GroundingPair]:
    """Train and dev rows go when their group or claim is also a test row's. Upstream
    splits are not disjoint by document: DocNLI's FEVER and MNLI files share Wikipedia pages
    and premises between dev and test, RTE reuses hypotheses across premises, MRPC's test
    pairs share sentences with its train pairs, and STS-B's MSRpar pairs are MRPC's
    sentences. A pair row's evidence counts as a claim too, as paraphrases read both ways."""
    test_groups = {p.group for p in pairs if p.split == "test"}
    test = {norm(p.claim) for p in pairs if p.split == "test"}
    return [
        p
        for p in pairs
        if p.split == "test"
        or (
            p.group not in test_groups
            and norm(p.claim) not in test
            and (p.document or norm(p.evidence) not in test)
        )
    ]


def capped(pairs: list[GroundingPair], cap: int = MAX_TRAIN_PER_LABEL) -> list[GroundingPair]:
    """At most `cap` train rows per (source, label), chosen by a hash of the claim; dev
    and test rows are all kept."""
    by_key: dict[tuple[str, str], list[GroundingPair]] = {}
    for p in pairs:
        if p.split == "train":
            by_key.setdefault((p.source, p.label), []).append(p)
    kept = set()
    for rows in by_key.values():
        rows.sort(key=lambda p: hashlib.sha1(f"{p.group}|{p.claim}".encode()).hexdigest())
        kept.update(id(p) for p in rows[:cap])
    return [p for p in pairs if p.split != "train" or id(p) in kept]


def label_index(label: str) -> int:
    return NOT_SUPPORTED if label == "not_supported" else GROUNDING_LABELS.index(label)


def training_rows(pairs: list[GroundingPair], passage_of) -> Iterator[dict]:  # noqa: ANN001
    """Train and dev rows as {"task", "split", "source", "a", "b", "y"}; `passage_of`
    maps a document row (see `passage_rows`) to the passage retrieval picks for it."""
    for p in passage_rows(pairs):
        evidence = passage_of(p) if p.document else p.evidence
        yield {
            "task": "grounding",
            "split": p.split,
            "source": p.source,
            "a": p.claim,
            "b": evidence,
            "y": label_index(p.label),
        }


def passage_rows(pairs: list[GroundingPair]) -> list[GroundingPair]:
    """The train and dev rows a (claim, passage) model can learn from. A document row's
    label is about the whole document, and its passage is the one retrieval picks, so only
    what that passage can carry is kept: a supported summary gives each of its sentences
    as supported; a single-sentence claim the document does not mention stays
    not_in_article (its passage is a near miss); a contradicted one is dropped, because
    the passage retrieval picks need not be the one that contradicts it, and such rows
    teach that a related passage contradicts. Check-COVID's document rows are dropped:
    its pair rows read the annotated evidence."""
    out = []
    for p in pairs:
        if p.split == "test" or (p.document and p.source == "check_covid"):
            continue
        if not p.document:
            out.append(p)
            continue
        sentences = [s.text for s in split_sentences(p.claim)] or [p.claim]
        if p.label == "supported":
            out += [replace(p, claim=s) for s in sentences]
        elif p.label == "not_in_article" and len(sentences) == 1:
            out.append(p)
    return out


def write(
    out: Path, root: Path, cache_dir: Path = Path("cache"), edits: int = 0
) -> Counter[tuple[str, str]]:
    """The inputs file; `edits` > 0 adds that many synthetic one-fact-changed rows to train
    (training/data/edits.py)."""
    from training.retrieval import Retriever

    pairs = capped(load_pairs(root))
    if edits:  # train only: dev calibrates and chooses on real rows alone
        pairs += [p for p in one_fact_changed(pairs, edits) if p.split == "train"]
    retriever = Retriever.bundled(cache_dir)
    documents = [p for p in passage_rows(pairs) if p.document]
    passages = dict(zip(documents, retriever.top_passages(documents)))
    counts: Counter[tuple[str, str]] = Counter()
    out.parent.mkdir(parents=True, exist_ok=True)
    with lzma.open(out, "wt", encoding="utf-8") as sink:
        sink.write(json.dumps({"labels": {"grounding": list(GROUNDING_LABELS)}}) + "\n")
        for row in training_rows(pairs, lambda p: passages[p][0]):
            sink.write(json.dumps(row, ensure_ascii=False) + "\n")
            counts[(row["source"], row["split"])] += 1
    retriever.save()
    return counts


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--cache-dir", type=Path, default=Path("cache"))
    parser.add_argument("--edits", type=int, default=0, help="synthetic one-fact-changed rows")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    counts = write(args.out, args.data_dir or default_data_dir(), args.cache_dir, args.edits)
    for (source, split), n in sorted(counts.items()):
        print(f"{source:16} {split:5} {n:7,}")


if __name__ == "__main__":
    main()
