"""The moderator pages against other sites: the login and logout forms refuse cross-site
POSTs, and no page can be framed. The real server over HTTP, on both stores.

    .venv/bin/pytest tests/test_page_security.py
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import API_KEY, AUTH_HEADERS, run_server

EVIL = "https://evil.example"
ARTICLE_ID = "security-article"
LOGIN_FORM = {"key": API_KEY, "next": "/moderate"}


@pytest.fixture
def site(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A server on `database_url` that stores one article; yields its base URL."""
    with run_server(tmp_path, REBUT_DATABASE_URL=database_url) as (base_url, _process):
        put = httpx.put(
            f"{base_url}/v1/articles/{ARTICLE_ID}",
            json={"title": "A town council vote", "body": "The council voted 9 to 0 on Monday."},
            headers=AUTH_HEADERS,
            timeout=120,
        )
        assert put.status_code in (200, 201), put.text
        yield base_url


def _post(
    base_url: str,
    path: str,
    headers: dict[str, str],
    data: dict[str, str] | None = None,
    cookies: dict[str, str] | None = None,
) -> httpx.Response:
    """A form POST as a browser would send it from the page that `headers` name."""
    url = f"{base_url}{path}"
    return httpx.post(url, headers=headers, data=data, cookies=cookies, timeout=30)


def _shows_queue(base_url: str, cookies: dict[str, str]) -> bool:
    page = httpx.get(f"{base_url}/moderate", cookies=cookies, timeout=30)
    return page.status_code == 200 and 'id="count"' in page.text and 'name="key"' not in page.text


def test_login_refuses_cross_site_posts(site: str) -> None:
    """A foreign page cannot log the moderator in under its own key: whatever the Origin or
    Referer says, unless it is this server, the answer is 403 and no cookie."""
    base_url = site
    foreign = {
        "foreign Origin": {"Origin": EVIL},
        "foreign Referer, no Origin": {"Referer": f"{EVIL}/trap.html"},
        "opaque Origin": {"Origin": "null", "Referer": f"{base_url}/moderate/login"},
        "same host, other scheme": {"Origin": base_url.replace("http://", "https://")},
        "same host, other port": {"Origin": base_url.rsplit(":", 1)[0] + ":1"},
        "neither header": {},
    }
    for why, headers in foreign.items():
        refused = _post(base_url, "/moderate/login", headers, data=LOGIN_FORM)
        assert refused.status_code == 403, (why, refused.status_code, refused.text)
        assert "set-cookie" not in refused.headers, why
        assert refused.headers["content-type"].startswith("text/html"), why

    # The login form's own page: Origin, or only a Referer, of this server.
    for headers in ({"Origin": base_url}, {"Referer": f"{base_url}/moderate/login?next=x"}):
        login = _post(base_url, "/moderate/login", headers, data=LOGIN_FORM)
        assert login.status_code == 303, (headers, login.text)
        assert login.headers["location"] == "/moderate"
        assert login.cookies.get("rebut_key") == API_KEY
        assert _shows_queue(base_url, {"rebut_key": API_KEY})


def test_logout_refuses_cross_site_posts(site: str) -> None:
    """A foreign page cannot log the moderator out: 403, the cookie left alone and still
    good; this site's own Log out button still clears it."""
    base_url = site
    cookies = {"rebut_key": API_KEY}
    for headers in ({"Origin": EVIL}, {"Referer": f"{EVIL}/trap.html"}, {}):
        refused = _post(base_url, "/moderate/logout", headers, cookies=cookies)
        assert refused.status_code == 403, (headers, refused.text)
        assert "set-cookie" not in refused.headers, headers
        assert _shows_queue(base_url, cookies)

    logout = _post(base_url, "/moderate/logout", {"Origin": base_url}, cookies=cookies)
    assert logout.status_code == 303, logout.text
    cleared = logout.headers["set-cookie"]
    assert cleared.startswith('rebut_key=""') and "Max-Age=0" in cleared, cleared


def test_pages_cannot_be_framed(site: str) -> None:
    """Every page, logged in or not, forbids framing and sniffing and keeps its URL from
    other sites; the pages' own script and stylesheet still come from this server."""
    base_url = site
    cookies = {"rebut_key": API_KEY}
    responses = {
        "login": httpx.get(f"{base_url}/moderate/login", timeout=30),
        "queue": httpx.get(f"{base_url}/moderate", cookies=cookies, timeout=30),
        "article": httpx.get(f"{base_url}/moderate/articles/{ARTICLE_ID}", cookies=cookies),
        "script": httpx.get(f"{base_url}/moderate/static/moderate.js"),
        "refused": _post(base_url, "/moderate/login", {"Origin": EVIL}, data=LOGIN_FORM),
    }
    assert responses["queue"].status_code == 200 and 'id="count"' in responses["queue"].text
    assert "A town council vote" in responses["article"].text
    for page, response in responses.items():
        headers = response.headers
        assert response.status_code in (200, 403), (page, response.status_code)
        assert headers.get("x-frame-options") == "DENY", page
        csp = [d.strip() for d in headers.get("content-security-policy", "").split(";")]
        assert "frame-ancestors 'none'" in csp, (page, csp)
        assert headers.get("x-content-type-options") == "nosniff", page
        assert headers.get("referrer-policy") == "same-origin", page
