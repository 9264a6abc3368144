"""Perspective API compatibility: its AnalyzeComment request and response, its error
bodies, and the mapping from rebut's attributes to Perspective's names.

Perspective's shapes are camelCase JSON; these models keep its field names so that a client
written for Perspective works by changing only the host (and key).
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

# Perspective's name -> rebut's attribute (model.result.ATTRIBUTES).
ATTRIBUTE_NAMES: dict[str, str] = {
    "TOXICITY": "toxicity",
    "SEVERE_TOXICITY": "severe_toxicity",
    "INSULT": "insult",
    "THREAT": "threat",
    "IDENTITY_ATTACK": "identity_attack",
    "PROFANITY": "profanity",
    "SPAM": "spam",
}
# Attributes Perspective has (or had) that rebut's model does not score. Perspective itself
# answers an attribute it cannot score for the request's language with
# LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE, which clients already treat as "no score for this";
# rebut does the same, for every language.
UNSCORED_PERSPECTIVE_ATTRIBUTES: frozenset[str] = frozenset(
    {
        "SEXUALLY_EXPLICIT",
        "FLIRTATION",
        "ATTACK_ON_AUTHOR",
        "ATTACK_ON_COMMENTER",
        "INCOHERENT",
        "INFLAMMATORY",
        "LIKELY_TO_REJECT",
        "OBSCENE",
        "UNSUBSTANTIAL",
        "TOXICITY_EXPERIMENTAL",
        "SEVERE_TOXICITY_EXPERIMENTAL",
        "IDENTITY_ATTACK_EXPERIMENTAL",
        "INSULT_EXPERIMENTAL",
        "PROFANITY_EXPERIMENTAL",
        "THREAT_EXPERIMENTAL",
    }
)
SUPPORTED_LANGUAGE = "en"

# Google's canonical status names, as Perspective's error bodies carry them.
_GOOGLE_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "UNIMPLEMENTED",
    409: "ABORTED",  # the comment id's result belongs to another key
    408: "DEADLINE_EXCEEDED",  # the request body did not arrive in time
    413: "INVALID_ARGUMENT",
    422: "INVALID_ARGUMENT",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}
_ERROR_DETAIL_TYPE = "type.googleapis.com/google.commentanalyzer.v1alpha1.Error"


class TextEntry(BaseModel):
    text: str
    type: str | None = None  # Perspective accepts only PLAIN_TEXT


class AttributeParameters(BaseModel):
    scoreType: str | None = None  # noqa: N815 (Perspective's field names)
    scoreThreshold: float | None = Field(default=None, ge=0, le=1)  # noqa: N815


# Perspective's AnalyzeCommentRequest; fields rebut has no use for (context, sessionId,
# communityId) are accepted and ignored, as Perspective's own docs allow.
class AnalyzeCommentRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    comment: TextEntry
    requestedAttributes: dict[str, AttributeParameters] = Field(default_factory=dict)  # noqa: N815
    languages: list[str] | None = None
    spanAnnotations: bool = False  # noqa: N815
    doNotStore: bool = False  # noqa: N815
    clientToken: str | None = None  # noqa: N815


class Score(BaseModel):
    value: float
    type: Literal["PROBABILITY"] = "PROBABILITY"


class SpanScore(BaseModel):
    begin: int
    end: int
    score: Score


class AttributeScores(BaseModel):
    spanScores: list[SpanScore]  # noqa: N815
    summaryScore: Score  # noqa: N815


class AnalyzeCommentResponse(BaseModel):
    attributeScores: dict[str, AttributeScores]  # noqa: N815
    languages: list[str]
    detectedLanguages: list[str]  # noqa: N815
    clientToken: str | None = None  # noqa: N815


class PerspectiveError(Exception):
    """An error to answer in Perspective's shape; `error_type` is its ErrorType enum."""

    def __init__(
        self, status: int, message: str, error_type: str | None = None, **detail: Any
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.error_type, self.detail = (
            status,
            message,
            error_type,
            detail,
        )


def is_english(language: str) -> bool:
    return language.lower().replace("_", "-").split("-")[0] == SUPPORTED_LANGUAGE


def google_error(
    status: int,
    message: str,
    error_type: str | None = None,
    *,
    headers: dict[str, str] | None = None,
    **detail: Any,
) -> JSONResponse:
    """`{"error": {"code", "message", "status", "details"}}`, Google's error body."""
    error: dict[str, Any] = {
        "code": status,
        "message": message,
        "status": _GOOGLE_STATUS.get(status, "UNKNOWN"),
    }
    if error_type is not None:
        error["details"] = [{"@type": _ERROR_DETAIL_TYPE, "errorType": error_type, **detail}]
    return JSONResponse({"error": error}, status_code=status, headers=headers)


def discovery_document(root_url: str) -> dict[str, Any]:
    """A Google discovery document for the analyze method, so that Perspective's Python
    sample (googleapiclient.discovery.build) works against rebut by changing only
    `discoveryServiceUrl`."""
    return {
        "kind": "discovery#restDescription",
        "discoveryVersion": "v1",
        "id": "commentanalyzer:v1alpha1",
        "name": "commentanalyzer",
        "version": "v1alpha1",
        "title": "rebut's Perspective-compatible Comment Analyzer API",
        "protocol": "rest",
        "rootUrl": root_url,
        "servicePath": "",
        "baseUrl": root_url,
        "batchPath": "batch",
        "parameters": {
            "key": {"type": "string", "location": "query", "description": "API key."},
            "alt": {"type": "string", "location": "query", "default": "json", "enum": ["json"]},
        },
        "schemas": {
            "AnalyzeCommentRequest": {"id": "AnalyzeCommentRequest", "type": "object"},
            "AnalyzeCommentResponse": {"id": "AnalyzeCommentResponse", "type": "object"},
        },
        "resources": {
            "comments": {
                "methods": {
                    "analyze": {
                        "id": "commentanalyzer.comments.analyze",
                        "path": "v1alpha1/comments:analyze",
                        "flatPath": "v1alpha1/comments:analyze",
                        "httpMethod": "POST",
                        "parameters": {},
                        "parameterOrder": [],
                        "request": {"$ref": "AnalyzeCommentRequest"},
                        "response": {"$ref": "AnalyzeCommentResponse"},
                    }
                }
            }
        },
    }
