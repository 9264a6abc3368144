"""Coral Talk's external moderation phase, with requests shaped and signed as Coral sends
them (EXTERNAL_MODERATION_PHASES.md and WEBHOOKS.md in coralproject/talk), and the story
pages it fetches from a news page served on loopback.

    .venv/bin/pytest tests/test_coral.py
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from conftest import AUTH_HEADERS, check_result, run_server
from pydantic import ValidationError
from test_api import assert_problem

from serve.config import Settings
from serve.integrations.coral.story_fetch import MAX_PAGE_BYTES, host_allowed

PHASE = "/v1/integrations/coral/moderation"
NEW_SECRET, OLD_SECRET = "ssc_new_2f0e8c5d7a9b", "ssc_old_91ab44c3e0f1"
# The test server fetches story pages from 127.0.0.1 only, within this many seconds.
FETCH_TIMEOUT_S = 3.0


@pytest.fixture(scope="module")
def coral(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with run_server(
        tmp_path_factory.mktemp("coral"),
        REBUT_CORAL_SECRETS=f"{NEW_SECRET},{OLD_SECRET}",
        REBUT_CORAL_FETCH_STORIES="true",
        REBUT_CORAL_STORY_HOSTS="127.0.0.1",
        REBUT_CORAL_FETCH_TIMEOUT_S=str(FETCH_TIMEOUT_S),
    ) as (base_url, _process):
        yield base_url


def coral_request(
    body: str,
    *,
    story: str = "story-1",
    comment_id: str | None = None,
    url: str | None = None,
) -> bytes:
    comment: dict[str, Any] = {"body": body, "parentID": None}
    if comment_id is not None:
        comment["id"] = comment_id
    payload = {
        "action": "NEW",
        "comment": comment,
        "author": {"id": "baf4e943", "role": "COMMENTER"},
        "story": {"id": story, "url": url or f"https://news.example/{story}"},
        "site": {"id": "a4bede88"},
        "tenantID": "19ba5794",
        "tenantDomain": "news.example",
    }
    return json.dumps(payload, indent=2).encode()  # Coral pretty-prints its bodies


def coral_signature(body: bytes, *secrets: str) -> str:
    return ",".join(
        "sha256=" + hmac.new(s.encode(), body, hashlib.sha256).hexdigest() for s in secrets
    )


def post(base_url: str, body: bytes, signature: str | None) -> httpx.Response:
    headers = {"Content-Type": "application/json", **AUTH_HEADERS}
    if signature is not None:
        headers["X-Coral-Signature"] = signature
    return httpx.post(base_url + PHASE, content=body, headers=headers, timeout=60)


def test_toxic_comment_is_flagged(coral: str) -> None:
    body = coral_request("You are a worthless idiot and I hope you rot.")
    response = post(coral, body, coral_signature(body, NEW_SECRET))
    assert response.status_code == 200, response.text
    assert response.json()["actions"] == [
        {"actionType": "FLAG", "reason": "COMMENT_DETECTED_TOXIC"}
    ]


def test_spam_is_flagged_as_spam(coral: str) -> None:
    body = coral_request("CLICK HERE to earn $5000 a week from home!!! http://bit.ly/xx")
    response = post(coral, body, coral_signature(body, NEW_SECRET))
    assert response.status_code == 200, response.text
    reasons = {action["reason"] for action in response.json()["actions"]}
    assert "COMMENT_DETECTED_SPAM" in reasons


def test_civil_comment_gets_204_without_body(coral: str) -> None:
    body = coral_request("Thank you for the careful reporting.")
    response = post(coral, body, coral_signature(body, NEW_SECRET))
    assert response.status_code == 204 and response.content == b""


def test_story_is_matched_to_the_stored_article(coral: str) -> None:
    article = {"title": "Budget", "body": "The council approved the budget by 7 votes to 2."}
    put = httpx.put(f"{coral}/v1/articles/story-budget", json=article, headers=AUTH_HEADERS)
    assert put.status_code == 200, put.text
    body = coral_request("The council voted 9 to 0.", story="story-budget", comment_id="cc-1")
    assert post(coral, body, coral_signature(body, NEW_SECRET)).status_code in (200, 204)
    result = httpx.get(f"{coral}/v1/comments/coral:cc-1", headers=AUTH_HEADERS).json()
    assert result["article_id"] == "story-budget" and result["stance"] is not None

    # An unknown story on a host not listed still gets moderation.
    body = coral_request("The council voted 9 to 0.", story="story-unknown", comment_id="cc-2")
    assert post(coral, body, coral_signature(body, NEW_SECRET)).status_code in (200, 204)
    result = httpx.get(f"{coral}/v1/comments/coral:cc-2", headers=AUTH_HEADERS).json()
    assert result["article_id"] is None and result["stance"] is None


def test_rotation_any_listed_secret_in_any_position(coral: str) -> None:
    body = coral_request("Thank you.")
    assert post(coral, body, coral_signature(body, OLD_SECRET)).status_code == 204
    # During Coral's own rotation it sends one signature per live secret.
    both = coral_signature(body, "ssc_unknown_to_rebut", NEW_SECRET)
    assert post(coral, body, both).status_code == 204


@pytest.mark.parametrize(
    ("signature", "code"),
    [
        (None, "missing_signature"),
        ("sha256=00", "invalid_signature"),
        ("sha1=abc", "invalid_signature"),
    ],
)
def test_bad_signatures_are_401(coral: str, signature: str | None, code: str) -> None:
    assert_problem(post(coral, coral_request("Hi."), signature), 401, code)


def test_tampered_body_is_401(coral: str) -> None:
    body = coral_request("Thank you.")
    signature = coral_signature(body, NEW_SECRET)
    assert_problem(post(coral, body.replace(b"Thank", b"Spank"), signature), 401)


def test_signed_garbage_is_a_clear_4xx(coral: str) -> None:
    for body, status in ((b"{not json", 400), (b'{"action": "DELETE"}', 422)):
        assert_problem(post(coral, body, coral_signature(body, NEW_SECRET)), status)
    empty = coral_request("   ")
    assert_problem(post(coral, empty, coral_signature(empty, NEW_SECRET)), 400, "empty_text")


def test_without_secrets_the_phase_is_off(server: str) -> None:
    body = coral_request("Hi.")
    response = post(server, body, coral_signature(body, NEW_SECRET))
    assert_problem(response, 503, "coral_not_configured")


# -- story pages fetched for unknown stories ----------------------------------------------

# A news page as a CMS renders it: the article between a site menu and a footer, which must
# not end up in the stored article.
NAV_TEXT = "Subscribe today for unlimited access to the Riverton Courier archive"
FOOTER_TEXT = "Copyright Riverton Courier Media Group. Advertise with us. Privacy settings"
ARTICLE_TITLE = "Council approves Riverton budget after long debate"
ARTICLE_PARAGRAPHS = (
    "The Riverton city council approved the 2027 budget on Tuesday night by seven votes to "
    "two, after a debate that ran past midnight.",
    "The budget raises spending on road repairs by four million dollars and keeps property "
    "taxes at last year's rate, the finance director, Maria Okafor, told the meeting.",
    "Two councillors voted against it, saying the plan cut funding for the public library "
    "by twelve percent.",
    "The mayor, Daniel Reyes, said he would sign the budget on Friday and that the first road "
    "works would begin in the spring.",
)
ARTICLE_HTML = "\n  ".join(f"<p>{p}</p>" for p in ARTICLE_PARAGRAPHS)
NEWS_PAGE = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{ARTICLE_TITLE} | Riverton Courier</title></head>
<body>
<header><nav><ul>
  <li><a href="/">Home</a></li><li><a href="/local">Local news</a></li>
  <li><a href="/sport">Sport</a></li><li><a href="/subscribe">{NAV_TEXT}</a></li>
</ul></nav></header>
<main><article>
  <h1>{ARTICLE_TITLE}</h1>
  {ARTICLE_HTML}
</article></main>
<footer><p>{FOOTER_TEXT}</p><p><a href="/contact">Contact the newsroom</a></p></footer>
</body></html>
""".encode()
# Against the page: it says seven to two, and says nothing of a resignation.
CONTRADICTING_COMMENT = (
    "The council passed the budget unanimously, nine votes to zero. "
    "The finance director resigned in protest the next morning."
)
TRICKLE_S = 30.0  # how long /trickle sends its page for, at most


