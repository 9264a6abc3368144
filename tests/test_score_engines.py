"""`rebut score` at archive scale, on small data: every engine and file format gives the
same records, and a run killed mid-way and resumed equals one that never stopped.

All runs are real subprocesses of the real command with the bundled model; the Ray run
starts its own local Ray (2 CPUs), as a user's first run does.
"""

from __future__ import annotations

import csv
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from serve.batch.files import read_records

N_COMMENTS = 48
BAD_LINES = {  # comment line (1-based) -> the error code it must get
    4: "invalid_json",
    9: "empty_text",
    13: "unknown_article",
    17: "text_too_long",
    22: "invalid_encoding",
    27: "invalid_record",
}


def rebut() -> str:
    return str(Path(sys.executable).parent / "rebut")


def score(
    tmp: Path,
    out: str,
    *extra: str,
    articles: str = "articles.jsonl",
    comments: str = "comments.jsonl",
) -> subprocess.CompletedProcess[str]:
    command = [rebut(), "score", "--articles", articles, "--comments", comments, "--out", out]
    return subprocess.run([*command, *extra], cwd=tmp, capture_output=True, text=True, timeout=600)


def canonical(records: list[dict[str, Any]]) -> list[str]:
    """Records in a fixed order: engines write them in the order batches finish."""
    return sorted(json.dumps(r, sort_keys=True) for r in records)


def errors_file(path: Path) -> list[str]:
    return sorted(path.read_text(encoding="utf-8").splitlines())


def comment_rows(rng: random.Random) -> list[dict[str, Any]]:
    opinions = ["This is a disgrace.", "Great news for the town.", "Nonsense, you idiots."]
    rows = []
    for i in range(N_COMMENTS):
        text = (
            f"The council approved {rng.randint(2, 90)} homes in {rng.randint(2000, 2020)}. "
            f"{rng.choice(opinions)}"
        )
        row: dict[str, Any] = {"id": f"c{i:03d}", "text": text}
        if i % 4:
            row["article_id"] = f"a{i % 4}"  # every fourth comment comes without an article
        rows.append(row)
    return rows


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three articles and N_COMMENTS comments as JSONL, CSV and Parquet, and one
    uninterrupted single-worker run over the JSONL (`reference.jsonl`) to compare against."""
    tmp = tmp_path_factory.mktemp("archive")
    rng = random.Random(7)
    articles = [
        {
            "id": f"a{a}",
            "title": f"Homes plan {a}",
            "body": " ".join(
                f"The council approved {rng.randint(2, 90)} new homes in {2000 + s}. "
                f"Residents called the plan {rng.choice(['fair', 'rushed', 'late'])}."
                for s in range(10)
            ),
        }
        for a in (1, 2, 3)
    ]
    (tmp / "articles.jsonl").write_text("".join(json.dumps(a) + "\n" for a in articles))
    rows = comment_rows(rng)
    lines = [json.dumps(row).encode() for row in rows]
    lines[4 - 1] = b'{"id": "c003", "text": '
    lines[9 - 1] = json.dumps({"id": "c008", "text": " \n", "article_id": "a1"}).encode()
    lines[13 - 1] = json.dumps({"id": "c012", "text": "Rents rose.", "article_id": "a9"}).encode()
    lines[17 - 1] = json.dumps({"id": "c016", "text": "word " * 4001}).encode()
    lines[22 - 1] = b'{"id": "c021", "text": "caf\xff\xfe"}'
    lines[27 - 1] = json.dumps({"id": "c026", "text": 42}).encode()
    (tmp / "comments.jsonl").write_bytes(b"\n".join(lines) + b"\n")

    # the good rows again, as CSV and Parquet (their own bad rows are tested below)
    good = [row for n, row in enumerate(rows, start=1) if n not in BAD_LINES]
    with (tmp / "comments.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=["id", "text", "article_id"])
        writer.writeheader()
        writer.writerows(good)
    # every key in every row: from_pylist takes its columns from the first row
    table = pa.Table.from_pylist([{"article_id": None} | row for row in good])
    pq.write_table(table, tmp / "comments.parquet")
    pq.write_table(pa.Table.from_pylist(articles), tmp / "articles.parquet")

    completed = score(tmp, "reference.jsonl")
    assert completed.returncode == 0, completed.stderr
    return tmp


def test_reference_run_reports_each_bad_row_and_a_summary(archive: Path) -> None:
    records = read_records(archive / "reference.jsonl")
    assert len(records) == N_COMMENTS
    ids = {r["comment_id"] for r in records} - {None}  # the line that is not JSON has no id
    assert len(ids) == N_COMMENTS - 1
    logged = [json.loads(line) for line in errors_file(archive / "reference.jsonl.errors.jsonl")]
    assert {r["line"]: r["code"] for r in logged} == BAD_LINES
    completed = score(archive, "again.jsonl")
    summary = json.loads(completed.stdout)
    assert summary["scored"] == N_COMMENTS - len(BAD_LINES)
    assert summary["errors"] == len(BAD_LINES)
    assert summary["seconds"] > 0 and summary["comments_per_s"] > 0


def assert_same_as_reference(archive: Path, name: str) -> None:
    """The records and the errors file of an output equal the single-process run's."""
    assert canonical(read_records(archive / name)) == canonical(
        read_records(archive / "reference.jsonl")
    )
    assert errors_file(archive / f"{name}.errors.jsonl") == errors_file(
        archive / "reference.jsonl.errors.jsonl"
    )


