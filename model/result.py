"""The result of scoring one comment: the typed form of docs/contract.md.

The HTTP API, the batch output and the store all serialise these same objects, so the
contract is written down once, here.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, StringConstraints

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


# The store's id columns hold this many characters.
MAX_ID_CHARS = 255
# C0 controls (NUL, tab, line breaks, ...), DEL and C1 controls: no id needs them, and
# PostgreSQL cannot store NUL at all.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# A surrogate left alone in a str (JSON's "\ud800" escape): not text, and no UTF-8
# encoder (response, log or database) can write it; a valid pair decodes to one character.
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _valid_text(value: str) -> str:
    if "\x00" in value:
        raise ValueError(f"holds a NUL character (U+0000) at offset {value.index(chr(0))}")
    if lone := _SURROGATE.search(value):
        raise ValueError(
            f"holds a lone surrogate (U+{ord(lone.group()):04X}) at offset {lone.start()}"
        )
    return value


def _valid_id(value: str) -> str:
    if not value.strip():
        raise ValueError("is empty or only whitespace")
    if control := _CONTROL.search(value):
        raise ValueError(
            f"holds a control character (U+{ord(control.group()):04X}) at offset {control.start()}"
        )
    return _valid_text(value)


# What every boundary (HTTP routes, webhook events, the batch command) accepts as an id
# and as text: the store can hold it and every encoder can write it.
Id = Annotated[str, StringConstraints(max_length=MAX_ID_CHARS), AfterValidator(_valid_id)]
Text = Annotated[str, AfterValidator(_valid_text)]


class ArticleIn(BaseModel):
    """An article as callers send it."""

    id: Id
    title: Text | None = None
    body: Text


class CommentIn(BaseModel):
    """A comment as callers send it; `article_id` links it to an ArticleIn."""

    id: Id
    text: Text
    article_id: Id | None = None
    publisher: Id | None = None  # picks a publisher's section of the policy file


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
    """One finding, written for a moderator; `claim` indexes `Result.claims`, and `passage`
    is the article passage the finding turns on (offsets into the article's body), so a
    page can show the comment's claim and the article's words side by side."""

    type: str
    message: str
    claim: int | None = None
    passage: Evidence | None = None


class Result(BaseModel):
    comment_id: str | None
    article_id: str | None
    # The content hash of the article version it was scored against (the store fills it;
    # None without an article), so a client can tell a result on an edited article apart.
    article_sha256: str | None = None
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
