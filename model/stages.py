"""The stages of scoring a batch of comments (Pipeline.score_batch), in the order they run:
segment the comments, encode their sentences, queue the model passes, find the claims,
ground them, and read back stance and moderation scores for assembly.

Three chains of passes need nothing from each other: sentence vectors -> stance,
check-worthiness -> grounding, and moderation. Each `queue_*` stage puts its passes on the
pipeline's one pool as soon as its inputs exist and returns a function that waits for
them; Pipeline.score_batch calls them in the order the passes should run. Every pass is
one input, so results never depend on that order, only the time a call takes does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from model.article_index import ArticleIndex
from model.claims import as_statement, clause_parts
from model.classifier import MultiHeadClassifier
from model.encoder import Encoder
from model.grounding import SHOWN_PASSAGES, TOP_PASSAGES, Retrieval, by_relevance, retrieve
from model.limits import MAX_CLAIMS, MAX_SPANS
from model.normalize import normalize_for_moderation
from model.result import Claim, Evidence, Stance
from model.sentences import Span, join_neighbours, split_sentences
from model.stance import stance_context

Later = Callable[[], dict[str, np.ndarray]]


@dataclass
class Segments:
    """A batch cut into what the models read: each comment's sentences, and the candidate
    clauses of every sentence (model/claims.py), flattened across the batch."""

    texts: list[str]  # each comment's text
    indexes: list[ArticleIndex | None]  # each comment's article, indexed
    sentences: list[list[Span]]  # each comment's sentences
    bounds: np.ndarray  # comment i's sentences are flat[bounds[i]:bounds[i + 1]]
    flat: list[str]  # every sentence of the batch
    clauses: list[list[list[Span]]]  # per comment, per sentence: its candidate clauses
    clause_spans: list[Span]  # every clause of the batch
    clause_texts: list[str]  # each clause ended as a statement, as the models read it
    clause_comment: list[int]  # the comment of each clause
    whole: list[int]  # comments of several sentences, scored as a whole too

    @property
    def with_article(self) -> list[int]:
        return [i for i, index in enumerate(self.indexes) if index is not None]


@dataclass(frozen=True)
class ClaimRow:
    """One claim of the batch, before grounding."""

    comment: int  # the comment's place in the batch
    span: Span
    check_worthiness: float
    sentence: int | None  # the sentence of the comment it is; None for a clause
    clause: int | None  # its index into Segments.clause_spans; None for a sentence

    def model_text(self) -> str:
        """What the models read of a claim: a sentence as written, a clause ended as one."""
        return self.span.text if self.sentence is not None else as_statement(self.span.text)


@dataclass
class Vectors:
    """Sentence and clause vectors, only of comments with an article (retrieval, stance)."""

    sentences: dict[int, np.ndarray]  # comment -> (its sentences, dim)
    clauses: dict[int, np.ndarray]  # clause index -> (dim,)


@dataclass
class Grounding:
    """The grounding passes of a batch's claims, queued."""

    rows: list[int]  # the claims grounded (those of comments with an article)
    retrievals: list[Retrieval]  # each grounded claim's passages
    later: Later  # each claim against each of its passages, one pass each


def segment(
    texts: Sequence[str], indexes: list[ArticleIndex | None], with_claims: bool
) -> Segments:
    sentences = [comment_spans(t) for t in texts]
    clauses = [[clause_parts(s) if with_claims else [] for s in ss] for ss in sentences]
    clause_spans = [p for ss in clauses for ps in ss for p in ps]
    return Segments(
        texts=list(texts),
        indexes=indexes,
        sentences=sentences,
        bounds=np.cumsum([0] + [len(ss) for ss in sentences]),
        flat=[s.text for ss in sentences for s in ss],
        clauses=clauses,
        clause_spans=clause_spans,
        clause_texts=[as_statement(p.text) for p in clause_spans],
        clause_comment=[i for i, ss in enumerate(clauses) for ps in ss for _ in ps],
        whole=[i for i, ss in enumerate(sentences) if len(ss) > 1],
    )


def comment_spans(text: str) -> list[Span]:
    """The spans of a comment the models read: its sentences, or runs of them where it has
    more than MAX_SPANS (model/limits.py), so no comment costs more passes than that."""
    spans = split_sentences(text)
    if spans:
        return join_neighbours(spans, text, MAX_SPANS)
    stripped = text.strip()  # punctuation-only text that the splitter drops entirely
    start = text.index(stripped)
    return [Span(stripped, start, start + len(stripped))]


