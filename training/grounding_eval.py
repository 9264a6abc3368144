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
from pathlib import Path

import numpy as np
from sklearn.metrics import balanced_accuracy_score, f1_score

from model.classifier import MultiHeadClassifier
from model.grounding import decisive
from model.result import GROUNDING_LABELS
from model.sentences import split_sentences
from training.data import nli
from training.data.grounding import TRAINABLE, load_pairs
from training.data.pairs import GroundingPair
from training.evaluate import expected_calibration_error
from training.retrieval import Retriever

LABELS = list(GROUNDING_LABELS)
CASES_FILE = Path(__file__).resolve().parents[1] / "data/grounding/paraphrase_cases.json"


def figures(gold: list[str], probabilities: np.ndarray) -> dict:
    """Supported-vs-not balanced accuracy on every row; three-way macro-F1 and ECE on the
    rows with a three-way label (binary sources' `not_supported` have none)."""
    predicted = [LABELS[k] for k in probabilities.argmax(axis=1)]
    out: dict = {"rows": len(gold)}
    supported = [g == "supported" for g in gold]
    if 0 < sum(supported) < len(gold):
        out["supported_vs_not_balanced_accuracy"] = round(
            float(balanced_accuracy_score(supported, [p == "supported" for p in predicted])), 4
        )
    three = [i for i, g in enumerate(gold) if g in LABELS]
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
    out = {"all": figures([r.label for r in rows], probabilities)}
    for source, idx in sorted(groups.items()):
        out[source] = figures([rows[i].label for i in idx], probabilities[idx])
    return out


def pair_probabilities(model: MultiHeadClassifier, rows: list[GroundingPair]) -> np.ndarray:
    if not rows:
        return np.zeros((0, len(LABELS)), dtype=np.float32)
    answer = model.predict([r.claim for r in rows], [r.evidence for r in rows], "grounding")
    return answer["grounding"]


def document_probabilities(
    model: MultiHeadClassifier, retriever: Retriever, rows: list[GroundingPair]
) -> np.ndarray:
    """Served grounding of each row's claim, sentence by sentence, against its document."""
    sentences = [[s.text for s in split_sentences(r.claim)] or [r.claim] for r in rows]
    flat = [
        GroundingPair(s, r.evidence, r.label, r.source, r.group, r.split, True)
        for r, ss in zip(rows, sentences)
        for s in ss
    ]
    passages = retriever.top_passages(flat)
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


def evaluate(model_dir: Path, data_dir: Path, cache_dir: Path, folder: str = "grounding") -> dict:
    model = MultiHeadClassifier(model_dir / folder).load()
    retriever = Retriever.bundled(cache_dir, model_dir)
    try:
        pairs = load_pairs(data_dir, tuple(TRAINABLE))
        out: dict = {}
        for split in ("test", "dev"):
            rows = [p for p in pairs if p.split == split and not p.document]
            documents = [p for p in pairs if p.split == split and p.document]
            probabilities = np.concatenate(
                [
                    pair_probabilities(model, rows),
                    document_probabilities(model, retriever, documents),
                ]
            )
            named = rows + [
                GroundingPair(
                    d.claim, d.evidence, d.label, f"{d.source}_documents", d.group, split, True
                )
                for d in documents
            ]
            out[split] = by_source(named, probabilities)
            out[f"retrieval_{split}"] = {
                source: retriever.recall([d for d in documents if d.source == source])
                for source in sorted({d.source for d in documents if d.gold})
            }
        held = nli.evaluation_only(data_dir)
        out["evaluation_only"] = by_source(held, pair_probabilities(model, held))
        if CASES_FILE.is_file():
            out["cases"] = case_metrics(model, retriever)
    finally:
        retriever.save()
    return out
