"""The HTTP API, over real HTTP against the real server and model (see conftest.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from conftest import AUTH_HEADERS

SCORE = "/v1/comments:score"
MAX_BODY_BYTES = 2 * 1024 * 1024  # what conftest gives the server
CheckResult = Callable[..., None]


@pytest.fixture(scope="module")
def client(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, timeout=120, headers=AUTH_HEADERS) as client:
        yield client


def assert_problem(response: httpx.Response, status: int, code: str | None = None) -> None:
    """An RFC 9457 body with rebut's `code`."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert {"type", "title", "status", "detail", "code"} <= problem.keys()
    assert problem["status"] == status
    assert problem["detail"]
    if code is not None:
        assert problem["code"] == code, problem


def test_healthz_names_the_model(client: httpx.Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["model_version"]


def test_seed_scored_with_inline_article(
    client: httpx.Client, seed: tuple[dict[str, Any], dict[str, Any]], check_seed: CheckResult
) -> None:
    article, comment = seed
    response = client.post(SCORE, json={"comment": comment, "article": article})
    assert response.status_code == 200, response.text
    check_seed(response.json(), article, comment)
    assert response.json()["article_id"] == article["id"]


def test_seed_stance_is_disputes(
    client: httpx.Client, seed: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    article, comment = seed
    response = client.post(SCORE, json={"comment": comment, "article": article})
    assert response.json()["stance"]["label"] == "disputes", response.json()["stance"]


def test_stored_article_gives_the_same_claims(
    client: httpx.Client, seed: tuple[dict[str, Any], dict[str, Any]], check_seed: CheckResult
) -> None:
    article, comment = seed
    inline = client.post(SCORE, json={"comment": comment, "article": article}).json()

    stored_id = article["id"] + "-stored"
    put = client.put(
        f"/v1/articles/{stored_id}", json={"title": article["title"], "body": article["body"]}
    )
    assert put.status_code == 200, put.text
    assert put.json()["id"] == stored_id
    assert len(put.json()["content_sha256"]) == 64
    assert put.json()["sentences"] > 0
    got = client.get(f"/v1/articles/{stored_id}").json()
    assert (got["title"], got["body"]) == (article["title"], article["body"])

    by_id = client.post(SCORE, json={"comment": comment | {"article_id": stored_id}})
    assert by_id.status_code == 200, by_id.text
    result = by_id.json()
    assert result["article_id"] == stored_id
    check_seed(result, article, comment)
    assert result["claims"] == inline["claims"]
    assert result["stance"] == inline["stance"]


def test_same_article_resent_keeps_its_hash(client: httpx.Client) -> None:
    body = {"title": "Rain", "body": "It rained in Leeds on Monday. Rivers rose by a metre."}
    first = client.put("/v1/articles/hash-check", json=body).json()
    second = client.put("/v1/articles/hash-check", json=body).json()
    edited = client.put("/v1/articles/hash-check", json=body | {"title": "Floods"}).json()
    assert first["content_sha256"] == second["content_sha256"] != edited["content_sha256"]


def test_comment_without_article_gets_moderation_only(
    client: httpx.Client, check: CheckResult
) -> None:
    text = "The council cut the bus budget by 40% last year. You are all idiots."
    response = client.post(SCORE, json={"comment": {"id": "solo", "text": text}})
    assert response.status_code == 200, response.text
    result = response.json()
    check(result, text, None)
    assert result["comment_id"] == "solo" and result["article_id"] is None


def test_concurrent_requests_all_succeed(
    client: httpx.Client, seed: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    """Handlers run in a thread pool against one SQLite file: no request may fail on a lock."""
    article, comment = seed

    def score(i: int) -> int:
        body = {"comment": comment | {"id": f"concurrent-{i % 3}"}, "article": article}
        return client.post(SCORE, json=body).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(score, range(16))) == [200] * 16


@pytest.mark.parametrize("text", ["", "   \n\t "])
def test_empty_comment_is_400(client: httpx.Client, text: str) -> None:
    response = client.post(SCORE, json={"comment": {"id": "e", "text": text}})
    assert_problem(response, 400, "empty_text")


def test_one_megabyte_comment_is_413(client: httpx.Client) -> None:
    response = client.post(SCORE, json={"comment": {"id": "big", "text": "a" * 1_000_000}})
    assert_problem(response, 413)


def test_body_over_the_limit_is_413(client: httpx.Client) -> None:
    text = "a" * (MAX_BODY_BYTES + 1000)
    response = client.post(SCORE, json={"comment": {"id": "huge", "text": text}})
    assert_problem(response, 413, "body_too_large")


def test_body_over_the_limit_without_content_length_is_413(client: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"comment": {"id": "chunked", "text": "'
        for _ in range(MAX_BODY_BYTES // 65536 + 2):
            yield b"a" * 65536
        yield b'"}}'

    response = client.post(SCORE, content=chunks(), headers={"content-type": "application/json"})
    assert "content-length" not in response.request.headers
    assert_problem(response, 413, "body_too_large")


def test_invalid_json_is_400(client: httpx.Client) -> None:
    response = client.post(
        SCORE, content=b'{"comment": {"id": "x",', headers={"content-type": "application/json"}
    )
    assert_problem(response, 400, "invalid_json")


def test_wrong_shape_is_422(client: httpx.Client) -> None:
    response = client.post(SCORE, json={"comment": {"id": 7}})
    assert_problem(response, 422, "invalid_request")
    assert response.json()["errors"]


def test_non_utf8_body_is_400(client: httpx.Client) -> None:
    body = b'{"comment": {"id": "x", "text": "caf\xff\xfe"}}'
    response = client.post(SCORE, content=body, headers={"content-type": "application/json"})
    assert_problem(response, 400, "invalid_encoding")


def test_unknown_article_is_404(client: httpx.Client) -> None:
    comment = {"id": "x", "text": "Some claim about a town.", "article_id": "no-such-article"}
    assert_problem(client.post(SCORE, json={"comment": comment}), 404, "unknown_article")
    assert_problem(client.get("/v1/articles/no-such-article"), 404, "unknown_article")


def test_empty_article_is_400(client: httpx.Client) -> None:
    assert_problem(client.put("/v1/articles/blank", json={"body": "  "}), 400, "empty_text")


def test_unknown_route_is_problem_json(client: httpx.Client) -> None:
    assert_problem(client.get("/v1/nothing-here"), 404, "not_found")
    assert_problem(client.get(SCORE), 405, "method_not_allowed")


def test_openapi_documents_the_contract(client: httpx.Client) -> None:
    spec = client.get("/openapi.json").json()
    assert {SCORE, "/v1/articles/{article_id}", "/healthz"} <= spec["paths"].keys()
    assert "Result" in spec["components"]["schemas"]
    assert client.get("/docs").status_code == 200
