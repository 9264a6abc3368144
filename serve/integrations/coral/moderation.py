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

from model.result import MAX_ID_CHARS, Id, Result, Text

# rebut's attributes that make Coral's spam flag; every other flagged one is "toxic".
SPAM_ATTRIBUTES = frozenset({"spam"})

# Who Coral's stored results belong to (comment_scores.owner).
OWNER = "coral"
# Coral's comments are stored apart from API and webhook ids: Coral's own id under ID_PREFIX,
# a comment sent without one under HASH_ID_PREFIX. The two differ before any id text begins,
# so no id Coral sends can name a hashed one. Both are reserved for Coral (store.check_owner).
ID_PREFIX = "coral:"
HASH_ID_PREFIX = "coral-hash:"
ID_PREFIXES = (ID_PREFIX, HASH_ID_PREFIX)


class CoralComment(BaseModel):
    model_config = ConfigDict(extra="allow")

    body: Text
    parentID: str | None = None  # noqa: N815 (Coral's field names)
    # Not in every Coral version's payload. Stored under ID_PREFIX, within the store's limit.
    id: Id | None = Field(default=None, max_length=MAX_ID_CHARS - len(ID_PREFIX))


class CoralAuthor(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    role: str | None = None


class CoralStory(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: Id  # the article's id in the store
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
    """The stored id: Coral's comment id when it sends one; else a stable id from story,
    author and text."""
    if request.comment.id:
        return ID_PREFIX + request.comment.id
    key = "\n".join((request.story.id, request.author.id, request.comment.body))
    return HASH_ID_PREFIX + hashlib.sha256(key.encode()).hexdigest()[:32]


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
