"""Perspective API compatibility: its AnalyzeComment and SuggestCommentScore requests and
responses, its error bodies, and the mapping from rebut's attributes to Perspective's names.

Perspective's shapes are camelCase JSON; these models keep its field names so that a client
written for Perspective works by changing only the host (and key). Requests may also use the
proto field names (snake_case), as Google's servers accept them.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

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


class ProtoJson(BaseModel):
    """A request message read as proto3 JSON is, as Google's servers read it: each field by
    its lowerCamelCase JSON name or by its proto name (`doNotStore` or `do_not_store`). A
    field sent under both names is refused, as Google refuses it: which one to believe is a
    guess, and for doNotStore a wrong guess stores a text its sender asked not to keep."""

    model_config = ConfigDict(
        alias_generator=to_camel, validate_by_name=True, validate_by_alias=True, extra="ignore"
    )

    @model_validator(mode="before")
    @classmethod
    def _one_name_a_field(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name, field in cls.model_fields.items():
                if field.alias and field.alias != name and name in data and field.alias in data:
                    raise ValueError(f"sets {field.alias} twice, as {field.alias} and {name}")
        return data


class TextEntry(ProtoJson):
    text: str
    type: str | None = None  # Perspective accepts only PLAIN_TEXT


class AttributeParameters(ProtoJson):
    score_type: str | None = None
    score_threshold: float | None = Field(default=None, ge=0, le=1)


# Perspective's AnalyzeCommentRequest; fields rebut has no use for (context, sessionId,
# communityId) are accepted and ignored, as Perspective's own docs allow.
class AnalyzeCommentRequest(ProtoJson):
    comment: TextEntry
    requested_attributes: dict[str, AttributeParameters] = Field(default_factory=dict)
    languages: list[str] | None = None
    span_annotations: bool = False
    do_not_store: bool = False
    client_token: str | None = None


class SuggestedScore(ProtoJson):
    value: float = Field(ge=0, le=1)
    type: str | None = None


class SuggestedAttributeScores(ProtoJson):
    # Perspective also takes spanScores; rebut keeps a suggestion's summary score only
    summary_score: SuggestedScore | None = None


# Perspective's SuggestCommentScoreRequest: a person's scores for a text. context and
# sessionId are accepted and ignored, as in AnalyzeCommentRequest.
class SuggestCommentScoreRequest(ProtoJson):
    comment: TextEntry
    attribute_scores: dict[str, SuggestedAttributeScores] = Field(default_factory=dict)
    languages: list[str] | None = None
    community_id: str | None = None
    client_token: str | None = None


class SuggestCommentScoreResponse(BaseModel):
    detectedLanguages: list[str]  # noqa: N815 (Perspective's field names)
    requestedLanguages: list[str] | None = None  # noqa: N815
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


def _method(name: str, request: str, response: str) -> dict[str, Any]:
    return {
        "id": f"commentanalyzer.comments.{name}",
        "path": f"v1alpha1/comments:{name}",
        "flatPath": f"v1alpha1/comments:{name}",
        "httpMethod": "POST",
        "parameters": {},
        "parameterOrder": [],
        "request": {"$ref": request},
        "response": {"$ref": response},
    }


def discovery_document(root_url: str) -> dict[str, Any]:
    """A Google discovery document for the analyze and suggestscore methods, so that
    Perspective's Python sample (googleapiclient.discovery.build) works against rebut by
    changing only `discoveryServiceUrl`."""
    messages = ["AnalyzeComment", "SuggestCommentScore"]
    schemas = {
        f"{message}{kind}": {"id": f"{message}{kind}", "type": "object"}
        for message in messages
        for kind in ("Request", "Response")
    }
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
        "schemas": schemas,
        "resources": {
            "comments": {
                "methods": {
                    "analyze": _method(
                        "analyze", "AnalyzeCommentRequest", "AnalyzeCommentResponse"
                    ),
                    "suggestscore": _method(
                        "suggestscore", "SuggestCommentScoreRequest", "SuggestCommentScoreResponse"
                    ),
                }
            }
        },
    }
