"""The moderator's pages, end to end: the real server (real models, real SQLite) in a
subprocess, driven by Debian's headless Chromium through Playwright. Screenshots of the queue
and the article view go to test-artifacts/screenshots/ (REBUT_SCREENSHOT_DIR overrides).

    .venv/bin/pytest tests/test_pages.py
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import API_KEY, AUTH_HEADERS, ROOT, SEED_CLAIM, run_server

from model.result import Claim
from serve.review import abusive_spans, segment_comment

CHROMIUM = Path(os.environ.get("REBUT_TEST_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = Path(os.environ.get("REBUT_SCREENSHOT_DIR", ROOT / "test-artifacts" / "screenshots"))

# Besides the seed: a civil comment to approve, an abusive one, and one that contradicts the
# article's date (the article: the attack began on Sunday 19 May).
OTHERS = {
    "page-civil": "Thank you for this report, it was clear and useful.",
    "page-abuse": "You are a pathetic idiot and everyone who wrote this garbage should shut up.",
    "page-date": "The assault on Qusayr began in January and the town fell within an hour.",
}


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory, seed: tuple[dict[str, Any], dict[str, Any]]
) -> Iterator[tuple[str, Path, dict[str, Any]]]:
    """A server whose queue holds the seed comment and OTHERS on the seed article; yields
    its URL, its SQLite file and the seed's result."""
    workdir = tmp_path_factory.mktemp("pages")
    article, comment = seed
    with run_server(workdir) as (base_url, _process):
        put = httpx.put(
            f"{base_url}/v1/articles/{article['id']}",
            json={"title": article["title"], "body": article["body"]},
            headers=AUTH_HEADERS,
            timeout=120,
        )
        assert put.status_code in (200, 201), put.text
        results = {}
        for comment_id, text in [*OTHERS.items(), (comment["id"], comment["text"])]:
            body = {"comment": {"id": comment_id, "text": text, "article_id": article["id"]}}
            response = httpx.post(
                f"{base_url}/v1/comments:score", json=body, headers=AUTH_HEADERS, timeout=120
            )
            assert response.status_code == 200, response.text
            results[comment_id] = response.json()
        yield base_url, workdir / "rebut.db", results[comment["id"]]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"no Chromium at {CHROMIUM} in CI (.ci/run installs Debian's)")
        pytest.skip(f"no Chromium at {CHROMIUM}: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # Debian's build, never a downloaded one; --no-sandbox because CI runs as root.
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        yield chromium
        chromium.close()


def decisions(db: Path) -> dict[str, tuple[str, list[dict[str, Any]], str]]:
    """What the store recorded: comment id -> (decision, hint verdicts, key name)."""
    with sqlite3.connect(db) as connection:
        rows = connection.execute("SELECT comment_id, decision, hints_json, key_name FROM feedback")
        return {c: (d, json.loads(h), k) for c, d, h, k in rows}


def test_queue_shows_why_and_records_keyboard_decisions(
    site: tuple[str, Path, dict[str, Any]],
    browser: Any,
    seed: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    base_url, db, seed_result = site
    article, comment = seed
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.set_default_timeout(15_000)

    # No cookie yet: the queue sends the moderator to the login form, which returns there.
    page.goto(f"{base_url}/moderate")
    assert "/moderate/login" in page.url
    page.get_by_label("API key").fill("not-a-key-anyone-has")
    page.keyboard.press("Enter")
    page.get_by_role("alert").wait_for()
    page.get_by_label("API key").fill(API_KEY)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base_url}/moderate")
    # By default the queue leaves out what the model would approve (the civil comment) and
    # says so; "all" shows every comment.
    shown = int(page.locator("#count").inner_text())
    hidden = page.locator("#hidden-approve")
    assert shown + int(hidden.inner_text().split()[0]) == len(OTHERS) + 1
    page.goto(f"{base_url}/moderate?action=all")
    assert page.locator("#count").inner_text() == str(len(OTHERS) + 1)

    # The leaflet claim is highlighted with the status the service gave it (a flag either
    # way: not in the article or contradicted), labelled in words too, and focusing it
    # shows the article passage that decided it.
    seed_item = page.locator(f'article[data-comment="{comment["id"]}"]')
    leaflet = next(c for c in seed_result["claims"] if SEED_CLAIM in c["text"])
    assert leaflet["status"] in ("not_in_article", "contradicted")
    claim = seed_item.locator(f".claim.st-{leaflet['status']}", has_text=SEED_CLAIM)
    assert claim.count() == 1
    label = {"not_in_article": "[not in article]", "contradicted": "[contradicted]"}
    assert label[leaflet["status"]] in claim.inner_text()
    tip = claim.locator(".tip")
    assert not tip.is_visible()
    claim.focus()
    tip.wait_for(state="visible")
    assert leaflet["evidence"][0]["text"] in tip.inner_text()
    assert tip.get_attribute("role") == "tooltip"
    assert claim.get_attribute("aria-describedby") == tip.get_attribute("id")
    # The scores are one line until opened; then every attribute has its bar.
    seed_item.locator("details.scores summary").click()
    seed_item.locator(".attrs tr").first.wait_for()
    claim.focus()
    assert seed_item.locator(".attrs tr").count() >= 7  # every attribute as a bar
    page.screenshot(path=str(SCREENSHOTS / "queue.png"), full_page=True)

    # Reject the seed with the keyboard, its first hint marked useful: Esc hides the
    # evidence and keeps the comment current, 1 marks hint 1, r rejects.
    page.keyboard.press("Escape")
    assert not tip.is_visible()
    page.keyboard.press("1")
    useful = seed_item.locator('li[data-hint="0"] button[data-verdict="useful"]')
    assert useful.get_attribute("aria-pressed") == "true"
    page.keyboard.press("r")
    seed_item.wait_for(state="detached")
    assert "Rejected" in page.get_by_role("status").inner_text()

    # Approve the civil comment: move to it with j/k, then a.
    civil = page.locator('article[data-comment="page-civil"]')
    for _ in range(len(OTHERS) + 1):
        if civil.evaluate("node => node === document.activeElement"):
            break
        page.keyboard.press("j")
    else:
        pytest.fail("j never reached the civil comment")
    page.keyboard.press("a")
    civil.wait_for(state="detached")
    assert page.locator("#count").inner_text() == str(len(OTHERS) - 1)

    recorded = decisions(db)
    assert recorded[comment["id"]] == ("reject", [{"hint": 0, "verdict": "useful"}], "settings")
    assert recorded["page-civil"] == ("approve", [], "settings")
    # Decided comments leave the queue for good.
    page.reload()
    assert page.locator(f'article[data-comment="{comment["id"]}"]').count() == 0
    assert page.locator('article[data-comment="page-civil"]').count() == 0
    assert page.locator("article[data-comment]").count() == len(OTHERS) - 1

    # The article view marks the passage the leaflet claim cites and lists the seed among
    # the comments that dispute the article.
    page.goto(f"{base_url}/moderate/articles/{article['id']}")
    evidence = leaflet["evidence"][0]
    cited = page.locator(f"#p-{evidence['start']}")
    assert evidence["text"].startswith(cited.inner_text().split(" [")[0][:40])
    disputing = page.locator("section.disputing")
    assert comment["id"] in disputing.inner_text()
    page.screenshot(path=str(SCREENSHOTS / "article.png"), full_page=True)
    page.close()


def test_queue_filters_and_sorts(site: tuple[str, Path, dict[str, Any]], browser: Any) -> None:
    """The filters and the severity order agree with the stored results, whatever the model
    says about each comment."""
    base_url, _db, _seed_result = site
    context = browser.new_context()
    context.add_cookies([{"name": "rebut_key", "value": API_KEY, "url": base_url}])
    page = context.new_page()
    page.goto(f"{base_url}/moderate?action=all")
    waiting = page.locator("article[data-comment]").evaluate_all(
        "nodes => nodes.map(n => n.dataset.comment)"
    )
    results = {
        c: httpx.get(f"{base_url}/v1/comments/{c}", headers=AUTH_HEADERS).json() for c in waiting
    }

    def shown(query: str) -> list[str]:
        page.goto(f"{base_url}/moderate?{query}")
        return page.locator("article[data-comment]").evaluate_all(
            "nodes => nodes.map(n => n.dataset.comment)"
        )

    abuse = {c for c, r in results.items() if any(h["type"] == "abuse" for h in r["hints"])}
    assert set(shown("action=all&hint=abuse")) == abuse
    for action in ("approve", "review", "reject"):
        expected = {c for c, r in results.items() if r["moderation"]["action"] == action}
        assert set(shown(f"action={action}")) == expected
    rank = {"reject": 2, "review": 1, "approve": 0}

    def severity(c: str) -> tuple[int, float]:
        moderation = results[c]["moderation"]
        return rank[moderation["action"]], max(moderation["attributes"].values())

    severe = shown("action=all&sort=severe")
    assert [severity(c) for c in severe] == sorted(map(severity, waiting), reverse=True)
    assert shown("article=no-such-article") == []
    context.close()


# Text whose contrast with its background is under WCAG AA (4.5:1); the background is the
# first ancestor's that is not transparent.
LOW_CONTRAST_JS = """() => {
  const rgb = (c) => c.match(/[\\d.]+/g).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (node) => {
    for (; node; node = node.parentElement) {
      const c = rgb(getComputedStyle(node).backgroundColor);
      if (c.length < 4 || c[3] > 0) return c;
    }
    return [255, 255, 255];
  };
  const low = [];
  for (const node of document.querySelectorAll("body *")) {
    const own = [...node.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own || !node.checkVisibility()) continue;
    const a = lum(rgb(getComputedStyle(node).color)), b = lum(background(node));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < 4.5) low.push(`${node.tagName}.${node.className}: ${ratio.toFixed(2)}`);
  }
  return low;
}"""


def test_pages_text_meets_contrast_aa(
    site: tuple[str, Path, dict[str, Any]],
    browser: Any,
    seed: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    base_url, _db, _seed_result = site
    context = browser.new_context()
    context.add_cookies([{"name": "rebut_key", "value": API_KEY, "url": base_url}])
    page = context.new_page()
    paths = [
        "/moderate?action=all",
        "/moderate?view=approved",
        "/moderate?view=rejected",
        f"/moderate/articles/{seed[0]['id']}",
        "/moderate/login",
    ]
    for path in paths:
        page.goto(base_url + path)
        # the collapsed scores too: their bars and labels are text to read
        page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
        page.locator(".claim").first.focus() if page.locator(".claim").count() else None
        assert page.evaluate(LOW_CONTRAST_JS) == [], path
    context.close()


def test_page_cookie_needs_the_page_header(site: tuple[str, Path, dict[str, Any]]) -> None:
    """The API takes the page's cookie only with x-rebut-page, which a cross-site form cannot
    send: without it the cookie alone is no key."""
    base_url, _db, _seed_result = site
    cookies = {"rebut_key": API_KEY}
    url = f"{base_url}/v1/comments/page-abuse/decision"
    alone = httpx.post(url, json={"decision": "reject"}, cookies=cookies)
    assert alone.status_code == 401, alone.text
    assert httpx.get(f"{base_url}/moderate", follow_redirects=False).status_code == 303
    assert httpx.get(f"{base_url}/moderate", cookies=cookies).status_code == 200


def test_segments_mark_claims_and_abusive_spans() -> None:
    text = "You idiot. The vote was 9 to 0. Fine."
    claims = [Claim(text="The vote was 9 to 0.", start=11, end=31, check_worthiness=0.9)]
    raw = {"moderation": {"flagged": True, "spans": [{"start": 0, "end": 10, "flagged": True}]}}
    segments = segment_comment(text, claims, abusive_spans(raw, {}))
    assert [(s.claim, [(p.text, p.abusive) for p in s.pieces]) for s in segments] == [
        (None, [("You idiot.", True)]),
        (None, [(" ", False)]),
        (0, [("The vote was 9 to 0.", False)]),
        (None, [(" Fine.", False)]),
    ]
    # Without per-span moderation, nothing is marked abusive; a claim whose offsets do not
    # slice its text is left unmarked rather than drawn in the wrong place.
    wrong = [Claim(text="elsewhere", start=0, end=9, check_worthiness=0.9)]
    assert [s.claim for s in segment_comment(text, wrong, abusive_spans({}, {}))] == [None]
