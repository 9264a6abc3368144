"""The moderator's pages: the queue of comments waiting for a decision, each with why it was
flagged, the history of decided comments (Approved, Rejected), and an article with the
passages comments cite. Server-rendered (Jinja2, in serve/templates/) with one small script
(serve/static/moderate.js) that sends decisions to `POST /v1/comments/{id}/decision` and
undoes them with `DELETE` on the same URL: the API every other client uses.

Moderators log in with an API key; it is kept in an HttpOnly, SameSite=Strict cookie (see
serve/deps.py for how the API accepts it from the page's script). The login and logout forms
take only same-origin POSTs (`_same_origin`); serve/security_headers.py forbids framing.
"""

from __future__ import annotations

from datetime import UTC
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from model.result import Id
from serve.deps import PAGE_COOKIE, PAGE_HEADER, PipelineDep, SessionDep, find_caller, page_caller
from serve.queue_queries import count_decided, count_waiting, decided_page
from serve.review import (
    KIND_LABELS,
    PAGE_SIZE,
    STATUS_LABELS,
    ActionFilter,
    QueuePage,
    Sort,
    cited_passages,
    disputes,
    history_item,
    make_item,
    page_count,
    passage_anchor,
    queue_page,
)
from serve.store import decisions_for, get_article_row, newest_scores

PREFIX = "/moderate"
TEMPLATES_DIR = Path(__file__).parents[2] / "templates"
STATIC_DIR = Path(__file__).parents[2] / "static"

templates = Jinja2Templates(directory=TEMPLATES_DIR)
templates.env.globals.update(
    PREFIX=PREFIX,
    PAGE_HEADER=PAGE_HEADER,
    STATUS_LABELS=STATUS_LABELS,
    KIND_LABELS=KIND_LABELS,
    quote=quote,
)
# A stored time in UTC, as the pages show it: PostgreSQL answers in its session's time
# zone, SQLite without one (the store writes UTC).
templates.env.filters["utc"] = lambda at: (
    at.astimezone(UTC) if at.tzinfo is not None else at.replace(tzinfo=UTC)
)
router = APIRouter(prefix=PREFIX, include_in_schema=False)
View = Literal["waiting", "approved", "rejected"]
VIEW_DECISIONS = {"approved": "approve", "rejected": "reject"}


def _login_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"{PREFIX}/login?{urlencode({'next': target})}", status_code=303)


def _safe_next(target: str | None) -> str:
    # Only a path on this site: a crafted link must not send the moderator elsewhere.
    if target and target.startswith(PREFIX) and not target.startswith("//"):
        return target
    return PREFIX


_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(url: str) -> tuple[str, str, int | None] | None:
    """(scheme, host, port) of a URL, default ports filled in; None for "null" or junk."""
    try:
        parts = urlsplit(url)
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        return None
    if not parts.scheme or not parts.hostname:
        return None
    return parts.scheme, parts.hostname, port


def _same_origin(request: Request) -> bool:
    """Whether a form POST came from one of this site's own pages.

    A SameSite=Strict cookie does not stop login CSRF: a foreign page can still post its own
    key to the login form, and the moderator's decisions would then be recorded under it.
    The Origin header (or, where a browser leaves it out, the Referer) says which page sent
    the form, and a page cannot forge it; unlike a CSRF token, the check needs no state, no
    secret and no change to the forms. A POST with neither header is refused: every browser
    this page supports sends Origin with a POST, so only a non-browser client lacks both.
    """
    sent = request.headers.get("origin") or request.headers.get("referer")
    # scheme and Host as this request arrived (uvicorn applies X-Forwarded-Proto from a
    # trusted proxy), so a TLS-terminating proxy in front still compares https with https
    own = _origin(f"{request.url.scheme}://{request.url.netloc}")
    return sent is not None and _origin(sent) == own


def _cross_site(request: Request) -> Response:
    return templates.TemplateResponse(request, "refused.html", {"caller": None}, status_code=403)


def _blank(value: str | None) -> str | None:
    # The filter form sends "" for "any".
    return value or None