def encode(encoder: Encoder, seg: Segments) -> Vectors:
    """Vectors of the sentences of comments with an article, and of their clauses too: any
    clause may become a claim, and waiting for the claims before encoding them would put
    two more passes on the grounding chain."""
    with_article = seg.with_article
    grounded_clauses = [m for m, i in enumerate(seg.clause_comment) if seg.indexes[i] is not None]
    encoded = encoder.encode(
        [s.text for i in with_article for s in seg.sentences[i]]
        + [seg.clause_texts[m] for m in grounded_clauses]
    )
    sentences: dict[int, np.ndarray] = {}
    at = 0
    for i in with_article:
        sentences[i] = encoded[at : at + len(seg.sentences[i])]
        at += len(seg.sentences[i])
    return Vectors(sentences=sentences, clauses=dict(zip(grounded_clauses, encoded[at:])))


def queue_stance(model: MultiHeadClassifier, seg: Segments, vectors: Vectors) -> Later:
    """Each comment against its article (the longest pass, up to 320 tokens): queued first
    so it is not left running alone at the end."""
    with_article = seg.with_article
    contexts = [stance_context(seg.indexes[i], vectors.sentences[i]) for i in with_article]  # type: ignore[arg-type]
    return model.predict_later([seg.texts[i] for i in with_article], contexts, "stance")


def queue_checkworthy(model: MultiHeadClassifier, seg: Segments) -> Later:
    """Check-worthiness of every sentence and clause."""
    return model.predict_later(seg.flat + seg.clause_texts, None, "checkworthy")


def queue_moderation(model: MultiHeadClassifier, seg: Segments) -> Later:
    """Every sentence (span scores, check-worthiness), and each comment of several sentences
    as a whole (its attributes): one call, its passes queued together."""
    return model.predict_later(
        [normalize_for_moderation(t) for t in seg.flat]
        + [normalize_for_moderation(seg.texts[i]) for i in seg.whole],
        None,
        "moderation",
    )


def find_claims(
    seg: Segments, sentence_p: np.ndarray, clause_p: np.ndarray, threshold: float
) -> list[ClaimRow]:
    """Every claim, in comment order.

    A sentence is one claim, or, where at least two of its clauses are claims on their
    own, those clauses (model/claims.py). A comment keeps its MAX_CLAIMS most check-worthy
    claims (model/limits.py)."""
    chosen: list[ClaimRow] = []
    k = 0
    for i, ss in enumerate(seg.sentences):
        for j, span in enumerate(ss):
            n = len(seg.clauses[i][j])
            claimed = [m for m in range(k, k + n) if clause_p[m] >= threshold]
            k += n
            row = int(seg.bounds[i] + j)
            if len(claimed) >= 2:
                chosen.extend(
                    ClaimRow(i, seg.clause_spans[m], float(clause_p[m]), None, m) for m in claimed
                )
            elif sentence_p[row] >= threshold:
                chosen.append(ClaimRow(i, span, float(sentence_p[row]), j, None))
    return most_checkworthy(chosen, MAX_CLAIMS)


def most_checkworthy(rows: list[ClaimRow], most: int) -> list[ClaimRow]:
    """Each comment's `most` most check-worthy claims, still in comment order."""
    kept: set[int] = set()
    for i in {row.comment for row in rows}:
        mine = [r for r, row in enumerate(rows) if row.comment == i]
        kept.update(sorted(mine, key=lambda r: -rows[r].check_worthiness)[:most])
    return [row for r, row in enumerate(rows) if r in kept]


def queue_grounding(
    model: MultiHeadClassifier, seg: Segments, vectors: Vectors, rows: list[ClaimRow]
) -> Grounding:
    """Each claim of a comment with an article against each of its passages
    (model/grounding.py); the comment against its article is the stance pass."""
    grounded = [r for r, row in enumerate(rows) if seg.indexes[row.comment] is not None]
    retrievals = []
    for r in grounded:
        row = rows[r]
        if row.sentence is not None:
            vector = vectors.sentences[row.comment][row.sentence]
        else:
            vector = vectors.clauses[row.clause]  # type: ignore[index]
        index = seg.indexes[row.comment]
        retrievals.append(retrieve(row.span.text, vector, index, TOP_PASSAGES))  # type: ignore[arg-type]
    pairs = [
        (r, seg.indexes[rows[r].comment].passages[p].text)  # type: ignore[union-attr]
        for r, x in zip(grounded, retrievals)
        for p in x.passage_ids
    ]
    later = model.predict_later(
        [rows[r].model_text() for r, _ in pairs], [text for _, text in pairs], "grounding"
    )
    return Grounding(rows=grounded, retrievals=retrievals, later=later)


