"""Errors as RFC 9457 problem details (`application/problem+json`).

Every error the API returns has the same body: `type`, `title`, `status`, `detail`, plus
`code`, a stable machine-readable name (`empty_text`, `text_too_long`, `unknown_article`,
`invalid_json`, ...) that clients branch on instead of parsing `detail`.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException

from model.errors import InputError
from serve.integrations.perspective.schema import PerspectiveError, google_error

PROBLEM_JSON = "application/problem+json"
PERSPECTIVE_PREFIX = "/v1alpha1/"

INPUT_ERROR_STATUS: dict[str, int] = {
    "empty_text": 400,
    "text_too_long": 413,
    "unknown_article": 404,
    "unknown_comment": 404,
    "comment_owned_elsewhere": 409,
    "article_mismatch": 422,
}


class Problem(BaseModel):
    """An error body. `type` is about:blank, so `title` is the HTTP status phrase."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    code: str


# For `responses=` on routes, so /docs shows the error bodies beside the result.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "content": {PROBLEM_JSON: {}}}
    for status in (400, 401, 404, 408, 409, 413, 422, 429)
}


class ApiProblem(Exception):
    """An error a route or dependency raises to answer with a problem body of its own code
    (`invalid_api_key`, `rate_limited`, `invalid_signature`, ...)."""

    def __init__(
        self, status: int, code: str, detail: str, *, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.headers = status, code, detail, headers


Model = TypeVar("Model", bound=BaseModel)


def parse_body(body: bytes, model: type[Model]) -> Model:
    """A raw request body (kept raw where a signature covers its exact bytes) as `model`:
    400 problem for bytes that are not JSON, 422 as FastAPI words it for a bad shape."""
    try:
        payload = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ApiProblem(400, "invalid_json", f"Body is not valid JSON: {exc}") from None
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        raise RequestValidationError(errors) from None


def problem_response(
    status: int,
    code: str,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    body = Problem(title=HTTPStatus(status).phrase, status=status, detail=detail, code=code)
    content = body.model_dump() | jsonable_encoder(extensions)
    return JSONResponse(content, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def error_response(
    path: str,
    status: int,
    code: str,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    """A problem body, or on the Perspective-compatible paths Google's error body, which
    Perspective clients parse. Takes the path, not a Request, for ASGI middleware."""
    if path.startswith(PERSPECTIVE_PREFIX):
        error_type = "INVALID_REQUEST" if status in (400, 413, 422) else None
        return google_error(status, detail, error_type, headers=headers)
    return problem_response(status, code, detail, headers=headers, **extensions)


def _respond(
    request: Request,
    status: int,
    code: str,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    return error_response(request.url.path, status, code, detail, headers=headers, **extensions)


def _code_for_status(status: int) -> str:
    """`not_found`, `method_not_allowed`, ... for errors raised outside rebut's code."""
    try:
        return HTTPStatus(status).name.lower()
    except ValueError:
        return "http_error"


async def _input_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, InputError)
    return _respond(request, INPUT_ERROR_STATUS.get(exc.code, 400), exc.code, exc.message)


async def _api_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiProblem)
    return _respond(request, exc.status, exc.code, exc.detail, headers=exc.headers)


async def _perspective_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PerspectiveError)
    return google_error(exc.status, exc.message, exc.error_type, **exc.detail)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    bad_json = next((e for e in errors if e.get("type") == "json_invalid"), None)
    if bad_json is not None:
        reason = (bad_json.get("ctx") or {}).get("error", "JSON decode error")
        position = bad_json["loc"][-1]
        detail = f"Body is not valid JSON: {reason} at character {position}"
        return _respond(request, 400, "invalid_json", detail)
    # `input` is left out: it can be the whole oversized or unreadable value sent.
    fields = [{"loc": e["loc"], "msg": e["msg"], "type": e["type"]} for e in errors]
    detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in fields)
    if request.url.path.startswith(PERSPECTIVE_PREFIX):
        return google_error(400, f"Invalid request: {detail}", "INVALID_REQUEST")
    return problem_response(422, "invalid_request", detail, errors=fields)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    return _respond(
        request, exc.status_code, _code_for_status(exc.status_code), detail, headers=exc.headers
    )


async def _server_error(request: Request, _exc: Exception) -> JSONResponse:
    # The traceback goes to the server log (uvicorn logs it); the client learns nothing more.
    return _respond(request, 500, "internal_error", "The server failed to handle this request")


def add_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(InputError, _input_error)
    app.add_exception_handler(ApiProblem, _api_problem)
    app.add_exception_handler(PerspectiveError, _perspective_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _server_error)