@router.get("", response_class=HTMLResponse)
def queue(
    request: Request,
    session: SessionDep,
    pipeline: PipelineDep,
    view: Annotated[View, Query()] = "waiting",
    article: Annotated[str | None, Query(max_length=255)] = None,
    # "": the form's value for "any" before "open" became the default; kept working for
    # links saved then, as the default
    action: Annotated[ActionFilter | Literal[""] | None, Query()] = None,
    hint: Annotated[str | None, Query(max_length=64)] = None,
    perspective: Annotated[bool, Query()] = False,
    sort: Annotated[Sort, Query()] = "newest",
    page: Annotated[int, Query(ge=1)] = 1,
) -> Response:
    """The queue's tabs: comments waiting for a moderator, newest or most severe first, and
    those approved or rejected, the newest decision first."""
    caller = page_caller(request)
    if caller is None:
        return _login_redirect(request)
    thresholds = pipeline.policy_.flag
    filters: dict[str, Any] = {
        "article": _blank(article),
        "action": _blank(action) or "open",
        "hint": _blank(hint),
        "perspective": perspective,
    }
    if view == "waiting":
        items = [make_item(row, thresholds) for row in newest_scores(session, undecided=True)]
        shown = queue_page(
            items,
            article_id=filters["article"],
            action=filters["action"],
            hint_type=filters["hint"],
            perspective=perspective,
            sort=sort,
            page=page,
        )
    else:
        shown = _history(session, VIEW_DECISIONS[view], perspective, thresholds, page)

    def page_url(number: int, **changes: Any) -> str:
        return _queue_url({**filters, "view": view, "sort": sort, "page": number, **changes})

    def tab_url(tab: View) -> str:
        # Only the Perspective filter carries over: the others are the Waiting tab's.
        return _queue_url({"view": tab, "perspective": perspective})

    return templates.TemplateResponse(
        request,
        "queue.html",
        {
            "view": view,
            "tab_url": tab_url,
            "counts": _tab_counts(session, perspective),
            "queue": shown,
            "filters": filters,
            "sort": sort,
            "page_url": page_url,
            "page_size": PAGE_SIZE,
            "caller": caller,
            "thresholds": thresholds,
        },
    )


def _queue_url(query: dict[str, Any]) -> str:
    """A link to the queue with these parameters, defaults left out."""
    defaults = {"view": "waiting", "action": "open", "sort": "newest", "page": 1}
    kept = {
        name: 1 if value is True else value
        for name, value in query.items()
        if value and defaults.get(name) != value
    }
    return f"{PREFIX}?{urlencode(kept)}" if kept else PREFIX


def _history(
    session: Session, decision: str, perspective: bool, thresholds: dict[str, float], page: int
) -> QueuePage:
    """One page of the Approved or Rejected tab."""
    total = count_decided(session, decision=decision, perspective=perspective)
    pages = page_count(total)
    page = min(page, pages)
    rows = decided_page(
        session,
        decision=decision,
        perspective=perspective,
        offset=(page - 1) * PAGE_SIZE,
        limit=PAGE_SIZE,
    )
    items = [history_item(feedback, score, thresholds) for feedback, score in rows]
    return QueuePage(items, total, page, pages, [], [])


def _tab_counts(session: Session, perspective: bool) -> dict[str, int]:
    """Each tab's count: every comment it holds, whatever the Waiting tab's other filters
    (its heading counts what they leave)."""
    counts = {
        view: count_decided(session, decision=decision, perspective=perspective)
        for view, decision in VIEW_DECISIONS.items()
    }
    counts["waiting"] = count_waiting(session, perspective=perspective)
    return counts


@router.get("/articles/{article_id:path}", response_class=HTMLResponse)
def article_view(
    article_id: Id, request: Request, session: SessionDep, pipeline: PipelineDep
) -> Response:
    """An article with the passages comments cite, and the comments that dispute it."""
    caller = page_caller(request)
    if caller is None:
        return _login_redirect(request)
    row = get_article_row(session, article_id=article_id)
    if row is None:
        return templates.TemplateResponse(
            request, "missing.html", {"article_id": article_id, "caller": caller}, status_code=404
        )
    scores = newest_scores(session, article_id=article_id)
    decided = decisions_for(session, score_ids=[s.id for s in scores])
    items = [make_item(s, pipeline.policy_.flag, decided.get(s.id)) for s in scores]
    return templates.TemplateResponse(
        request,
        "article.html",
        {
            "article": row,
            "passages": cited_passages(row.body, items),
            "disputing": [i for i in items if disputes(i)],
            "anchor": passage_anchor,
            "caller": caller,
            "thresholds": pipeline.policy_.flag,
        },
    )


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None) -> Response:
    return templates.TemplateResponse(
        request, "login.html", {"next": _safe_next(next), "error": None, "caller": None}
    )


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    """Check the key and keep it in the moderator's cookie."""
    if not _same_origin(request):
        return _cross_site(request)
    # A urlencoded form, parsed here: python-multipart is not worth a dependency for it.
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    key = form.get("key", [""])[0].strip()
    target = _safe_next(form.get("next", [None])[0])
    if not key or find_caller(request, key) is None:
        context = {"next": target, "error": "Unknown or revoked API key.", "caller": None}
        return templates.TemplateResponse(request, "login.html", context, status_code=401)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        PAGE_COOKIE,
        key,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        max_age=12 * 3600,  # a working day: then the key is asked for again
    )
    return response


@router.post("/logout")
def logout(request: Request) -> Response:
    # Cross-site, a logout is a nuisance rather than a theft, but it is refused all the same.
    if not _same_origin(request):
        return _cross_site(request)
    response = RedirectResponse(f"{PREFIX}/login", status_code=303)
    response.delete_cookie(PAGE_COOKIE)
    return response