class _PageHandler(BaseHTTPRequestHandler):
    server: _PageServer

    def do_GET(self) -> None:
        self.server.seen.append(self.path)
        if self.path.startswith("/news/"):
            self._send(200, "text/html; charset=utf-8", NEWS_PAGE)
        elif self.path == "/feed.json":
            self._send(200, "application/json", b'{"title": "not a page"}')
        elif self.path == "/moved":
            # to a loopback name that is not listed: the redirect must not be followed
            port = self.server.server_address[1]
            self.send_response(302)
            self.send_header("Location", f"http://localhost:{port}/news/after-redirect")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/huge":
            # Over rebut's cap, and without Content-Length: only counting the bytes stops it.
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            chunk = b"<p>" + b"filler text " * 5000 + b"</p>\n"
            try:
                for _ in range(MAX_PAGE_BYTES // len(chunk) + 2):
                    self.wfile.write(chunk)
            except OSError:  # rebut hung up at its cap
                return
        elif self.path == "/trickle":
            # Headers at once, then a byte every 0.2 s: no single read waits long, so only a
            # deadline on the whole fetch stops it.
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(NEWS_PAGE)))
            self.end_headers()
            started = time.monotonic()
            for byte in NEWS_PAGE:
                if time.monotonic() - started > TRICKLE_S or self.server.stopping.wait(0.2):
                    return
                try:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                except OSError:  # rebut hung up, as it should
                    return
        else:
            self._send(404, "text/html", b"<html><body><h1>Page not found</h1></body></html>")

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # pytest's output is no place for an access log


