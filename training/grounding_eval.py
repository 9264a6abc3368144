"""`rebut eval grounding`: the grounding model's figures, recomputed from the ONNX files.

- **pairs**: each test (or dev) row's claim against the evidence its annotators judged it
  against, one pass;
- **documents**: a claim against a whole article or abstract as served: its sentences
  retrieved, each scored, the most decisive passage's verdict (model/grounding.py), and a
  multi-sentence claim (a summary) as its least supported sentence;
- **retrieval**: recall@1 and @3 of the annotated evidence sentence;
- **cases**: data/grounding/paraphrase_cases.json, hand-written, by kind of case.

Headline figures are on the test split, per source; evaluation-only sources (non-commercial
licences) are reported apart. Nothing here chooses a threshold or a run.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import numpy as np
from sklearn.metrics import balanced_accuracy_score, f1_score

from model.classifier import MultiHeadClassifier
from model.grounding import TOP_PASSAGES, by_relevance, decisive
from model.result import GROUNDING_LABELS
from model.sentences import split_sentences
from training.data import nli
from training.data.grounding import TRAINABLE, load_pairs
from training.data.pairs import GroundingPair
from training.evaluate import expected_calibration_error
from training.retrieval import Retriever, covers

LABELS = list(GROUNDING_LABELS)
CASES_FILE = Path(__file__).resolve().parents[1] / "data/grounding/paraphrase_cases.json"


def figures(gold: list[str], probabilities: np.ndarray, three_way: list[bool]) -> dict:
    """Supported-vs-not balanced accuracy on every row; three-way macro-F1 and ECE on the
    rows of three-way (or two-way) sources: a binary source's rows have no such label."""
    predicted = [LABELS[k] for k in probabilities.argmax(axis=1)]
    out: dict = {"rows": len(gold)}
    supported = [g == "supported" for g in gold]
    if 0 < sum(supported) < len(gold):
        out["supported_vs_not_balanced_accuracy"] = round(
            float(balanced_accuracy_score(supported, [p == "supported" for p in predicted])), 4
        )
    three = [i for i, g in enumerate(gold) if three_way[i]]
    if three:
        y = np.array([LABELS.index(gold[i]) for i in three])
        p = probabilities[three]
        present = sorted(set(y.tolist()))
        out["three_way_rows"] = len(three)
        out["macro_f1"] = round(
            float(f1_score(y, p.argmax(axis=1), labels=present, average="macro")), 4
        )
        out["calibration_ece"] = expected_calibration_error(y, p)
    return out


def by_source(rows: list[GroundingPair], probabilities: np.ndarray) -> dict:
    groups: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        groups[r.source].append(i)
    binary = {s for s, idx in groups.items() if any(rows[i].label == "not_supported" for i in idx)}
    three_way = [r.source not in binary for r in rows]
    gold = [r.label for r in rows]
    out = {"all": figures(gold, probabilities, three_way)}
    for source, idx in sorted(groups.items()):
        out[source] = figures(
            [gold[i] for i in idx], probabilities[idx], [three_way[i] for i in idx]
        )
    return out


def pair_probabilities(model: MultiHeadClassifier, rows: list[GroundingPair]) -> np.ndarray:
    if not rows:
        return np.zeros((0, len(LABELS)), dtype=np.float32)
    answer = model.predict([r.claim for r in rows], [r.evidence for r in rows], "grounding")
    return answer["grounding"]


def document_probabilities(
    model: MultiHeadClassifier,
    retriever: Retriever,
    rows: list[GroundingPair],
    k: int = TOP_PASSAGES,
) -> np.ndarray:
    """Served grounding of each row's claim, sentence by sentence, against its document."""
    sentences = [[s.text for s in split_sentences(r.claim)] or [r.claim] for r in rows]
    flat = [
        GroundingPair(s, r.evidence, r.label, r.source, r.group, r.split, True)
        for r, ss in zip(rows, sentences)
        for s in ss
    ]
    passages = retriever.top_passages(flat, k)
    claims = [f.claim for f, ps in zip(flat, passages) for _ in ps]
    texts = [p for ps in passages for p in ps]
    scored = model.predict(claims, texts, "grounding")["grounding"]
    per_sentence, at = [], 0
    for ps in passages:
        chunk = scored[at : at + len(ps)]
        at += len(ps)
        per_sentence.append(chunk[decisive(chunk, LABELS)] if len(ps) else _not_found())
    out, at = [], 0
    supported = LABELS.index("supported")
    for ss in sentences:  # a summary is as supported as its least supported sentence
        chunk = np.stack(per_sentence[at : at + len(ss)])
        at += len(ss)
        out.append(chunk[int(np.argmin(chunk[:, supported]))])
    return np.stack(out) if out else np.zeros((0, len(LABELS)), dtype=np.float32)


