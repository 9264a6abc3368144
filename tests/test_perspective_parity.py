"""Perspective parity beyond AnalyzeComment's camelCase: proto field names (snake_case) in
requests, SuggestCommentScore kept as moderator feedback and exported, and the discovery
document that lets Google's client call both methods.

    .venv/bin/pytest tests/test_perspective_parity.py
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import API_KEY, AUTH_HEADERS, run_server
from sqlalchemy import create_engine, text

ANALYZE = "/v1alpha1/comments:analyze"
SUGGEST = "/v1alpha1/comments:suggestscore"
REBUT = str(Path(sys.executable).with_name("rebut"))
# The test servers' key is REBUT_API_KEYS's, whose caller is named "settings".
OWNER = "key:settings"


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with run_server(tmp_path_factory.mktemp("parity")) as (url, _process):
        yield url


@pytest.fixture
def stored_server(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A server on `database_url` (SQLite, then PostgreSQL), for what is stored."""
    with run_server(tmp_path, REBUT_DATABASE_URL=database_url) as (url, _process):
        yield url


def post(base_url: str, path: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(base_url + path, json=body, headers=AUTH_HEADERS, timeout=60)


def rows(database_url: str, query: str) -> list[tuple[Any, ...]]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(query))]
    finally:
        engine.dispose()


def perspective_id(text_: str) -> str:
    """The id analyze stores a text's result under, for the test servers' key."""
    return "perspective:" + hashlib.sha256(f"{OWNER}\n{text_}".encode()).hexdigest()[:32]


def google_400(response: httpx.Response) -> str:
    """The errorType of a Google-shaped 400, asserting the shape."""
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == 400 and error["status"] == "INVALID_ARGUMENT" and error["message"]
    [detail] = error["details"]
    assert detail["@type"].endswith("google.commentanalyzer.v1alpha1.Error")
    return detail["errorType"]


def test_snake_case_request_is_answered_as_camel_case(base_url: str) -> None:
    text_ = "The bridge reopened on Monday. You are a worthless idiot and I hope you rot."
    camel = {
        "comment": {"text": text_, "type": "PLAIN_TEXT"},
        "requestedAttributes": {"INSULT": {}, "SPAM": {"scoreThreshold": 0.99}},
        "spanAnnotations": True,
        "languages": ["en"],
        "doNotStore": True,
        "clientToken": "t-1",
    }
    snake = {
        "comment": {"text": text_, "type": "PLAIN_TEXT"},
        "requested_attributes": {"INSULT": {}, "SPAM": {"score_threshold": 0.99}},
        "span_annotations": True,
        "languages": ["en"],
        "do_not_store": True,
        "client_token": "t-1",
    }
    answers = [post(base_url, ANALYZE, body) for body in (camel, snake)]
    assert [a.status_code for a in answers] == [200, 200], answers[1].text
    assert answers[1].json() == answers[0].json()
    answer = answers[1].json()
    # every snake_case field was read: the threshold left SPAM out, spans are per sentence,
    # the token came back, and the answer itself is camelCase
    assert set(answer["attributeScores"]) == {"INSULT"}
    assert len(answer["attributeScores"]["INSULT"]["spanScores"]) == 2
    assert answer["clientToken"] == "t-1" and answer["detectedLanguages"] == ["en"]


def test_a_field_under_both_names_is_refused(base_url: str) -> None:
    body = {
        "comment": {"text": "A calm remark."},
        "requestedAttributes": {"TOXICITY": {}},
        "doNotStore": True,
        "do_not_store": False,
    }
    assert google_400(post(base_url, ANALYZE, body)) == "INVALID_REQUEST"


def test_do_not_store_under_either_name_stores_nothing(
    stored_server: str, database_url: str
) -> None:
    bodies = {
        "Zabrowski": {"requestedAttributes": {"TOXICITY": {}}, "doNotStore": True},
        "Kowalczyk": {"requestedAttributes": {"TOXICITY": {}}, "do_not_store": True},
        "Oyelaran": {"requested_attributes": {"TOXICITY": {}}, "do_not_store": True},
        "Vollmar": {"requested_attributes": {"TOXICITY": {}}},  # stored: the check can fail
    }
    for name, body in bodies.items():
        comment = {"text": f"{name} of Flat 9 voted twice in the mayoral race."}
        response = post(stored_server, ANALYZE, {"comment": comment, **body})
        assert response.status_code == 200, response.text
    stored = " ".join(t for (t,) in rows(database_url, "SELECT text FROM comment_scores"))
    assert "Vollmar" in stored
    for name in ("Zabrowski", "Kowalczyk", "Oyelaran"):
        assert name not in stored


def export_feedback(database_url: str, out: Path) -> list[dict[str, Any]]:
    env = {**os.environ, "REBUT_DATABASE_URL": database_url}
    done = subprocess.run(
        [REBUT, "export-feedback", "--out", str(out)], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in out.read_text().splitlines()]