class _PageServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _PageHandler)
        self.seen: list[str] = []  # request paths, in order
        self.stopping = threading.Event()


@pytest.fixture(scope="module")
def pages() -> Iterator[_PageServer]:
    """A news site on 127.0.0.1 (the host the coral server may fetch from)."""
    server = _PageServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stopping.set()
        server.shutdown()
        server.server_close()


def page_url(pages: _PageServer, path: str, host: str = "127.0.0.1") -> str:
    return f"http://{host}:{pages.server_address[1]}{path}"


def send(coral: str, text: str, *, story: str, comment_id: str, url: str) -> dict[str, Any]:
    """Post a signed comment on `story` (at `url`) and return its stored result."""
    body = coral_request(text, story=story, comment_id=comment_id, url=url)
    response = post(coral, body, coral_signature(body, NEW_SECRET))
    assert response.status_code in (200, 204), response.text
    result = httpx.get(f"{coral}/v1/comments/coral:{comment_id}", headers=AUTH_HEADERS)
    assert result.status_code == 200, result.text
    return result.json()


def stored_article(coral: str, story: str) -> httpx.Response:
    return httpx.get(f"{coral}/v1/articles/{story}", headers=AUTH_HEADERS)


def test_unknown_story_page_is_fetched_stored_and_grounds_claims(
    coral: str, pages: _PageServer
) -> None:
    url = page_url(pages, "/news/riverton-budget.html")
    assert stored_article(coral, "story-riverton").status_code == 404
    result = send(
        coral, CONTRADICTING_COMMENT, story="story-riverton", comment_id="cc-fetch-1", url=url
    )
    assert pages.seen.count("/news/riverton-budget.html") == 1

    # The page's article, without its menu and footer, is stored under the story id.
    response = stored_article(coral, "story-riverton")
    assert response.status_code == 200, response.text
    article = response.json()
    assert ARTICLE_TITLE in article["title"]
    for paragraph in ARTICLE_PARAGRAPHS:
        assert paragraph in article["body"]
    assert NAV_TEXT not in article["body"] and FOOTER_TEXT not in article["body"]
    assert "Home" not in article["body"] and "Contact the newsroom" not in article["body"]

    # The comment was scored against it: claims with evidence from the article's body.
    check_result(result, CONTRADICTING_COMMENT, article["body"])
    assert result["article_id"] == "story-riverton" and result["stance"] is not None
    assert result["claims"], result
    # Evidence may be a sentence or two adjacent ones (model/article_index.py), the headline
    # included; in the page they are one run of text, which the menu and footer are not.
    article_text = " ".join((ARTICLE_TITLE, *ARTICLE_PARAGRAPHS))
    for claim in result["claims"]:
        # neither the vote nor a resignation is in the article as the comment tells them
        assert claim["status"] in ("contradicted", "not_in_article"), claim
        assert claim["evidence"], claim
        for evidence in claim["evidence"]:
            assert " ".join(evidence["text"].split()) in article_text, evidence

    # The story's next comment finds the article stored: the page is not fetched again.
    again = send(
        coral, "Seven to two is close.", story="story-riverton", comment_id="cc-fetch-2", url=url
    )
    assert again["article_id"] == "story-riverton"
    assert pages.seen.count("/news/riverton-budget.html") == 1


