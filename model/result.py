"""The result of scoring one comment: the typed form of ../shared/CONTRACT.md.

The HTTP API, the batch output and the store all serialise these same objects, so the
contract is written down once, here.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

ATTRIBUTES: tuple[str, ...] = (
    "toxicity",
    "severe_toxicity",
    "insult",
    "threat",
    "identity_attack",
    "profanity",
    "spam",
)
GROUNDING_LABELS: tuple[str, ...] = ("supported", "contradicted", "not_in_article")
STANCE_LABELS: tuple[str, ...] = ("agrees", "disputes", "discusses", "unrelated")

Probability = float  # always in [0, 1]
ClaimStatus = Literal["supported", "contradicted", "not_in_article"]
StanceLabel = Literal["agrees", "disputes", "discusses", "unrelated"]
Action = Literal["approve", "review", "reject"]


class ArticleIn(BaseModel):
    """An article as callers send it."""

    id: str
    title: str | None = None
    body: str


class CommentIn(BaseModel):
    """A comment as callers send it; `article_id` links it to an ArticleIn."""

    id: str
    text: str
    article_id: str | None = None
    publisher: str | None = None  # picks a publisher's section of the policy file


class Evidence(BaseModel):
    """An article passage; `text == article.body[start:end]`."""

    text: str
    start: int
    end: int
    score: Probability = Field(ge=0, le=1)


class Claim(BaseModel):
    """A check-worthy assertion in the comment; `text == comment.text[start:end]`."""

    text: str
    start: int
    end: int
    check_worthiness: Probability = Field(ge=0, le=1)
    status: ClaimStatus | None = None  # None when the comment came without an article
    scores: dict[str, Probability] | None = None
    evidence: list[Evidence] = Field(default_factory=list)


class SpanScores(BaseModel):
    """One sentence of the comment and its attributes: where the abuse is.
    `text == comment.text[start:end]`."""

    text: str
    start: int
    end: int
    attributes: dict[str, Probability]


class Moderation(BaseModel):
    flagged: bool
    action: Action
    attributes: dict[str, Probability]
    reasons: list[str] = Field(default_factory=list)  # which attribute crossed which threshold
    language: str = "en"  # ISO 639-1; scores are uninformative for languages rebut cannot read
    spans: list[SpanScores] = Field(default_factory=list)


class Stance(BaseModel):
    label: StanceLabel
    scores: dict[str, Probability]


class Hint(BaseModel):
    """One finding, written for a moderator; `claim` indexes `Result.claims`."""

    type: str
    message: str
    claim: int | None = None


class Result(BaseModel):
    comment_id: str | None
    article_id: str | None
    model_version: str
    moderation: Moderation
    claims: list[Claim]
    stance: Stance | None
    hints: list[Hint]


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorRecord(BaseModel):
    """What the batch command writes for a comment it could not score."""

    comment_id: str | None
    error: ErrorDetail
