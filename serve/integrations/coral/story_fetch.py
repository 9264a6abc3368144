"""The article of a Coral story that rebut has none for: its page, fetched and extracted.

Coral sends each story's URL with every comment. When no article is stored under the story's
id, and REBUT_CORAL_FETCH_STORIES is on, the page is fetched from a host listed in
REBUT_CORAL_STORY_HOSTS, its title and main text are extracted with trafilatura (which drops
navigation, footers and the like), and the caller stores it under the story's id, so the
story's next comments find it stored.

Whatever goes wrong gives None, never an exception: the comment is then moderated without
an article, as before. Log lines name the story, host and reason, never the comment.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Collection

import httpx
import trafilatura

from model.limits import MAX_ARTICLE_CHARS
from model.result import ArticleIn

log = logging.getLogger("rebut.story_fetch")

# Larger pages are not read to the end: a news page is well under this, and a page that is
# not is more likely a mistake (or an attack) than a story.
MAX_PAGE_BYTES = 2 * 1024 * 1024
# CMSs redirect http to https and add trailing slashes; each hop is checked against the hosts.
MAX_REDIRECTS = 3
HTML_TYPES = ("text/html", "application/xhtml+xml")
# A URL that failed is not tried again for this long, so a story whose page is down does not
# add a fetch timeout to each of its comments.
RETRY_AFTER_S = 300.0
_MAX_REMEMBERED_FAILURES = 1000
_failed: dict[str, float] = {}  # URL -> time.monotonic() of its failure

USER_AGENT = "rebut-story-fetch (comment moderation; reads the story a comment is under)"


class StoryFetchError(Exception):
    """Why a page gave no article; `reason` is short and goes into the log line."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def host_allowed(url: httpx.URL, hosts: Collection[str]) -> bool:
    """http(s) to a host named exactly in `hosts` (which REBUT_CORAL_STORY_HOSTS lower-cases).

    The URL is the httpx.URL that is then requested, so the host checked is the host
    connected to (a second URL parser could read a crafted URL differently)."""
    return url.scheme in ("http", "https") and url.host.rstrip(".") in hosts


async def fetch_page(url: str, *, hosts: Collection[str], max_bytes: int = MAX_PAGE_BYTES) -> bytes:
    """The HTML at `url` (after at most MAX_REDIRECTS redirects), or StoryFetchError."""
    target = httpx.URL(url)
    # trust_env=False: no proxy or .netrc credentials from the environment go to a page.
    async with httpx.AsyncClient(
        follow_redirects=False, trust_env=False, headers={"User-Agent": USER_AGENT}
    ) as client:
        for hop in range(MAX_REDIRECTS + 1):
            if not host_allowed(target, hosts):
                raise StoryFetchError("redirect_to_host_not_listed" if hop else "host_not_listed")
            async with client.stream("GET", target) as response:
                if response.is_redirect:
                    target = response.url.join(response.headers["location"])
                    continue
                if response.status_code != 200:
                    raise StoryFetchError(f"http_{response.status_code}")
                media_type = response.headers.get("content-type", "").split(";")[0].strip()
                if media_type.lower() not in HTML_TYPES:
                    raise StoryFetchError("not_html")
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > max_bytes:
                    raise StoryFetchError("too_large")
                page = bytearray()
                # Counted as read, since Content-Length may be missing or wrong.
                async for chunk in response.aiter_bytes():
                    page += chunk
                    if len(page) > max_bytes:
                        raise StoryFetchError("too_large")
                return bytes(page)
    raise StoryFetchError("too_many_redirects")


def extract_article(story_id: str, url: str, page: bytes) -> ArticleIn:
    """The title and main text of `page`, as the article stored under `story_id`."""
    output = trafilatura.extract(
        page,
        url=url,
        output_format="json",
        with_metadata=True,  # for the title
        include_comments=False,  # readers' comments are not the article
        include_tables=True,
        favor_precision=True,  # leave out a doubtful block rather than ground on boilerplate
    )
    if not output:
        raise StoryFetchError("no_main_text")
    extracted = json.loads(output)
    body = (extracted.get("text") or "").strip()
    if not body:
        raise StoryFetchError("no_main_text")
    if len(body) > MAX_ARTICLE_CHARS:
        raise StoryFetchError("too_long")
    return ArticleIn(id=story_id, title=extracted.get("title") or None, body=body)


async def fetch_story(
    story_id: str, url: str, *, hosts: Collection[str], timeout_s: float
) -> ArticleIn | None:
    """The story's article from its page, or None (logged) when there is none to be had.

    `timeout_s` bounds fetch and extraction together, which httpx's timeouts (each one per
    connect, read or write) do not: a page that trickles in stays within it too."""
    try:
        target = httpx.URL(url)
    except httpx.InvalidURL:
        log.info("story %s not fetched: its URL does not parse", story_id)
        return None
    host = target.host
    if not host_allowed(target, hosts):
        # Not fetched at all: the usual case for a story on a site that is not listed.
        log.info("story %s not fetched: host %r not in REBUT_CORAL_STORY_HOSTS", story_id, host)
        return None
    started = time.monotonic()
    failed_at = _failed.get(url)
    if failed_at is not None and started - failed_at < RETRY_AFTER_S:
        log.info("story %s not fetched: its page failed under %.0f s ago", story_id, RETRY_AFTER_S)
        return None
    try:
        async with asyncio.timeout(timeout_s):
            page = await fetch_page(url, hosts=hosts)
            # Parsing is CPU work: in a thread it does not hold up other requests. asyncio's
            # to_thread, not Starlette's run_in_threadpool, whose await is not cut short by
            # a timeout; here the thread finishes on its own and its result is dropped.
            article = await asyncio.to_thread(extract_article, story_id, url, page)
    except StoryFetchError as exc:
        reason = exc.reason
    except TimeoutError:
        reason = "timeout"
    except httpx.HTTPError as exc:
        reason = type(exc).__name__
    except Exception as exc:  # a parser bug must not cost the comment its moderation
        reason = f"error {type(exc).__name__}"
    else:
        elapsed = time.monotonic() - started
        log.info("story %s fetched from %s in %.2f s", story_id, host, elapsed)
        return article
    _remember_failure(url)
    log.warning("story %s not fetched from %s: %s", story_id, host, reason)
    return None


def _remember_failure(url: str) -> None:
    if len(_failed) >= _MAX_REMEMBERED_FAILURES:
        _failed.clear()  # rare; forgetting only means a page is tried again sooner
    _failed[url] = time.monotonic()