def test_host_not_listed_is_not_fetched(coral: str, pages: _PageServer) -> None:
    # localhost is loopback too, but only 127.0.0.1 is listed.
    url = page_url(pages, "/news/unlisted.html", host="localhost")
    result = send(
        coral, CONTRADICTING_COMMENT, story="story-unlisted", comment_id="cc-unlisted", url=url
    )
    assert "/news/unlisted.html" not in pages.seen
    assert result["article_id"] is None and result["stance"] is None
    assert all(claim["evidence"] == [] for claim in result["claims"])
    assert stored_article(coral, "story-unlisted").status_code == 404


@pytest.mark.parametrize(
    ("path", "story"),
    [
        ("/news-gone", "story-404"),  # the handler's 404
        ("/feed.json", "story-json"),  # not HTML
        ("/moved", "story-moved"),  # redirects to a host not listed
        ("/huge", "story-huge"),  # over the size cap
    ],
)
def test_page_that_fails_falls_back_to_moderation(
    coral: str, pages: _PageServer, path: str, story: str
) -> None:
    url = page_url(pages, path)
    result = send(coral, CONTRADICTING_COMMENT, story=story, comment_id=f"cc-{story}", url=url)
    assert pages.seen.count(path) == 1
    assert "/news/after-redirect" not in pages.seen
    assert result["article_id"] is None and result["stance"] is None
    assert result["moderation"]["attributes"], result
    assert stored_article(coral, story).status_code == 404

    # A URL that failed is not tried again for each of the story's comments.
    send(coral, "Another comment.", story=story, comment_id=f"cc-{story}-2", url=url)
    assert pages.seen.count(path) == 1


def test_slow_page_is_given_up_within_the_fetch_timeout(coral: str, pages: _PageServer) -> None:
    url = page_url(pages, "/trickle")
    body = coral_request(CONTRADICTING_COMMENT, story="story-slow", comment_id="cc-slow", url=url)
    started = time.monotonic()
    response = post(coral, body, coral_signature(body, NEW_SECRET))
    elapsed = time.monotonic() - started
    assert response.status_code in (200, 204), response.text
    assert "/trickle" in pages.seen
    # The page would take TRICKLE_S; rebut gave up after FETCH_TIMEOUT_S and scored the
    # comment without it (the margin is for scoring on a busy machine).
    assert elapsed < TRICKLE_S / 2, elapsed
    result = httpx.get(f"{coral}/v1/comments/coral:cc-slow", headers=AUTH_HEADERS).json()
    assert result["article_id"] is None
    assert stored_article(coral, "story-slow").status_code == 404


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("http://127.0.0.1:8080/news/a.html", True),
        ("https://127.0.0.1/news/a.html", True),
        ("HTTP://127.0.0.1./news", True),  # case and a trailing dot name the same host
        ("http://localhost/news", False),  # loopback, but not listed
        ("http://[::1]/news", False),
        ("http://127.0.0.1.example/news", False),
        ("http://127.0.0.1@internal.example/", False),  # user info is not the host
        ("ftp://127.0.0.1/news", False),
        ("file:///etc/passwd", False),
    ],
)
def test_host_allow_list(url: str, allowed: bool) -> None:
    assert host_allowed(httpx.URL(url), ["127.0.0.1"]) is allowed


def test_fetching_is_off_unless_asked_and_needs_hosts() -> None:
    assert Settings(_env_file=None).coral_fetch_stories is False
    with pytest.raises(ValidationError, match="REBUT_CORAL_STORY_HOSTS"):
        Settings(_env_file=None, coral_fetch_stories=True)
    settings = Settings(
        _env_file=None, coral_fetch_stories=True, coral_story_hosts="News.Example., [::1]"
    )
    assert settings.coral_story_hosts == ["news.example", "::1"]
    for bad in ("https://news.example/", "news.example:8080"):
        with pytest.raises(ValidationError, match="without scheme, port or path"):
            Settings(_env_file=None, coral_story_hosts=bad)
