"""`POST /v1alpha1/comments:analyze`: Perspective's AnalyzeComment, answered by rebut's model;
`POST /v1alpha1/comments:suggestscore`: Perspective's SuggestCommentScore, kept as moderator
feedback (serve/integrations/perspective/suggestions.py).

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
from serve.integrations.perspective.schema import (
    ATTRIBUTE_NAMES,
    SUPPORTED_LANGUAGE,
    UNSCORED_PERSPECTIVE_ATTRIBUTES,
    AnalyzeCommentRequest,
    AnalyzeCommentResponse,
    AttributeScores,
    PerspectiveError,
    Score,
    SpanScore,
    SuggestCommentScoreRequest,
    SuggestCommentScoreResponse,
    TextEntry,
    discovery_document,
    is_english,
)
from serve.integrations.perspective.suggestions import add_suggestion
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


def _check_text(comment: TextEntry, pipeline: PipelineDep) -> None:
    if comment.type not in (None, "PLAIN_TEXT"):
        raise PerspectiveError(
            400, "Currently, only 'PLAIN_TEXT' comments are supported", "INVALID_REQUEST"
        )
    try:
        pipeline.validate_comment(CommentIn(id="-", text=comment.text))
    except EmptyText:
        raise PerspectiveError(400, "Comment must be non-empty.", "COMMENT_EMPTY") from None
    except TextTooLong as exc:
        raise PerspectiveError(400, exc.message, "COMMENT_TOO_LONG") from None


def _check_name(name: str) -> None:
    if name not in ATTRIBUTE_NAMES and name not in UNSCORED_PERSPECTIVE_ATTRIBUTES:
        raise PerspectiveError(400, f"Unknown attribute: {name}", "INVALID_REQUEST")


def _comment_id(owner: str, text: str) -> str:
    """Perspective comments have no id; a stored result is keyed by the caller and the text's
    hash, so two keys sending the same text ("Thanks!") each keep their own result."""
    digest = hashlib.sha256(f"{owner}\n{text}".encode()).hexdigest()[:32]
    return f"perspective:{digest}"


def _check(request: AnalyzeCommentRequest, pipeline: PipelineDep) -> None:
    """Refuse what Perspective would refuse, with its error types: the text's own checks
    first, as they bound the cost of all that follows (language detection reads it all)."""
    _check_text(request.comment, pipeline)
    requested = list(request.requested_attributes)
    if not requested:
        raise PerspectiveError(
            400, "requestedAttributes names no attribute", "NO_REQUESTED_ATTRIBUTES"
        )
    for name in requested:
        _check_name(name)
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
    owner = f"key:{caller.name}"
    comment_id = _comment_id(owner, text)
    if not request.do_not_store:
        check_owner(session, comment_id=comment_id, owner=owner)  # before any model pass
    # A result that is not stored is read only for its attributes: skipping the claim passes
    # (check-worthiness of every sentence and clause) answers 1.5x the requests/s
    # (bench/perspective.py).
    result = batcher.score(
        CommentIn(id=comment_id, text=text), with_claims=not request.do_not_store
    )

    # Span scores: one per sentence with spanAnnotations (the pipeline scores each sentence
    # already), else one span over the whole text, as Perspective answers.
    spans = [(0, len(text), result.moderation.attributes)]
    if request.span_annotations and result.moderation.spans:
        spans = [(s.start, s.end, s.attributes) for s in result.moderation.spans]

    scores: dict[str, AttributeScores] = {}
    for name, parameters in request.requested_attributes.items():
        attribute = ATTRIBUTE_NAMES[name]
        summary = result.moderation.attributes[attribute]
        if parameters.score_threshold is not None and summary < parameters.score_threshold:
            continue  # Perspective leaves out attributes under the caller's threshold
        scores[name] = AttributeScores(
            summaryScore=Score(value=summary),
            spanScores=[
                SpanScore(begin=begin, end=end, score=Score(value=values[attribute]))
                for begin, end, values in spans
            ],
        )

    if not request.do_not_store:
        save_result(session, result=result, text=text, owner=owner)
        session.commit()
    return AnalyzeCommentResponse(
        attributeScores=scores,
        languages=[SUPPORTED_LANGUAGE],
        detectedLanguages=[result.moderation.language],
        clientToken=request.client_token,
    )


def _suggested_scores(request: SuggestCommentScoreRequest) -> dict[str, float]:
    """Each suggested attribute's summary score, refusing what names no known attribute or
    has no summary score (rebut keeps a suggestion's summary only)."""
    if not request.attribute_scores:
        raise PerspectiveError(400, "attributeScores names no attribute", "INVALID_REQUEST")
    scores: dict[str, float] = {}
    for name, suggested in request.attribute_scores.items():
        _check_name(name)
        if suggested.summary_score is None:
            raise PerspectiveError(
                400, f"attributeScores.{name} has no summaryScore", "INVALID_REQUEST"
            )
        scores[name] = suggested.summary_score.value
    return scores


@router.post(
    "/comments:suggestscore",
    response_model=SuggestCommentScoreResponse,
    response_model_exclude_none=True,
)
def suggest_comment_score(
    request: SuggestCommentScoreRequest,
    pipeline: PipelineDep,
    session: SessionDep,
    caller: CallerDep,
) -> SuggestCommentScoreResponse:
    """Keep a person's scores for a text as moderator feedback, exported by
    `rebut export-feedback` beside moderators' decisions."""
    _check_text(request.comment, pipeline)
    scores = _suggested_scores(request)
    text = request.comment.text
    owner = f"key:{caller.name}"
    # Any language is kept: a person's label is training data whatever rebut scores.
    add_suggestion(
        session,
        comment_id=_comment_id(owner, text),
        owner=owner,
        key_name=caller.name,
        text=text,
        scores=scores,
        languages=request.languages,
        community_id=request.community_id,
    )
    session.commit()
    return SuggestCommentScoreResponse(
        detectedLanguages=[detect_language(text).code],
        requestedLanguages=request.languages,
        clientToken=request.client_token,
    )


@discovery_router.get("/$discovery/rest", include_in_schema=False)
def discovery(request: Request) -> dict[str, Any]:
    """Google's discovery document for analyze and suggestscore (for googleapiclient)."""
    return discovery_document(str(request.base_url))
