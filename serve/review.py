"""What the moderator's pages show, built from stored results: the queue's items (filtered,
sorted, paged), the decided comments' history, and texts cut into marked pieces (claims by
status, abusive spans, cited article passages by what they do for each claim). Pure
functions: the routes in serve/api/routes/pages.py render them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from model.result import Claim, Result
from serve.queue_queries import is_perspective
from serve.tables import CommentScoreRow, FeedbackRow

Sort = Literal["newest", "severe"]
# The suggested-action filter. By default the queue holds only what the model would not
# approve: a moderator works through those first, and "all" brings the rest back.
ActionFilter = Literal["open", "all", "reject", "review", "approve"]
ACTION_FILTERS: dict[str, tuple[str, ...]] = {
    "open": ("reject", "review"),
    "all": ("reject", "review", "approve"),
    "reject": ("reject",),
    "review": ("review",),
    "approve": ("approve",),
}
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
KNOWN_HINT_TYPES = (
    "abuse",
    "fact_missing_from_article",
    "fact_contradicts_article",
    "rebuttal",
    "article_unknown",
)
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


# What an article passage does for a claim that cites it. The claim's first evidence
# passage decided its status, so it supports or contradicts the claim; a not_in_article
# claim's passages, and every claim's further ones, are only the closest the model found.
PASSAGE_KINDS = {"supported": "supports", "contradicted": "contradicts"}
CLOSEST = "closest"
# The order a passage's marks are listed and styled in: the strongest finding first.
KIND_ORDER = ("contradicts", "supports", CLOSEST)
KIND_LABELS = {"contradicts": "contradicts", "supports": "supports", CLOSEST: "closest only for"}


@dataclass
class Passage:
    """A run of article text; `cited_by` lists (comment id, claim index, kind) for each
    claim citing it, kind one of KIND_ORDER."""

    text: str
    start: int
    cited_by: list[tuple[str, int, str]] = field(default_factory=list)

    @property
    def kinds(self) -> dict[str, int]:
        """How many claims cite it as each kind, strongest kind first."""
        counts = {k: sum(1 for *_, kind in self.cited_by if kind == k) for k in KIND_ORDER}
        return {k: n for k, n in counts.items() if n}


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
    # For the Approved and Rejected tabs: the feedback row, who decided (its key's name)
    # and when.
    decision_id: int | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None

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

    def top_attributes(
        self, thresholds: dict[str, float], most: int = 3
    ) -> list[tuple[str, float, bool]]:
        """(name, score, at or over its flag threshold) of the attributes a collapsed card
        names: those over their threshold first, then the highest."""
        rows = [
            (name, p, name in thresholds and p >= thresholds[name])
            for name, p in self.result.moderation.attributes.items()
        ]
        return sorted(rows, key=lambda row: (row[2], row[1]), reverse=True)[:most]


def _cuts(length: int, spans: Sequence[tuple[int, int]]) -> list[int]:
    points = {0, length}
    for start, end in spans:
        points.update((max(0, min(start, length)), max(0, min(end, length))))
    return sorted(points)


def abusive_spans(
    result_json: dict[str, Any], flag_thresholds: dict[str, float]
) -> list[tuple[int, int]]:
    """(start, end) of each sentence that drives the comment's flag, from its per-span
    moderation (`moderation.spans`): only in a flagged comment, a span that says `flagged`,
    or else one with an attribute at or over that attribute's flag threshold. A sentence of
    an unflagged comment is never marked, whatever its scores: a single sentence scores
    higher than the whole comment it is read in, and a ⚠ on a comment the model passes
    would send the moderator looking for abuse that is not there. Older results: none."""
    moderation = result_json.get("moderation", {})
    if not moderation.get("flagged"):
        return []
    spans = moderation.get("spans") or []
    marked = []
    for span in spans:
        if not isinstance(span, dict) or "start" not in span or "end" not in span:
            continue
        if "flagged" in span:
            abusive = bool(span["flagged"])
        else:
            attributes = span.get("attributes") or span.get("scores") or {}
            abusive = any(
                isinstance(p, int | float)
                and name in flag_thresholds
                and p >= flag_thresholds[name]
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


def history_item(
    feedback: FeedbackRow, row: CommentScoreRow, flag_thresholds: dict[str, float]
) -> Item:
    """A decided comment, for the Approved and Rejected tabs."""
    item = make_item(row, flag_thresholds, feedback.decision)
    item.decision_id = feedback.id
    item.decided_by = feedback.key_name
    item.decided_at = feedback.created_at
    return item


def page_count(total: int) -> int:
    return max(1, -(-total // PAGE_SIZE))


@dataclass
class QueuePage:
    items: list[Item]
    total: int
    page: int
    pages: int
    article_ids: list[str]
    hint_types: list[str]
    # What the default filters left out, so the page can say so and offer them.
    hidden_approve: int = 0
    hidden_perspective: int = 0


def queue_page(
    items: list[Item],
    *,
    article_id: str | None,
    action: ActionFilter,
    hint_type: str | None,
    perspective: bool,
    sort: Sort,
    page: int,
) -> QueuePage:
    """Filter, sort and page the undecided items (given newest first)."""
    comments = [i for i in items if perspective or not is_perspective(i.comment_id)]
    article_ids = sorted({i.article_id for i in comments if i.article_id is not None})
    hint_types = sorted(set(KNOWN_HINT_TYPES).union(*(i.hint_types for i in comments)))
    matching = [
        i
        for i in comments
        if (article_id is None or i.article_id == article_id)
        and (hint_type is None or hint_type in i.hint_types)
    ]
    actions = ACTION_FILTERS[action]
    chosen = [i for i in matching if i.result.moderation.action in actions]
    hidden_approve = (
        sum(1 for i in matching if i.result.moderation.action == "approve")
        if action == "open"
        else 0
    )
    if sort == "severe":
        chosen.sort(key=lambda i: i.severity, reverse=True)  # stable: newest first on ties
    pages = page_count(len(chosen))
    page = min(max(1, page), pages)
    shown = chosen[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    return QueuePage(
        shown,
        len(chosen),
        page,
        pages,
        article_ids,
        hint_types,
        hidden_approve=hidden_approve,
        hidden_perspective=len(items) - len(comments),
    )


def passage_kind(claim: Claim, rank: int) -> str:
    """What the claim's `rank`th evidence passage does for it (KIND_ORDER)."""
    return PASSAGE_KINDS.get(claim.status or "", CLOSEST) if rank == 0 else CLOSEST


