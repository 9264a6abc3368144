"""Coral Talk's external moderation phase: its request and response, and the decision
rebut's result turns into.

Coral POSTs an ExternalModerationRequest for each new or edited comment, signed with
`X-Coral-Signature`, and waits (its phase timeout) for an ExternalModerationResponse, or a
204 for "no opinion". Field names follow Coral's EXTERNAL_MODERATION_PHASES.md.
"""

from __future__ import annotations

import hashlib
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from model.result import Result

# rebut's attributes that make Coral's spam flag; every other flagged one is "toxic".
SPAM_ATTRIBUTES = frozenset({"spam"})


class CoralComment(BaseModel):
    model_config = ConfigDict(extra="allow")

    body: str
    parentID: str | None = None  # noqa: N815 (Coral's field names)
    id: str | None = None  # not in every Coral version's payload


class CoralAuthor(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    role: str | None = None


class CoralStory(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    url: str | None = None


# Coral's ExternalModerationRequest. Tenant and site fields differ between Coral versions
# (tenantID/tenantDomain or tenant {id, domain}); rebut needs neither, so extras pass.
class ExternalModerationRequest(BaseModel):
    model_config = ConfigDict(extra="allow")

    action: Literal["NEW", "EDIT"]
    comment: CoralComment
    author: CoralAuthor
    story: CoralStory


class ModerationAction(BaseModel):
    actionType: Literal["FLAG"] = "FLAG"  # noqa: N815
    reason: Literal["COMMENT_DETECTED_TOXIC", "COMMENT_DETECTED_SPAM"]


# Coral's ExternalModerationResponse.
class ExternalModerationResponse(BaseModel):
    actions: list[ModerationAction] = Field(default_factory=list)
    status: Literal["NONE", "APPROVED", "REJECTED", "PREMOD", "SYSTEM_WITHHELD"] | None = None


def comment_id(request: ExternalModerationRequest) -> str:
    """Coral's comment id when it sends one; else a stable id from story, author and text."""
    if request.comment.id:
        return request.comment.id
    key = "\n".join((request.story.id, request.author.id, request.comment.body))
    return "coral:" + hashlib.sha256(key.encode()).hexdigest()[:32]


def decide(result: Result, flag_thresholds: dict[str, float]) -> ExternalModerationResponse:
    """FLAG for each kind of abuse over its threshold (toxic, spam). A comment rebut would
    reject is also withheld (SYSTEM_WITHHELD) for a moderator, as Coral's own toxicity phase
    does; anything less leaves publishing to Coral's other settings."""
    over = {
        name
        for name, limit in flag_thresholds.items()
        if result.moderation.attributes.get(name, 0.0) >= limit
    }
    actions = []
    if over - SPAM_ATTRIBUTES:
        actions.append(ModerationAction(reason="COMMENT_DETECTED_TOXIC"))
    if over & SPAM_ATTRIBUTES:
        actions.append(ModerationAction(reason="COMMENT_DETECTED_SPAM"))
    status = "SYSTEM_WITHHELD" if result.moderation.action == "reject" else None
    return ExternalModerationResponse(actions=actions, status=status)
