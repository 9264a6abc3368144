"""Coral Talk's external moderation phase, with requests shaped and signed as Coral sends
them (EXTERNAL_MODERATION_PHASES.md and WEBHOOKS.md in coralproject/talk).

    .venv/bin/pytest tests/test_coral.py
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from conftest import AUTH_HEADERS, run_server
from test_api import assert_problem

PHASE = "/v1/integrations/coral/moderation"
NEW_SECRET, OLD_SECRET = "ssc_new_2f0e8c5d7a9b", "ssc_old_91ab44c3e0f1"


@pytest.fixture(scope="module")
def coral(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with run_server(
        tmp_path_factory.mktemp("coral"), REBUT_CORAL_SECRETS=f"{NEW_SECRET},{OLD_SECRET}"
    ) as (base_url, _process):
        yield base_url


def coral_request(body: str, *, story: str = "story-1", comment_id: str | None = None) -> bytes:
    comment: dict[str, Any] = {"body": body, "parentID": None}
    if comment_id is not None:
        comment["id"] = comment_id
    payload = {
        "action": "NEW",
        "comment": comment,
        "author": {"id": "baf4e943", "role": "COMMENTER"},
        "story": {"id": story, "url": f"https://news.example/{story}"},
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
    result = httpx.get(f"{coral}/v1/comments/cc-1", headers=AUTH_HEADERS).json()
    assert result["article_id"] == "story-budget" and result["stance"] is not None

    # An unknown story still gets moderation.
    body = coral_request("The council voted 9 to 0.", story="story-unknown", comment_id="cc-2")
    assert post(coral, body, coral_signature(body, NEW_SECRET)).status_code in (200, 204)
    result = httpx.get(f"{coral}/v1/comments/cc-2", headers=AUTH_HEADERS).json()
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