def test_two_workers_equal_one(archive: Path) -> None:
    completed = score(archive, "workers2.jsonl", "--workers", "2", "--batch-size", "4")
    assert completed.returncode == 0, completed.stderr
    assert_same_as_reference(archive, "workers2.jsonl")


def test_ray_equals_local(archive: Path) -> None:
    pytest.importorskip("ray.data", reason="the `ray` extra is not installed")
    completed = score(archive, "ray.jsonl", "--engine", "ray", "--workers", "2")
    assert completed.returncode == 0, completed.stderr
    assert_same_as_reference(archive, "ray.jsonl")


def test_csv_and_parquet_in_parquet_out(archive: Path) -> None:
    expected = [r for r in read_records(archive / "reference.jsonl") if "error" not in r]
    for comments in ("comments.csv", "comments.parquet"):
        completed = score(archive, "out.parquet", articles="articles.parquet", comments=comments)
        assert completed.returncode == 0, completed.stderr
        assert canonical(read_records(archive / "out.parquet")) == canonical(expected), comments


def test_bad_csv_and_parquet_rows(tmp_path: Path) -> None:
    (tmp_path / "articles.jsonl").write_text('{"id": "a1", "body": "The mayor resigned."}\n')
    (tmp_path / "comments.csv").write_bytes(
        b"id,text,article_id\n"
        b"ok,The mayor resigned in 2019.,a1\n"
        b"notext,,a1\n"
        b"bytes,caf\xff,a1\n"
        b'multi,"Two lines,\nstill one comment.",a1\n'
        b"orphan,Hello there.,a7\n"
    )
    completed = score(tmp_path, "r.jsonl", comments="comments.csv")
    assert completed.returncode == 0, completed.stderr
    logged = [
        json.loads(line) for line in (tmp_path / "r.jsonl.errors.jsonl").read_text().splitlines()
    ]
    assert {(r["comment_id"], r["line"]): r["code"] for r in logged} == {
        ("notext", 3): "empty_text",
        ("bytes", 4): "invalid_encoding",
        ("orphan", 7): "unknown_article",
    }

    pq.write_table(
        pa.table({"id": [1, 2], "text": ["A number for an id.", "Another."]}),
        tmp_path / "typed.parquet",
    )
    completed = score(tmp_path, "p.jsonl", comments="typed.parquet")
    assert completed.returncode == 0, completed.stderr
    assert [r["error"]["code"] for r in read_records(tmp_path / "p.jsonl")] == [
        "invalid_record",
        "invalid_record",
    ]


def _kill_mid_run(tmp: Path, out: str, sig: int, *extra: str) -> int:
    """Start a run, wait for its first records, send `sig` to its process group."""
    command = [rebut(), "score", "--articles", "articles.jsonl", "--comments"]
    command += ["comments.jsonl", "--out", out, "--batch-size", "1", *extra]
    # A shell that starts the suite in the background (`make test &`, as some CI runners
    # do) leaves SIGINT ignored, and an ignored signal stays ignored across exec: the run
    # would never see the Ctrl-C. A handled one is reset to the default in the child.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        process = subprocess.Popen(
            command,
            cwd=tmp,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    finally:
        signal.signal(signal.SIGINT, previous)
    deadline = time.monotonic() + 180
    path = tmp / out
    while time.monotonic() < deadline and process.poll() is None:
        if path.exists() and path.read_bytes().count(b"\n") >= 10:
            break
        time.sleep(0.01)
    assert process.poll() is None, "the run ended before it could be interrupted"
    os.killpg(process.pid, sig)
    return process.wait(timeout=120)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_sigkill_then_resume_equals_an_uninterrupted_run(archive: Path, workers: str) -> None:
    out = f"killed{workers}.jsonl"
    assert _kill_mid_run(archive, out, signal.SIGKILL, "--workers", workers) == -signal.SIGKILL
    partial = (archive / out).read_bytes()
    assert partial.endswith(b"\n"), "a torn last line"
    written = len(partial.splitlines())
    assert 0 < written < N_COMMENTS, "the kill did not land mid-run"

    assert list(archive.glob(f".{out}.spool-*")), "the killed run's spool should be left"

    completed = score(archive, out, "--resume", "--workers", workers)
    assert completed.returncode == 0, completed.stderr
    assert not list(archive.glob(f".{out}.spool-*")), "a spool folder was left behind"
    records = read_records(archive / out)
    ids = [r["comment_id"] for r in records if r["comment_id"] is not None]
    assert len(ids) == len(set(ids)), "an id written twice"
    assert canonical(records) == canonical(read_records(archive / "reference.jsonl"))
    # every record already there is skipped once, the one with no id by its line in ERRORS
    assert json.loads(completed.stdout)["skipped"] == written
    assert errors_file(archive / f"{out}.errors.jsonl") == errors_file(
        archive / "reference.jsonl.errors.jsonl"
    )


def test_ctrl_c_exits_130_and_resume_finishes(archive: Path) -> None:
    assert _kill_mid_run(archive, "stopped.jsonl", signal.SIGINT) == 130
    completed = score(archive, "stopped.jsonl", "--resume")
    assert completed.returncode == 0, completed.stderr
    assert canonical(read_records(archive / "stopped.jsonl")) == canonical(
        read_records(archive / "reference.jsonl")
    )
