"""News summaries judged against their articles: FRANK (CNN/DM and XSum summaries with
error types) and Maynez et al.'s XSum hallucination spans. A summary is a claim about its
article, like a reader's comment: these are the news rows of the grounding data, read
as document rows (the whole article; the served path retrieves its passages).

FRANK's own test split is rebut's test split; the XSum annotations whose article is in
it are left out of training.
"""

from __future__ import annotations

import csv
import json
import re
from collections import defaultdict
from functools import lru_cache
from pathlib import Path

from training.data.pairs import GroundingPair, carve

_FRANK_ERRORS = ("RelE", "EntE", "CircE", "OutE", "GramE", "CorefE", "LinkE", "Other")


def _frank_label(entry: dict) -> str | None:
    """In human_annotations.json 1.0 means "no error of this type" (0.0: every sentence had
    one), like Factuality 1.0 = factual; so an error type is flagged when its score < 1."""
    factuality = entry["Factuality"]
    if factuality == 1.0:
        return "supported"
    if all(abs(entry[f] - factuality) < 1e-9 for f in _FRANK_ERRORS):
        return None  # every type at the same score: the error was not attributed to one
    if entry["OutE"] < 1.0:
        return "not_in_article"
    if min(entry["EntE"], entry["RelE"], entry["CircE"]) < 1.0:
        return "contradicted"
    return None  # grammar / coreference / discourse / other errors say nothing on grounding


def _detok(text: str) -> str:
    """Undo the summaries' tokenisation ("moon , 23 ." / "it\\'s") enough to read as prose."""
    text = text.replace("\\'", "'").replace("`` ", '"').replace(" ''", '"').replace("` ", "'")
    text = re.sub(r" ([.,!?;:%)])", r"\1", text)
    text = re.sub(r" (n't|'s|'re|'ve|'ll|'d|'m)\b", r"\1", text)
    return " ".join(text.split())


def _xsum_label(spans: dict[str, set[str]], factual: list[str]) -> str | None:
    """spans: worker -> hallucination types marked ({"NULL"} = none); factual: is_factual
    votes. Majority of workers; extrinsic wins over intrinsic (Maynez et al. 2020)."""
    n = len(spans)
    if 2 * sum("extrinsic" in t for t in spans.values()) > n:
        return "not_in_article"
    if 2 * sum("intrinsic" in t for t in spans.values()) > n:
        return "contradicted"
    if (
        factual
        and all(v == "yes" for v in factual)
        and 2 * sum(t == {"NULL"} for t in spans.values()) > n
    ):
        return "supported"
    return None


@lru_cache(maxsize=4)
def _frank_entries(root: Path) -> list[dict]:
    return json.loads((root / "grounding/frank/human_annotations.json").read_text(encoding="utf-8"))


@lru_cache(maxsize=1024)
def _frank_article(root: Path, article_hash: str) -> dict:
    path = root / f"grounding/frank/articles/{article_hash}.json"
    return json.loads(path.read_text(encoding="utf-8"))


def frank_summary(article: dict, model: str) -> str:
    """A system's summary of a FRANK article, cased where FRANK has it, detokenised."""
    return _detok(article.get(f"{model}_cased") or article[model])


def frank(root: Path) -> list[GroundingPair]:
    """Every FRANK summary with a grounding label; FRANK's test split is test, the rest
    is carved by article."""
    out, seen = [], set()
    for entry in _frank_entries(root):
        label = _frank_label(entry)
        if label is None:
            continue
        article = _frank_article(root, entry["hash"])
        summary = frank_summary(article, entry["model_name"])
        group = f"frank:{entry['hash']}"
        if (group, summary) in seen:
            continue
        seen.add((group, summary))
        split = "test" if entry["split"] == "test" else carve(group)
        body = article["article"].strip()
        out.append(GroundingPair(summary, body, label, "frank", group, split, document=True))
    return out


def xsum_hallucinations(root: Path) -> list[GroundingPair]:
    """Summaries of XSum articles that FRANK ships, outside FRANK's test split."""
    folder = root / "grounding/xsum_hallucinations"
    test = {e["hash"] for e in _frank_entries(root) if e["split"] == "test"}
    available = {p.stem for p in (root / "grounding/frank/articles").glob("*.json")} - test
    spans: dict[tuple[str, str], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    summaries: dict[tuple[str, str], str] = {}
    with (folder / "hallucination_annotations_xsum_summaries.csv").open(encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if r["bbcid"] in available:
                key = (r["bbcid"], r["system"])
                spans[key][r["worker_id"]].add(r["hallucination_type"])
                summaries[key] = r["summary"]
    factual: dict[tuple[str, str], list[str]] = defaultdict(list)
    with (folder / "factuality_annotations_xsum_summaries.csv").open(encoding="utf-8") as f:
        for r in csv.DictReader(f):
            factual[(r["bbcid"], r["system"])].append(r["is_factual"])
    out = []
    for key, workers in spans.items():
        label = _xsum_label(workers, factual.get(key, []))
        if label is not None:
            group = f"frank:{key[0]}"  # the same article as FRANK's rows of it
            body = _frank_article(root, key[0])["article"].strip()
            summary = _detok(summaries[key])
            out.append(
                GroundingPair(summary, body, label, "xsum", group, carve(group), document=True)
            )
    return out
