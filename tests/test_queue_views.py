"""The queue moderators work from, end to end: the Waiting / Approved / Rejected tabs, Undo,
the default filters, compact cards, which sentences get the abuse marker, and what each
cited article passage does for a claim. The real server (real models) in a subprocess,
driven by Debian's Chromium through Playwright; the undo route over HTTP on both stores.
Screenshots of each view go to test-artifacts/screenshots/ (REBUT_SCREENSHOT_DIR overrides).

    .venv/bin/pytest tests/test_queue_views.py
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import API_KEY, AUTH_HEADERS, ROOT, run_server
from test_pages import SCREENSHOTS, browser  # noqa: F401 (browser: a fixture)

# On the seed article (the attack began on Sunday; Qusayr fell to the rebels in February
# 2012), besides the seed comment, which is not flagged but has a sentence whose threat
# score is over the flag threshold: a one-line civil comment and a supported claim (both
# approve), and an abusive one (flagged).
COMMENTS = {
    "qv-civil": "Thank you for this report, it was clear and useful.",
    "qv-supported": "Qusayr fell to rebel brigades in February 2012.",
    "qv-abuse": "You are a pathetic idiot and everyone who wrote this garbage should shut up.",
}
# A Perspective API call: stored as a result, but no reader's comment. Abusive, so that
# only the Perspective filter, not the suggested-action one, keeps it out of the queue.
PERSPECTIVE_TEXT = "You are a worthless idiot and nobody wants your garbage opinions here."
PERSPECTIVE_ID = (
    "perspective:" + hashlib.sha256(f"key:settings\n{PERSPECTIVE_TEXT}".encode()).hexdigest()[:32]
)
FLAG = json.loads((ROOT / "model/artifacts/pipeline.json").read_text())["thresholds"]["moderation"][
    "flag"
]
# A one-line comment's card measured 389 px at 1280 px wide with every attribute's bar
# beside the text, and 98 px with them collapsed to one line.
ONE_LINE_CARD_MAX_PX = 160


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory, seed: tuple[dict[str, Any], dict[str, Any]]
) -> Iterator[tuple[str, dict[str, dict[str, Any]]]]:
    """A server holding the seed article, the seed comment, COMMENTS and one Perspective
    call; yields its URL and every stored result by comment id."""
    article, comment = seed
    with run_server(tmp_path_factory.mktemp("queue-views")) as (base_url, _process):
        put = httpx.put(
            f"{base_url}/v1/articles/{article['id']}",
            json={"title": article["title"], "body": article["body"]},
            headers=AUTH_HEADERS,
            timeout=120,
        )
        assert put.status_code in (200, 201), put.text
        results = {}
        for comment_id, text in [*COMMENTS.items(), (comment["id"], comment["text"])]:
            body = {"comment": {"id": comment_id, "text": text, "article_id": article["id"]}}
            response = httpx.post(
                f"{base_url}/v1/comments:score", json=body, headers=AUTH_HEADERS, timeout=120
            )
            assert response.status_code == 200, response.text
            results[comment_id] = response.json()
        analyze = {"comment": {"text": PERSPECTIVE_TEXT}, "requestedAttributes": {"TOXICITY": {}}}
        response = httpx.post(
            f"{base_url}/v1alpha1/comments:analyze", json=analyze, headers=AUTH_HEADERS, timeout=120
        )
        assert response.status_code == 200, response.text
        results[PERSPECTIVE_ID] = httpx.get(
            f"{base_url}/v1/comments/{PERSPECTIVE_ID}", headers=AUTH_HEADERS
        ).json()
        yield base_url, results


@pytest.fixture
def page(site: tuple[str, dict[str, Any]], browser: Any) -> Iterator[Any]:  # noqa: F811
    """A logged-in page (the key in the moderator's cookie, as the login form leaves it)."""
    base_url, _results = site
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    context.add_cookies([{"name": "rebut_key", "value": API_KEY, "url": base_url}])
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    yield opened
    context.close()


def shown(page: Any) -> list[str]:
    return page.locator("article[data-comment]").evaluate_all(
        "nodes => nodes.map(n => n.dataset.comment)"
    )


def shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def test_waiting_hides_approve_suggestions_and_perspective_calls(
    site: tuple[str, dict[str, Any]], page: Any
) -> None:
    base_url, results = site
    action = {c: r["moderation"]["action"] for c, r in results.items()}
    approve = {c for c, a in action.items() if a == "approve"}
    assert {"qv-civil", "qv-supported"} <= approve  # the premise: some are hidden
    assert action[PERSPECTIVE_ID] != "approve"  # hidden as a Perspective call, not by action

    page.goto(f"{base_url}/moderate")
    assert page.locator('#tab-waiting[aria-current="page"]').count() == 1
    default = set(shown(page))
    assert default == {c for c in results if c not in approve and c != PERSPECTIVE_ID}
    assert page.locator("#count").inner_text() == str(len(default))
    assert page.locator("#hidden-approve").inner_text().startswith(f"{len(approve)} ")
    assert page.locator("#hidden-perspective").inner_text().startswith("1 ")
    shot(page, "queue-waiting.png")

    # The note's link shows every suggested action; still no Perspective call.
    page.get_by_role("link", name="Show all suggested actions").click()
    page.wait_for_url("**action=all**")
    assert set(shown(page)) == set(results) - {PERSPECTIVE_ID}
    assert page.locator("#hidden-approve").count() == 0
    shot(page, "queue-waiting-all.png")

    # The filter form's checkbox brings the Perspective call in.
    page.get_by_label("Perspective API calls").check()
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**perspective=1**")
    assert set(shown(page)) == set(results)
    shot(page, "queue-waiting-perspective.png")


def test_one_line_comment_card_is_compact(site: tuple[str, dict[str, Any]], page: Any) -> None:
    base_url, results = site
    assert results["qv-civil"]["moderation"]["action"] == "approve"
    assert not results["qv-civil"]["hints"]
    page.goto(f"{base_url}/moderate?action=approve")
    card = page.locator('article[data-comment="qv-civil"]')
    text = card.locator("p.text")
    line = float(text.evaluate("n => parseFloat(getComputedStyle(n).lineHeight)"))
    assert text.bounding_box()["height"] < 1.5 * line  # the comment is one line
    height = card.bounding_box()["height"]
    assert height < ONE_LINE_CARD_MAX_PX, height
    # The bars are kept, collapsed behind one line that names the top attributes.
    summary = card.locator("details.scores summary")
    assert "toxicity" in summary.inner_text()
    assert not card.locator(".attrs").is_visible()
    summary.focus()
    page.keyboard.press("Enter")
    card.locator(".attrs").wait_for()
    assert card.locator(".attrs tr").count() >= 7
    card.screenshot(path=str(SCREENSHOTS / "queue-card-open.png"))


def test_abuse_marker_only_on_sentences_that_drive_a_flag(
    site: tuple[str, dict[str, Any]], page: Any, seed: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    base_url, results = site
    seed_id = seed[1]["id"]
    calm = results[seed_id]["moderation"]
    # The premise: the seed is not flagged, yet one sentence scores over a flag threshold.
    over = [
        s
        for s in calm["spans"]
        if any(p >= FLAG[name] for name, p in s["attributes"].items() if name in FLAG)
    ]
    assert not calm["flagged"] and over, calm
    abusive = results["qv-abuse"]["moderation"]
    assert abusive["flagged"]
    assert calm["action"] == abusive["action"] == "review"

    page.goto(f"{base_url}/moderate?action=review")
    assert page.locator(f'article[data-comment="{seed_id}"] mark.abusive').count() == 0
    marked = page.locator('article[data-comment="qv-abuse"] mark.abusive')
    assert marked.count() >= 1
    driving = [
        s["text"]
        for s in abusive["spans"]
        if any(p >= FLAG[name] for name, p in s["attributes"].items() if name in FLAG)
    ]
    # each mark's own text (its screen-reader prefix is a child element) is in one of them
    texts = marked.evaluate_all(
        "nodes => nodes.map(n => [...n.childNodes].filter(c => c.nodeType === 3)"
        ".map(c => c.textContent).join(''))"
    )
    assert all(any(t in sentence for sentence in driving) for t in texts), texts
    shot(page, "queue-abuse-marks.png")


def test_article_view_tells_supporting_contradicting_and_closest_passages(
    site: tuple[str, dict[str, Any]], page: Any, seed: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    base_url, results = site
    expected: dict[int, set[str]] = {}  # evidence start -> kinds it must show
    statuses = set()
    for comment_id, result in results.items():
        if comment_id == PERSPECTIVE_ID:
            continue
        for claim in result["claims"]:
            statuses.add(claim["status"])
            for rank, evidence in enumerate(claim["evidence"]):
                kind = {"supported": "supports", "contradicted": "contradicts"}.get(
                    claim["status"], "closest"
                )
                expected.setdefault(evidence["start"], set()).add(kind if rank == 0 else "closest")
    assert {"supported", "contradicted", "not_in_article"} <= statuses  # the premise

    page.goto(f"{base_url}/moderate/articles/{seed[0]['id']}")
    for start, kinds in expected.items():
        passage = page.locator(f"#p-{start}")
        assert kinds <= set(passage.get_attribute("data-kinds").split()), start
    body = page.locator(".article-body")
    for kind, label in [
        ("supports", "supports"),
        ("contradicts", "contradicts"),
        ("closest", "closest only for"),
    ]:
        marks = body.locator(f"mark.cited-{kind}")
        assert marks.count() >= 1, kind
        assert f"[{label} " in marks.first.inner_text()
    assert "cited by" not in body.inner_text()
    shot(page, "article-passage-kinds.png")


def test_decisions_move_to_their_tab_and_undo_returns_them(
    site: tuple[str, dict[str, Any]], page: Any, seed: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    base_url, _results = site
    seed_id = seed[1]["id"]
    before = datetime.now(UTC) - timedelta(seconds=5)
    page.goto(f"{base_url}/moderate?action=all")
    waiting = int(page.locator('.tab-count[data-tab="waiting"]').inner_text())

    # Approve the seed with its button, then the civil comment with the keyboard (newer);
    # reject the abusive one.
    page.locator(f'article[data-comment="{seed_id}"] button[data-decision="approve"]').click()
    page.locator(f'article[data-comment="{seed_id}"]').wait_for(state="detached")
    civil = page.locator('article[data-comment="qv-civil"]')
    civil.focus()
    page.keyboard.press("a")
    civil.wait_for(state="detached")
    page.locator('article[data-comment="qv-abuse"] button[data-decision="reject"]').click()
    page.locator('article[data-comment="qv-abuse"]').wait_for(state="detached")
    assert page.locator('.tab-count[data-tab="waiting"]').inner_text() == str(waiting - 3)
    assert page.locator('.tab-count[data-tab="approved"]').inner_text() == "2"
    after = datetime.now(UTC) + timedelta(seconds=5)

    # Approved: newest decision first, each with who decided and when.
    page.locator("#tab-approved").click()
    page.wait_for_url("**view=approved**")
    assert page.locator('#tab-approved[aria-current="page"]').count() == 1
    assert shown(page) == ["qv-civil", seed_id]
    for card in page.locator("article[data-comment]").all():
        assert card.locator(".decision-line").inner_text().startswith("Approved by settings")
        at = datetime.fromisoformat(card.locator("time.decided-at").get_attribute("datetime"))
        assert before <= at <= after
    shot(page, "queue-approved.png")

    page.locator("#tab-rejected").click()
    page.wait_for_url("**view=rejected**")
    assert shown(page) == ["qv-abuse"]
    assert "Rejected by settings" in page.locator(".decision-line").inner_text()
    shot(page, "queue-rejected.png")

    # Undo with the button (Rejected) and with the keyboard (Approved): back in Waiting.
    page.get_by_role("button", name="Undo").click()
    page.locator('article[data-comment="qv-abuse"]').wait_for(state="detached")
    assert "back in Waiting" in page.get_by_role("status").inner_text()
    assert page.locator("#count").inner_text() == "0"
    page.goto(f"{base_url}/moderate?view=approved")
    page.keyboard.press("u")  # the first card is current
    page.locator('article[data-comment="qv-civil"]').wait_for(state="detached")
    assert shown(page) == [seed_id]
    page.reload()
    assert shown(page) == [seed_id]
    page.goto(f"{base_url}/moderate?action=all")
    assert {"qv-civil", "qv-abuse"} <= set(shown(page))
    assert seed_id not in shown(page)
    assert page.locator('.tab-count[data-tab="waiting"]').inner_text() == str(waiting - 1)


def test_undo_route(tmp_path: Path, database_url: str) -> None:
    """DELETE /v1/comments/{id}/decision removes the newest decision (204), then there is
    none (404); a stale decision id is refused (409); the comment waits again."""
    with run_server(tmp_path, REBUT_DATABASE_URL=database_url) as (base_url, _process):
        body = {"comment": {"id": "undo-me", "text": "A fair and careful report, thanks."}}
        scored = httpx.post(
            f"{base_url}/v1/comments:score", json=body, headers=AUTH_HEADERS, timeout=120
        )
        assert scored.status_code == 200, scored.text
        url = f"{base_url}/v1/comments/undo-me/decision"
        cookies = {"rebut_key": API_KEY}

        def decide() -> int:
            decided = httpx.post(url, json={"decision": "reject"}, headers=AUTH_HEADERS)
            assert decided.status_code == 201, decided.text
            return decided.json()["id"]

        def in_view(view: str) -> bool:
            html = httpx.get(f"{base_url}/moderate?view={view}&action=all", cookies=cookies)
            assert html.status_code == 200, html.text
            return 'data-comment="undo-me"' in html.text

        decide()
        undone = httpx.delete(url, headers=AUTH_HEADERS)
        assert undone.status_code == 204, undone.text
        again = httpx.delete(url, headers=AUTH_HEADERS)
        assert again.status_code == 404 and again.json()["code"] == "no_decision"
        unknown = httpx.delete(f"{base_url}/v1/comments/no-such/decision", headers=AUTH_HEADERS)
        assert unknown.status_code == 404

        decision_id = decide()
        assert in_view("rejected") and not in_view("waiting")
        assert httpx.delete(url).status_code == 401  # a key is needed
        stale = httpx.delete(url, params={"id": decision_id + 1}, headers=AUTH_HEADERS)
        assert stale.status_code == 409 and stale.json()["code"] == "decision_changed"
        undone = httpx.delete(url, params={"id": decision_id}, headers=AUTH_HEADERS)
        assert undone.status_code == 204, undone.text
        assert in_view("waiting") and not in_view("rejected")