def grounded_claims(
    seg: Segments, rows: list[ClaimRow], grounding: Grounding, labels: list[str]
) -> list[list[Claim]]:
    """Each comment's claims, with status, scores and evidence where it has an article."""
    claims: list[list[Claim]] = [[] for _ in seg.texts]
    per_passage = grounding.later()["grounding"]
    at = {r: k for k, r in enumerate(grounding.rows)}
    first = np.cumsum([0] + [len(x.passage_ids) for x in grounding.retrievals])
    for r, row in enumerate(rows):
        span = row.span
        claim = Claim(
            text=span.text,
            start=span.start,
            end=span.end,
            check_worthiness=probability(row.check_worthiness),
        )
        if r in at:
            k = at[r]
            claim.status, claim.scores, claim.evidence = verdict(
                seg.indexes[row.comment],  # type: ignore[arg-type]
                grounding.retrievals[k],
                per_passage[first[k] : first[k + 1]],
                labels,
            )
        claims[row.comment].append(claim)
    return claims


def verdict(
    index: ArticleIndex, retrieval: Retrieval, probabilities: np.ndarray, labels: list[str]
) -> tuple[str, dict[str, float], list[Evidence]]:
    """A claim's status and scores from its decisive passage, and its evidence: that
    passage first, whole, then the next most decisive."""
    if not len(probabilities):  # an article with no passage to read
        return (
            "not_in_article",
            {label: probability(label == "not_in_article") for label in labels},
            [],
        )
    order = by_relevance(probabilities, labels)[:SHOWN_PASSAGES]
    probs = probabilities[order[0]]  # the decisive passage's verdict
    evidence = [
        Evidence(
            text=index.passages[retrieval.passage_ids[k]].text,
            start=index.passages[retrieval.passage_ids[k]].start,
            end=index.passages[retrieval.passage_ids[k]].end,
            score=retrieval.similarities[k],
        )
        for k in order
    ]
    status = labels[int(np.argmax(probs))]
    return status, {label: probability(p) for label, p in zip(labels, probs)}, evidence


def stances(seg: Segments, stance_p: np.ndarray, labels: list[str]) -> dict[int, Stance]:
    """Each comment with an article: its stance towards it."""
    out: dict[int, Stance] = {}
    for row, i in enumerate(seg.with_article):
        probs = stance_p[row]
        out[i] = Stance(
            label=labels[int(np.argmax(probs))],  # type: ignore[arg-type]
            scores={label: probability(p) for label, p in zip(labels, probs)},
        )
    return out


@dataclass
class ModerationScores:
    """The moderation head's probabilities for a batch, split back per comment."""

    sentences: np.ndarray  # (sentences of the batch, attributes)
    comments: np.ndarray  # (comments, attributes)


def moderation_scores(
    model: MultiHeadClassifier, seg: Segments, both: dict[str, np.ndarray]
) -> ModerationScores:
    """A one-sentence comment's attributes are its sentence's; a longer comment's are its
    whole text's, raised to its sentences' maximum where the model read only its start."""
    n = len(seg.flat)
    sentences, whole = both["moderation"][:n], both["moderation"][n:]
    comments = sentences[seg.bounds[:-1]].copy()
    for row, i in enumerate(seg.whole):
        comments[i] = whole[row]
        if model.truncates(seg.texts[i]):  # the model saw only the start
            sentence_max = sentences[seg.bounds[i] : seg.bounds[i + 1]].max(axis=0)
            comments[i] = np.maximum(comments[i], sentence_max)
    return ModerationScores(sentences=sentences, comments=comments)


def probability(value: float) -> float:
    """A probability for the contract: a plain float in [0, 1], rounded for readable output."""
    return round(float(min(max(value, 0.0), 1.0)), 4)
