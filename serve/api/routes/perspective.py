"""`POST /v1alpha1/comments:analyze`: Perspective's AnalyzeComment, answered by rebut's model.

A Perspective client moves to rebut by changing its host and key (`?key=KEY`, as
Perspective's clients send it). Errors come in Perspective's (Google's) error shape.
"""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import APIRouter, Depends, Request

from model.errors import EmptyText, TextTooLong
from model.language import detect_language
from model.result import CommentIn
from serve.deps import BatcherDep, CallerDep, PipelineDep, SessionDep, require_key
from serve.perspective import (
    ATTRIBUTE_NAMES,
    SUPPORTED_LANGUAGE,
    UNSCORED_PERSPECTIVE_ATTRIBUTES,
    AnalyzeCommentRequest,
    AnalyzeCommentResponse,
    AttributeScores,
    PerspectiveError,
    Score,
    SpanScore,
    discovery_document,
    is_english,
)
from serve.store import check_owner, save_result

router = APIRouter(prefix="/v1alpha1", tags=["perspective"], dependencies=[Depends(require_key)])
discovery_router = APIRouter(tags=["perspective"])


def _unsupported(attribute: str, languages: list[str], detected: str) -> PerspectiveError:
    return PerspectiveError(
        400,
        f"Attribute {attribute} does not support request languages: {','.join(languages)}",
        "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE",
        languageNotSupportedByAttributeError={
            "requestedLanguages": languages,
            "detectedLanguages": [detected],
            "attribute": attribute,
        },
    )


def _check(request: AnalyzeCommentRequest, pipeline: PipelineDep) -> None:
    """Refuse what Perspective would refuse, with its error types: the text's own checks
    first, as they bound the cost of all that follows (language detection reads it all)."""
    if request.comment.type not in (None, "PLAIN_TEXT"):
        raise PerspectiveError(
            400, "Currently, only 'PLAIN_TEXT' comments are supported", "INVALID_REQUEST"
        )
    try:
        pipeline.validate_comment(CommentIn(id="-", text=request.comment.text))
    except EmptyText:
        raise PerspectiveError(400, "Comment must be non-empty.", "COMMENT_EMPTY") from None
    except TextTooLong as exc:
        raise PerspectiveError(400, exc.message, "COMMENT_TOO_LONG") from None
    requested = list(request.requestedAttributes)
    if not requested:
        raise PerspectiveError(
            400, "requestedAttributes names no attribute", "NO_REQUESTED_ATTRIBUTES"
        )
    for name in requested:
        if name not in ATTRIBUTE_NAMES and name not in UNSCORED_PERSPECTIVE_ATTRIBUTES:
            raise PerspectiveError(400, f"Unknown attribute: {name}", "INVALID_REQUEST")
    # as Perspective does: the caller's languages if given, else the detected one
    detected = detect_language(request.comment.text or "")
    languages = request.languages or [detected.code]
    if not any(is_english(language) for language in languages):
        raise _unsupported(requested[0], languages, detected.code)
    for name in requested:
        if name in UNSCORED_PERSPECTIVE_ATTRIBUTES:
            raise _unsupported(name, languages, detected.code)


@router.post(
    "/comments:analyze", response_model=AnalyzeCommentResponse, response_model_exclude_none=True
)
def analyze_comment(
    request: AnalyzeCommentRequest,
    pipeline: PipelineDep,
    batcher: BatcherDep,
    session: SessionDep,
    caller: CallerDep,
) -> AnalyzeCommentResponse:
    """Score a comment for Perspective's attributes (those rebut's model has)."""
    _check(request, pipeline)
    text = request.comment.text
    # Perspective comments have no id; a stored result is keyed by the caller and the text's
    # hash, so two keys sending the same text ("Thanks!") each keep their own result.
    owner = f"key:{caller.name}"
    digest = hashlib.sha256(f"{owner}\n{text}".encode()).hexdigest()[:32]
    comment_id = f"perspective:{digest}"
    if not request.doNotStore:
        check_owner(session, comment_id=comment_id, owner=owner)  # before any model pass
    # A result that is not stored is read only for its attributes: skipping the claim passes
    # (check-worthiness of every sentence and clause) answers 1.5x the requests/s
    # (bench/perspective.py).
    result = batcher.score(CommentIn(id=comment_id, text=text), with_claims=not request.doNotStore)

    # Span scores: one per sentence with spanAnnotations (the pipeline scores each sentence
    # already), else one span over the whole text, as Perspective answers.
    spans = [(0, len(text), result.moderation.attributes)]
    if request.spanAnnotations and result.moderation.spans:
        spans = [(s.start, s.end, s.attributes) for s in result.moderation.spans]

    scores: dict[str, AttributeScores] = {}
    for name, parameters in request.requestedAttributes.items():
        attribute = ATTRIBUTE_NAMES[name]
        summary = result.moderation.attributes[attribute]
        if parameters.scoreThreshold is not None and summary < parameters.scoreThreshold:
            continue  # Perspective leaves out attributes under the caller's threshold
        scores[name] = AttributeScores(
            summaryScore=Score(value=summary),
            spanScores=[
                SpanScore(begin=begin, end=end, score=Score(value=values[attribute]))
                for begin, end, values in spans
            ],
        )

    if not request.doNotStore:
        save_result(session, result=result, text=text, owner=owner)
        session.commit()
    return AnalyzeCommentResponse(
        attributeScores=scores,
        languages=[SUPPORTED_LANGUAGE],
        detectedLanguages=[result.moderation.language],
        clientToken=request.clientToken,
    )


@discovery_router.get("/$discovery/rest", include_in_schema=False)
def discovery(request: Request) -> dict[str, Any]:
    """Google's discovery document for the analyze method (for googleapiclient)."""
    return discovery_document(str(request.base_url))
