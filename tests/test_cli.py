"""`rebut score`, run as a real subprocess the way docs/contract.md's callers run it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import AUTH_HEADERS

CheckResult = Callable[..., None]


def rebut() -> str:
    found = shutil.which("rebut")
    return found or str(Path(sys.executable).parent / "rebut")


def run_score(
    tmp: Path, articles: Path, comments: Path, *extra: str
) -> subprocess.CompletedProcess[str]:
    command = [rebut(), "score", "--articles", str(articles), "--comments", str(comments)]
    command += ["--out", str(tmp / "results.jsonl"), *extra]
    return subprocess.run(command, cwd=tmp, capture_output=True, text=True, timeout=600)


def jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def batch_run(
    tmp_path_factory: pytest.TempPathFactory, seed: tuple[dict[str, Any], dict[str, Any]]
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """One run over the seed, a comment without article, and one of each kind of bad line."""
    tmp = tmp_path_factory.mktemp("batch")
    article, comment = seed
    articles = tmp / "articles.jsonl"
    articles.write_bytes(json.dumps(article).encode() + b"\n" + b'{"id": "broken", "body": \n')
    lines = [
        json.dumps(comment).encode(),
        b'{"id": "not-json", "text": ',
        json.dumps({"id": "empty", "text": "  \t", "article_id": article["id"]}).encode(),
        json.dumps({"id": "orphan", "text": "Rents rose.", "article_id": "nowhere"}).encode(),
        json.dumps({"id": "long", "text": "word " * 6000}).encode(),
        b'{"id": "bytes", "text": "caf\xff\xfe"}',
        json.dumps({"id": "solo", "text": "The mayor resigned in 2019. Good riddance."}).encode(),
    ]
    comments = tmp / "comments.jsonl"
    comments.write_bytes(b"\n".join(lines) + b"\n")
    return tmp, run_score(tmp, articles, comments)


def test_exits_0_with_one_line_per_comment(
    batch_run: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    tmp, completed = batch_run
    assert completed.returncode == 0, completed.stderr
    assert len(jsonl(tmp / "results.jsonl")) == 7
    assert "scored 2 comments, 5 errors" in completed.stderr


def test_bad_lines_get_error_records(
    batch_run: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    tmp, _ = batch_run
    errors = {r["comment_id"]: r["error"] for r in jsonl(tmp / "results.jsonl") if "error" in r}
    assert {comment_id: e["code"] for comment_id, e in errors.items()} == {
        None: "invalid_json",
        "empty": "empty_text",
        "orphan": "unknown_article",
        "long": "text_too_long",
        "bytes": "invalid_encoding",
    }
    assert all(e["message"] for e in errors.values())

    logged = jsonl(tmp / "results.jsonl.errors.jsonl")
    by_line = {r["line"]: r["code"] for r in logged if r["file"] == "comments"}
    assert by_line == {
        2: "invalid_json",
        3: "empty_text",
        4: "unknown_article",
        5: "text_too_long",
        6: "invalid_encoding",
    }
    assert [r["line"] for r in logged if r["file"] == "articles"] == [2]


def test_seed_result_meets_the_contract(
    batch_run: tuple[Path, subprocess.CompletedProcess[str]],
    seed: tuple[dict[str, Any], dict[str, Any]],
    check: CheckResult,
    check_seed: CheckResult,
) -> None:
    tmp, _ = batch_run
    article, comment = seed
    results = {r["comment_id"]: r for r in jsonl(tmp / "results.jsonl")}
    check_seed(results[comment["id"]], article, comment)
    assert results[comment["id"]]["article_id"] == article["id"]
    check(results["solo"], "The mayor resigned in 2019. Good riddance.", None)


def test_seed_stance_is_disputes(
    batch_run: tuple[Path, subprocess.CompletedProcess[str]],
    seed: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    tmp, _ = batch_run
    _, comment = seed
    result = {r["comment_id"]: r for r in jsonl(tmp / "results.jsonl")}[comment["id"]]
    assert result["stance"]["label"] == "disputes", result["stance"]


def test_batch_and_api_agree(
    batch_run: tuple[Path, subprocess.CompletedProcess[str]],
    seed: tuple[dict[str, Any], dict[str, Any]],
    server: str,
) -> None:
    tmp, _ = batch_run
    article, comment = seed
    batch = {r["comment_id"]: r for r in jsonl(tmp / "results.jsonl")}[comment["id"]]
    api = httpx.post(
        f"{server}/v1/comments:score",
        json={"comment": comment, "article": article},
        headers=AUTH_HEADERS,
        timeout=120,
    ).json()
    assert [(c["text"], c["status"]) for c in batch["claims"]] == [
        (c["text"], c["status"]) for c in api["claims"]
    ]
    assert batch["stance"]["label"] == api["stance"]["label"]
    assert batch["moderation"]["flagged"] == api["moderation"]["flagged"]


def test_missing_input_file_fails_clearly(tmp_path: Path) -> None:
    comments = tmp_path / "comments.jsonl"
    comments.write_text('{"id": "c", "text": "hi"}\n')
    completed = run_score(tmp_path, tmp_path / "absent.jsonl", comments)
    assert completed.returncode != 0
    assert "absent.jsonl" in completed.stderr


def test_ids_and_text_the_store_cannot_hold_are_error_records(tmp_path: Path) -> None:
    """The API's rules for ids and text hold in the batch command too: each bad row gets an
    error record saying which field and why, and the good rows around it are scored."""
    articles = tmp_path / "articles.jsonl"
    articles.write_text(
        json.dumps({"id": "a\x00", "body": "Rain."})
        + "\n"
        + json.dumps({"id": "a1", "body": "The bridge reopened on Monday."})
        + "\n"
    )
    rows = [
        {"id": "ok-1", "text": "The bridge reopened.", "article_id": "a1"},
        {"id": "bad\x00id", "text": "Fine."},
        {"id": "nul-text", "text": "before\x00after"},
        {"id": "   ", "text": "Fine."},
        {"id": "x" * 256, "text": "Fine."},
        {"id": "tab\tid", "text": "Fine."},
        {"id": "ok-2", "text": "Fine."},
    ]
    comments = tmp_path / "comments.jsonl"
    comments.write_text("".join(json.dumps(r) + "\n" for r in rows))
    done = run_score(tmp_path, articles, comments)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["scored"], summary["errors"], summary["article_errors"]) == (2, 5, 1)
    out = jsonl(tmp_path / "results.jsonl")
    assert sorted(r["comment_id"] for r in out if "error" not in r) == ["ok-1", "ok-2"]
    errors = {r["comment_id"]: r["error"] for r in out if "error" in r}
    assert {e["code"] for e in errors.values()} == {"invalid_record"}
    assert "NUL" in errors["nul-text"]["message"] and "`text`" in errors["nul-text"]["message"]
    assert "empty" in errors["   "]["message"]
    assert "255" in errors["x" * 256]["message"]
    assert "control character" in errors["tab\tid"]["message"]


def test_parquet_without_pyarrow_says_which_extra_to_install(tmp_path: Path) -> None:
    """The serving install leaves pyarrow out: asking for Parquet says how to get it, and
    JSONL still works in the same install."""
    articles = tmp_path / "articles.jsonl"
    articles.write_text(json.dumps({"id": "a1", "body": "The bridge reopened on Monday."}) + "\n")
    comments = tmp_path / "comments.jsonl"
    comments.write_text(json.dumps({"id": "c1", "text": "It reopened.", "article_id": "a1"}) + "\n")
    blocked = "import sys; sys.modules['pyarrow'] = None; from serve.cli import app; app()"

    def score(out: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-c", blocked, "score", "--articles", str(articles)]
        command += ["--comments", str(comments), "--out", str(tmp_path / out)]
        return subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600)

    refused = score("results.parquet")
    assert refused.returncode == 1, refused.stderr
    assert "rebut[parquet]" in refused.stderr
    assert score("results.jsonl").returncode == 0