def shown_recall(
    model: MultiHeadClassifier, retriever: Retriever, rows: list[GroundingPair]
) -> dict:
    """Recall@1 and @3 of the gold evidence among the passages a claim shows: the
    retrieved ones reordered by the cross-encoder, most decisive first, as served."""
    rows = [r for r in rows if r.gold]
    if not rows:
        return {}
    found = retriever.passage_spans(rows)
    claims = [r.claim for r, spans in zip(rows, found) for _ in spans]
    texts = [s.text for spans in found for s in spans]
    scored = model.predict(claims, texts, "grounding")["grounding"]
    hits, at = np.zeros((len(rows), 2)), 0
    for i, (row, spans) in enumerate(zip(rows, found)):
        order = by_relevance(scored[at : at + len(spans)], LABELS)
        at += len(spans)
        shown = [spans[k] for k in order]
        for j, k in enumerate((1, 3)):
            hits[i, j] = any(covers(s, a, b) for s in shown[:k] for a, b in row.gold)
    return {
        "rows": len(rows),
        "recall@1": round(float(hits[:, 0].mean()), 4),
        "recall@3": round(float(hits[:, 1].mean()), 4),
    }


def _not_found() -> np.ndarray:
    return np.array([float(label == "not_in_article") for label in LABELS], dtype=np.float32)


def case_metrics(model: MultiHeadClassifier, retriever: Retriever, path: Path = CASES_FILE) -> dict:
    """Share of the hand-written cases given their label, by kind and by change."""
    spec = json.loads(path.read_text(encoding="utf-8"))
    bodies = {a["id"]: a["body"] for a in spec["articles"]}
    rows = [
        GroundingPair(
            c["claim"], bodies[c["article"]], c["label"], "cases", c["article"], "test", True
        )
        for c in spec["cases"]
    ]
    predicted = document_probabilities(model, retriever, rows).argmax(axis=1)
    right: dict[str, list[bool]] = defaultdict(list)
    for case, k in zip(spec["cases"], predicted):
        ok = LABELS[k] == case["label"]
        right[case["kind"]].append(ok)
        if case.get("change"):
            right[f"changed:{case['change']}"].append(ok)
    return {
        kind: {"cases": len(v), "accuracy": round(float(np.mean(v)), 4)}
        for kind, v in sorted(right.items())
    }


def evaluate(
    model_dir: Path,
    data_dir: Path,
    cache_dir: Path,
    folder: str = "grounding",
    splits: tuple[str, ...] = ("test", "dev"),
) -> dict:
    """Every figure of the grounding model in `model_dir/folder`; `splits=("dev",)` gives
    only what choosing between runs may read."""
    model = MultiHeadClassifier(model_dir / folder).load()
    retriever = Retriever.bundled(cache_dir, model_dir)
    try:
        pairs = load_pairs(data_dir, tuple(TRAINABLE))
        out: dict = {}
        for split in splits:
            rows = [p for p in pairs if p.split == split and not p.document]
            documents = [p for p in pairs if p.split == split and p.document]
            probabilities = np.concatenate(
                [
                    pair_probabilities(model, rows),
                    document_probabilities(model, retriever, documents),
                ]
            )
            named = rows + [replace(d, source=f"{d.source}_documents") for d in documents]
            out[split] = by_source(named, probabilities)
            out[f"retrieval_{split}"] = retrieval_metrics(model, retriever, documents)
        if "test" in splits:
            held = nli.evaluation_only(data_dir)
            out["evaluation_only"] = by_source(held, pair_probabilities(model, held))
            if CASES_FILE.is_file():
                out["cases"] = case_metrics(model, retriever)
    finally:
        retriever.save()
    return out


def retrieval_metrics(
    model: MultiHeadClassifier, retriever: Retriever, documents: list[GroundingPair]
) -> dict:
    """Per source with gold evidence: recall as retrieved, and among the passages shown."""
    out = {}
    for source in sorted({d.source for d in documents if d.gold}):
        rows = [d for d in documents if d.source == source]
        out[source] = {
            "retrieved": retriever.recall(rows, (1, 3, TOP_PASSAGES)),
            "shown": shown_recall(model, retriever, rows),
        }
    return out