def cited_passages(body: str, items: Sequence[Item]) -> list[Passage]:
    """Cut the article `body` at the edges of every evidence passage the items' claims
    cite, each piece with the claims citing it and as what (passage_kind). Evidence scored
    against an older version of the article, whose offsets no longer slice the same text,
    is left out."""
    cites: list[tuple[int, int, str, int, str]] = []
    for item in items:
        for i, claim in enumerate(item.result.claims):
            for rank, evidence in enumerate(claim.evidence):
                if body[evidence.start : evidence.end] == evidence.text:
                    kind = passage_kind(claim, rank)
                    cites.append((evidence.start, evidence.end, item.comment_id, i, kind))
    points = _cuts(len(body), [(s, e) for s, e, *_ in cites])
    passages = []
    for start, end in zip(points, points[1:]):
        # A claim counts once per piece, as the strongest of its passages there: its
        # deciding passage may overlap one it was merely close to.
        by: dict[tuple[str, int], str] = {}
        for s, e, comment_id, i, kind in cites:
            if s <= start and end <= e:
                known = by.get((comment_id, i), CLOSEST)
                by[(comment_id, i)] = min(known, kind, key=KIND_ORDER.index)
        cited_by = [(c, i, kind) for (c, i), kind in sorted(by.items())]
        passages.append(Passage(body[start:end], start, cited_by))
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
