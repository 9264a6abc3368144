"""What the moderator's pages show, built from stored results: the queue's items (filtered,
sorted, paged) and texts cut into marked pieces (claims by status, abusive spans, cited
article passages). Pure functions: the routes in serve/api/routes/pages.py render them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from model.result import Claim, Result
from serve.tables import CommentScoreRow

Sort = Literal["newest", "severe"]
PAGE_SIZE = 20
ACTION_RANK = {"reject": 2, "review": 1, "approve": 0}
# How much harm a flag for each attribute means, for "most severe first": a threat is read
# before an insult, whatever their scores.
HARM_RANK = {
    "threat": 7,
    "severe_toxicity": 6,
    "identity_attack": 5,
    "insult": 4,
    "toxicity": 3,
    "profanity": 2,
    "spam": 1,
}
# Shown in the hint-type filter even before any pending comment has one.
KNOWN_HINT_TYPES = ("abuse", "fact_missing_from_article", "fact_contradicts_article", "rebuttal")
STATUS_LABELS = {
    "not_in_article": "not in article",
    "contradicted": "contradicted",
    "supported": "supported",
    None: "no article",
}


@dataclass
class Piece:
    """A run of text; `abusive` when a moderation span marks it."""

    text: str
    abusive: bool = False


@dataclass
class Segment:
    """A run of comment text, inside claim `claim` (an index into the result's claims) or
    outside every claim (None)."""

    pieces: list[Piece]
    claim: int | None = None


@dataclass
class Passage:
    """A run of article text; `cited_by` lists (comment id, claim index) citing it."""

    text: str
    start: int
    cited_by: list[tuple[str, int]] = field(default_factory=list)


@dataclass
class Item:
    """One comment in the queue or under an article, with what its page shows."""

    score_id: int
    comment_id: str
    article_id: str | None
    created_at: datetime
    text: str | None
    result: Result
    segments: list[Segment]
    decision: str | None = None

    @property
    def severity(self) -> tuple[int, int, float]:
        """Sort key for "most severe first": the suggested action, then the most harmful
        attribute the comment was flagged for (a threat before an insult, whatever their
        scores), then the highest abuse score (off-topic is not abuse)."""
        moderation = self.result.moderation
        flagged = {reason.split(" ", 1)[0] for reason in moderation.reasons}
        harm = max((HARM_RANK.get(name, 0) for name in flagged), default=0)
        abuse = [p for name, p in moderation.attributes.items() if name in HARM_RANK]
        return ACTION_RANK[moderation.action], harm, max(abuse, default=0.0)

    @property
    def hint_types(self) -> set[str]:
        return {hint.type for hint in self.result.hints}

    def status_label(self, claim: Claim) -> str:
        return STATUS_LABELS[claim.status]


def _cuts(length: int, spans: Sequence[tuple[int, int]]) -> list[int]:
    points = {0, length}
    for start, end in spans:
        points.update((max(0, min(start, length)), max(0, min(end, length))))
    return sorted(points)


def abusive_spans(
    result_json: dict[str, Any], flag_thresholds: dict[str, float]
) -> list[tuple[int, int]]:
    """(start, end) of each abusive span, if the result has per-span moderation
    (`moderation.spans`, a field newer models may add): a span is abusive when it says
    `flagged`, or else when an attribute reaches its flag threshold. Older results: none."""
    spans = result_json.get("moderation", {}).get("spans") or []
    marked = []
    for span in spans:
        if not isinstance(span, dict) or "start" not in span or "end" not in span:
            continue
        if "flagged" in span:
            abusive = bool(span["flagged"])
        else:
            attributes = span.get("attributes") or span.get("scores") or {}
            abusive = any(
                isinstance(p, int | float) and p >= flag_thresholds.get(name, 0.5)
                for name, p in attributes.items()
            )
        if abusive:
            marked.append((int(span["start"]), int(span["end"])))
    return marked


def segment_comment(
    text: str, claims: Sequence[Claim], abusive: Sequence[tuple[int, int]]
) -> list[Segment]:
    """Cut `text` at claim and abusive-span edges. Claims come from whole sentences and do
    not overlap; one that overlaps an earlier one, or whose offsets do not slice its text,
    is left unmarked rather than drawn wrongly."""
    claim_spans: list[tuple[int, int, int]] = []
    for i, claim in enumerate(claims):
        overlaps = any(claim.start < e and s < claim.end for s, e, _ in claim_spans)
        if text[claim.start : claim.end] == claim.text and not overlaps:
            claim_spans.append((claim.start, claim.end, i))
    claim_spans.sort()
    points = _cuts(len(text), [(s, e) for s, e, _ in claim_spans] + list(abusive))
    segments: list[Segment] = []
    for start, end in zip(points, points[1:]):
        owner = next((i for s, e, i in claim_spans if s <= start and end <= e), None)
        piece = Piece(text[start:end], any(s <= start and end <= e for s, e in abusive))
        if segments and segments[-1].claim == owner and owner is not None:
            segments[-1].pieces.append(piece)
        else:
            segments.append(Segment([piece], owner))
    return segments


def make_item(
    row: CommentScoreRow, flag_thresholds: dict[str, float], decision: str | None = None
) -> Item:
    raw = json.loads(row.result_json)
    result = Result.model_validate(raw)
    text = row.text
    segments = (
        segment_comment(text, result.claims, abusive_spans(raw, flag_thresholds))
        if text is not None
        else []
    )
    return Item(
        score_id=row.id,
        comment_id=row.comment_id,
        article_id=row.article_id,
        created_at=row.created_at,
        text=text,
        result=result,
        segments=segments,
        decision=decision,
    )


@dataclass
class QueuePage:
    items: list[Item]
    total: int
    page: int
    pages: int
    article_ids: list[str]
    hint_types: list[str]


def queue_page(
    items: list[Item],
    *,
    article_id: str | None,
    action: str | None,
    hint_type: str | None,
    sort: Sort,
    page: int,
) -> QueuePage:
    """Filter, sort and page the undecided items (given newest first)."""
    article_ids = sorted({i.article_id for i in items if i.article_id is not None})
    hint_types = sorted(set(KNOWN_HINT_TYPES).union(*(i.hint_types for i in items)))
    chosen = [
        i
        for i in items
        if (article_id is None or i.article_id == article_id)
        and (action is None or i.result.moderation.action == action)
        and (hint_type is None or hint_type in i.hint_types)
    ]
    if sort == "severe":
        chosen.sort(key=lambda i: i.severity, reverse=True)  # stable: newest first on ties
    pages = max(1, -(-len(chosen) // PAGE_SIZE))
    page = min(max(1, page), pages)
    shown = chosen[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    return QueuePage(shown, len(chosen), page, pages, article_ids, hint_types)


def cited_passages(body: str, items: Sequence[Item]) -> list[Passage]:
    """Cut the article `body` at the edges of every evidence passage the items' claims
    cite. Evidence scored against an older version of the article, whose offsets no longer
    slice the same text, is left out."""
    cites: list[tuple[int, int, str, int]] = []
    for item in items:
        for i, claim in enumerate(item.result.claims):
            for evidence in claim.evidence:
                if body[evidence.start : evidence.end] == evidence.text:
                    cites.append((evidence.start, evidence.end, item.comment_id, i))
    points = _cuts(len(body), [(s, e) for s, e, _, _ in cites])
    passages = []
    for start, end in zip(points, points[1:]):
        by = [(c, i) for s, e, c, i in cites if s <= start and end <= e]
        passages.append(Passage(body[start:end], start, sorted(set(by))))
    return passages


def passage_anchor(item: Item, claim: Claim) -> str | None:
    """The id of the article view's first piece of the claim's top evidence passage."""
    return f"p-{claim.evidence[0].start}" if claim.evidence else None


def disputes(item: Item) -> bool:
    """Whether the article view lists the comment: it disputes the article, or asserts
    something the article does not support."""
    stance = item.result.stance
    return (stance is not None and stance.label == "disputes") or any(
        c.status in ("contradicted", "not_in_article") for c in item.result.claims
    )
