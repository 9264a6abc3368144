"""The Perspective-compatible endpoint, driven by Google's own API client (the one
Perspective's Python sample uses), pointed at rebut by its discovery URL alone.

    .venv/bin/pytest tests/test_perspective.py
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import API_KEY, AUTH_HEADERS, run_server

discovery = pytest.importorskip("googleapiclient.discovery")
errors = pytest.importorskip("googleapiclient.errors")

ANALYZE = "/v1alpha1/comments:analyze"
ALL = ["TOXICITY", "SEVERE_TOXICITY", "INSULT", "THREAT", "IDENTITY_ATTACK", "PROFANITY", "SPAM"]


@pytest.fixture(scope="module")
def perspective_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    workdir = tmp_path_factory.mktemp("perspective")
    with run_server(workdir) as (base_url, _process):
        yield base_url, workdir / "rebut.db"


@pytest.fixture(scope="module")
def client(perspective_server: tuple[str, Path]) -> Any:
    """Perspective's documented Python client, built from rebut's discovery document."""
    base_url, _db = perspective_server
    return discovery.build(
        "commentanalyzer",
        "v1alpha1",
        developerKey=API_KEY,
        discoveryServiceUrl=f"{base_url}/$discovery/rest?version={{apiVersion}}",
        static_discovery=False,
        cache_discovery=False,
    )


def analyze(client: Any, **body: Any) -> dict[str, Any]:
    return client.comments().analyze(body=body).execute()


def google_error(client: Any, **body: Any) -> tuple[int, dict[str, Any]]:
    with pytest.raises(errors.HttpError) as caught:
        analyze(client, **body)
    return caught.value.resp.status, json.loads(caught.value.content)["error"]


def test_every_attribute_with_span_scores(client: Any, perspective_server: tuple[str, Path]):
    base_url, _db = perspective_server
    text = "The bridge reopened on Monday. You are a worthless idiot and I hope you rot."
    response = analyze(
        client,
        comment={"text": text},
        requestedAttributes={name: {} for name in ALL},
        spanAnnotations=True,
        languages=["en"],
        clientToken="token-7",
    )
    assert set(response["attributeScores"]) == set(ALL)
    assert response["languages"] == ["en"] and response["detectedLanguages"] == ["en"]
    assert response["clientToken"] == "token-7"
    for name, scores in response["attributeScores"].items():
        summary = scores["summaryScore"]
        assert summary["type"] == "PROBABILITY" and 0 <= summary["value"] <= 1, name
        spans = scores["spanScores"]
        assert [text[s["begin"] : s["end"]] for s in spans] == [
            "The bridge reopened on Monday.",
            "You are a worthless idiot and I hope you rot.",
        ]
        assert all(0 <= s["score"]["value"] <= 1 for s in spans)
    calm, abusive = response["attributeScores"]["INSULT"]["spanScores"]
    assert abusive["score"]["value"] > calm["score"]["value"]

    # The same numbers as rebut's own API gives for this text.
    own = httpx.post(
        base_url + "/v1/comments:score",
        json={"comment": {"id": "p", "text": text}},
        headers=AUTH_HEADERS,
        timeout=60,
    ).json()
    assert response["attributeScores"]["TOXICITY"]["summaryScore"]["value"] == pytest.approx(
        own["moderation"]["attributes"]["toxicity"]
    )


def test_without_span_annotations_one_span_covers_the_text(client: Any) -> None:
    text = "Rates rose. Again."
    response = analyze(client, comment={"text": text}, requestedAttributes={"TOXICITY": {}})
    [span] = response["attributeScores"]["TOXICITY"]["spanScores"]
    assert (span["begin"], span["end"]) == (0, len(text))


def test_score_threshold_leaves_low_scores_out(client: Any) -> None:
    response = analyze(
        client,
        comment={"text": "Thank you for the careful reporting."},
        requestedAttributes={"TOXICITY": {"scoreThreshold": 0.99}, "SPAM": {}},
    )
    assert set(response["attributeScores"]) == {"SPAM"}


def test_an_attribute_rebut_has_not_is_perspectives_language_error(client: Any) -> None:
    status, error = google_error(
        client, comment={"text": "Hello there."}, requestedAttributes={"SEXUALLY_EXPLICIT": {}}
    )
    assert status == 400 and error["status"] == "INVALID_ARGUMENT"
    [detail] = error["details"]
    assert detail["errorType"] == "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE"
    assert detail["languageNotSupportedByAttributeError"]["attribute"] == "SEXUALLY_EXPLICIT"


def test_non_english_is_language_not_supported(client: Any) -> None:
    status, error = google_error(
        client,
        comment={"text": "Das ist eine Frechheit."},
        requestedAttributes={"TOXICITY": {}},
        languages=["de"],
    )
    assert status == 400
    detail = error["details"][0]
    assert detail["errorType"] == "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE"
    assert detail["languageNotSupportedByAttributeError"]["requestedLanguages"] == ["de"]
    ok = analyze(
        client, comment={"text": "Fine."}, requestedAttributes={"TOXICITY": {}}, languages=["en-GB"]
    )
    assert "TOXICITY" in ok["attributeScores"]


def test_a_text_in_another_language_said_to_be_english_scores_unknown(client: Any) -> None:
    # the caller's `languages` is taken at its word, as Perspective takes it; the detector
    # still reports what the text is, and rebut's English models give no confident score
    text = "Das ist eine unglaubliche Frechheit, und die Stadt hat wieder nichts getan."
    response = analyze(
        client, comment={"text": text}, requestedAttributes={"TOXICITY": {}}, languages=["en"]
    )
    assert response["detectedLanguages"] == ["de"]
    assert response["attributeScores"]["TOXICITY"]["summaryScore"]["value"] == 0.5


@pytest.mark.parametrize(
    ("body", "error_type"),
    [
        ({"comment": {"text": "  "}, "requestedAttributes": {"TOXICITY": {}}}, "COMMENT_EMPTY"),
        ({"comment": {"text": "a" * 20_001}, "requestedAttributes": {"TOXICITY": {}}}, None),
        ({"comment": {"text": "Hi."}, "requestedAttributes": {}}, "NO_REQUESTED_ATTRIBUTES"),
        ({"comment": {"text": "Hi."}, "requestedAttributes": {"NOPE": {}}}, "INVALID_REQUEST"),
        (
            {"comment": {"text": "<b>Hi</b>", "type": "HTML"}, "requestedAttributes": {"SPAM": {}}},
            "INVALID_REQUEST",
        ),
        ({"requestedAttributes": {"TOXICITY": {}}}, "INVALID_REQUEST"),
    ],
)
def test_bad_requests_get_perspectives_error_types(
    client: Any, body: dict[str, Any], error_type: str | None
) -> None:
    status, error = google_error(client, **body)
    assert status == 400 and error["message"]
    assert error["details"][0]["errorType"] == (error_type or "COMMENT_TOO_LONG")


def test_wrong_key_is_a_google_shaped_401(perspective_server: tuple[str, Path]) -> None:
    base_url, _db = perspective_server
    body = {"comment": {"text": "Hi."}, "requestedAttributes": {"TOXICITY": {}}}
    response = httpx.post(f"{base_url}{ANALYZE}?key=wrong", json=body)
    assert response.status_code == 401
    assert response.json()["error"]["status"] == "UNAUTHENTICATED"


def test_do_not_store_gives_the_same_scores(client: Any) -> None:
    # without storing, rebut skips the claim passes: the attributes must not move
    text = "The vote was 9 to 0, you clowns. The line costs 80 million pounds and fares double."
    body = {
        "comment": {"text": text},
        "requestedAttributes": {name: {} for name in ALL},
        "spanAnnotations": True,
    }
    stored = analyze(client, **body)
    not_stored = analyze(client, **body, doNotStore=True)
    assert not_stored == stored
    assert len(stored["attributeScores"]["INSULT"]["spanScores"]) == 2


def test_do_not_store_leaves_no_trace_in_the_database(
    client: Any, perspective_server: tuple[str, Path]
) -> None:
    _base_url, db = perspective_server

    def dump() -> str:
        with sqlite3.connect(db) as connection:
            return "\n".join(connection.iterdump())

    secret_text = "Quentin Zabrowski of Flat 9 voted twice in the mayoral race."
    analyze(
        client,
        comment={"text": secret_text},
        requestedAttributes={"TOXICITY": {}},
        doNotStore=True,
    )
    assert "Zabrowski" not in dump()

    # Without doNotStore the result (with the claim's text) is kept: the check above can fail.
    stored_text = "Ingrid Vollmar of Flat 3 voted twice in the mayoral race."
    analyze(client, comment={"text": stored_text}, requestedAttributes={"TOXICITY": {}})
    assert "Vollmar" in dump()