def test_suggestscore_is_stored_and_exported(
    stored_server: str, database_url: str, tmp_path: Path
) -> None:
    analyzed = "You are a worthless idiot and everyone on this street knows it."
    fresh = "The council meets again on Thursday to vote on the budget."
    response = post(
        stored_server, ANALYZE, {"comment": {"text": analyzed}, "requestedAttributes": {"SPAM": {}}}
    )
    assert response.status_code == 200, response.text

    suggestion = {
        "comment": {"text": analyzed},
        "attributeScores": {"TOXICITY": {"summaryScore": {"value": 0.9}}},
        "languages": ["en"],
        "communityId": "metro-desk",
        "clientToken": "suggest-1",
    }
    response = post(stored_server, SUGGEST, suggestion)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "detectedLanguages": ["en"],
        "requestedLanguages": ["en"],
        "clientToken": "suggest-1",
    }
    # proto field names too, on a text no result was stored for
    snake = {
        "comment": {"text": fresh},
        "attribute_scores": {"INSULT": {"summary_score": {"value": 0.1}}},
        "client_token": "suggest-2",
    }
    response = post(stored_server, SUGGEST, snake)
    assert response.status_code == 200, response.text
    assert response.json()["clientToken"] == "suggest-2"

    [(score_id,)] = rows(
        database_url,
        f"SELECT id FROM comment_scores WHERE comment_id = '{perspective_id(analyzed)}'",
    )
    feedback = rows(
        database_url, "SELECT comment_id, score_id, decision, key_name FROM feedback ORDER BY id"
    )
    assert feedback == [
        (perspective_id(analyzed), score_id, "reject", "settings"),
        (perspective_id(fresh), None, "approve", "settings"),
    ]

    first, second = export_feedback(database_url, tmp_path / "feedback.jsonl")
    assert first["comment_id"] == perspective_id(analyzed) and first["text"] == analyzed
    assert first["decision"] == "reject" and first["decided_by"] == "settings"
    assert first["suggested_scores"] == {"TOXICITY": 0.9}
    assert first["result"]["comment_id"] == perspective_id(analyzed) and first["model_version"]
    assert json.loads(first["note"])["community_id"] == "metro-desk"
    # with no stored result, the text comes from the suggestion itself
    assert second["comment_id"] == perspective_id(fresh) and second["text"] == fresh
    assert second["decision"] == "approve" and second["result"] is None
    assert second["suggested_scores"] == {"INSULT": 0.1}


GOOD_SCORES = {"TOXICITY": {"summaryScore": {"value": 0.2}}}


@pytest.mark.parametrize(
    ("body", "error_type"),
    [
        ({"attributeScores": GOOD_SCORES}, "INVALID_REQUEST"),
        ({"comment": {"text": "  "}, "attributeScores": GOOD_SCORES}, "COMMENT_EMPTY"),
        ({"comment": {"text": "a" * 20_001}, "attributeScores": GOOD_SCORES}, "COMMENT_TOO_LONG"),
        ({"comment": {"text": "Hi."}}, "INVALID_REQUEST"),
        ({"comment": {"text": "Hi."}, "attributeScores": {"NOPE": {}}}, "INVALID_REQUEST"),
        ({"comment": {"text": "Hi."}, "attributeScores": {"TOXICITY": {}}}, "INVALID_REQUEST"),
        (
            {
                "comment": {"text": "Hi."},
                "attributeScores": {"TOXICITY": {"summaryScore": {"value": 1.5}}},
            },
            "INVALID_REQUEST",
        ),
        (
            {"comment": {"text": "Hi."}, "attributeScores": GOOD_SCORES, "clientToken": 7},
            "INVALID_REQUEST",
        ),
    ],
)
def test_bad_suggestscore_bodies_are_google_400s(
    base_url: str, body: dict[str, Any], error_type: str
) -> None:
    assert google_400(post(base_url, SUGGEST, body)) == error_type


def test_suggestscore_wants_a_key(base_url: str) -> None:
    body = {"comment": {"text": "Hi."}, "attributeScores": GOOD_SCORES}
    response = httpx.post(f"{base_url}{SUGGEST}?key=wrong", json=body)
    assert response.status_code == 401
    assert response.json()["error"]["status"] == "UNAUTHENTICATED"


def test_discovery_document_lists_suggestscore(base_url: str) -> None:
    document = httpx.get(base_url + "/$discovery/rest?version=v1alpha1").json()
    method = document["resources"]["comments"]["methods"]["suggestscore"]
    assert method["httpMethod"] == "POST"
    assert method["path"] == "v1alpha1/comments:suggestscore"
    for ref in (method["request"]["$ref"], method["response"]["$ref"]):
        assert ref in document["schemas"]


def test_googles_client_calls_analyze_and_suggestscore(base_url: str) -> None:
    discovery = pytest.importorskip("googleapiclient.discovery")
    client = discovery.build(
        "commentanalyzer",
        "v1alpha1",
        developerKey=API_KEY,
        discoveryServiceUrl=f"{base_url}/$discovery/rest?version={{apiVersion}}",
        static_discovery=False,
        cache_discovery=False,
    )
    analyzed = (
        client.comments()
        .analyze(
            body={
                "comment": {"text": "Thanks for the update."},
                "requested_attributes": {"TOXICITY": {}},
                "do_not_store": True,
            }
        )
        .execute()
    )
    assert 0 <= analyzed["attributeScores"]["TOXICITY"]["summaryScore"]["value"] <= 1
    suggested = (
        client.comments()
        .suggestscore(
            body={
                "comment": {"text": "Thanks for the update."},
                "attributeScores": {"TOXICITY": {"summaryScore": {"value": 0.0}}},
                "clientToken": "g-1",
            }
        )
        .execute()
    )
    assert suggested == {"detectedLanguages": ["en"], "clientToken": "g-1"}
