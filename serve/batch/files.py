"""The files `rebut score` reads and writes: JSONL, CSV or Parquet in; JSONL or Parquet out.

Readers turn each row into `(line, record)` where `record` is a dict or a `BadLine`, so one
unreadable row is one error and never a crash. `line` is the file's line number for JSONL
and CSV (the line a CSV record starts on) and the row number for Parquet.

Writers append whole batches and can say which comment ids an earlier run already wrote,
which is what `--resume` needs:
- JSONL: one `write` per batch; a line cut short by a kill during that write is cut off
  when the file is opened again, so a resumed file holds whole lines only.
- Parquet: OUT is a folder of `part-NNNNNN.parquet` files (as Spark, Ray and pyarrow.dataset
  write them), each written under a temporary name and renamed, so a part is whole or absent.
  Columns: `comment_id`, `article_id`, `error_code` (null for a result) and `record`, the
  same JSON text the JSONL line would hold.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

UTF8_BOM = b"\xef\xbb\xbf"
JSONL_SUFFIXES = {".jsonl", ".ndjson", ".json"}
PARQUET_SUFFIXES = {".parquet", ".pq"}
CSV_OPTIONAL = {"title", "article_id"}
PARQUET_READ_ROWS = 4096  # rows decoded at a time: memory stays flat on big files


class BadLine(Exception):
    """A row that cannot be scored; `record_id` is the row's id where one was readable."""

    def __init__(self, code: str, message: str, record_id: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.record_id = record_id


Row = tuple[int, dict[str, Any] | BadLine]


def input_format(path: Path) -> str:
    """`jsonl`, `csv` or `parquet`, from the name; a folder is read as Parquet parts."""
    suffix = path.suffix.lower()
    if path.is_dir() or suffix in PARQUET_SUFFIXES:
        return "parquet"
    if suffix == ".csv":
        return "csv"
    if suffix in JSONL_SUFFIXES:
        return "jsonl"
    raise ValueError(f"{path}: unknown input format; name it .jsonl, .csv or .parquet")


def output_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    if suffix in JSONL_SUFFIXES:
        return "jsonl"
    raise ValueError(f"{path}: unknown output format; name it .jsonl or .parquet")


def read_rows(path: Path) -> Iterator[Row]:
    """Every non-blank row of `path`, in file order."""
    readers = {"jsonl": _jsonl_rows, "csv": _csv_rows, "parquet": _parquet_rows}
    return readers[input_format(path)](path)


def _id_despite_encoding(raw: bytes) -> str | None:
    """The `id` of a line that is not UTF-8, if the rest of it reads as JSON."""
    try:
        obj = json.loads(raw.decode("utf-8", errors="replace"))
    except json.JSONDecodeError:
        return None
    record_id = obj.get("id") if isinstance(obj, dict) else None
    return record_id if isinstance(record_id, str) else None


def parse_json_line(raw: bytes) -> dict[str, Any]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        message = f"line is not UTF-8: byte {exc.start} is {raw[exc.start]:#04x}"
        raise BadLine("invalid_encoding", message, _id_despite_encoding(raw)) from None
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        message = f"line is not JSON: {exc.msg} at column {exc.colno}"
        raise BadLine("invalid_json", message) from None
    if not isinstance(obj, dict):
        raise BadLine("invalid_record", f"line is a JSON {type(obj).__name__}, not an object")
    return obj


def _jsonl_rows(path: Path) -> Iterator[Row]:
    # Read as bytes and decode line by line: one line that is not UTF-8 is one error.
    with path.open("rb") as f:
        for number, raw in enumerate(f, start=1):
            line = (raw.removeprefix(UTF8_BOM) if number == 1 else raw).strip()
            if not line:
                continue
            try:
                yield number, parse_json_line(line)
            except BadLine as bad:
                yield number, bad


def _csv_rows(path: Path) -> Iterator[Row]:
    # surrogateescape keeps bytes that are not UTF-8 as lone surrogates, which the field
    # checks (serve/batch/rows.py) report as invalid_encoding for that row alone.
    with path.open(encoding="utf-8-sig", errors="surrogateescape", newline="") as f:
        reader = csv.DictReader(f)
        while True:
            start = reader.line_num + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield start, BadLine("invalid_record", f"row is not CSV: {exc}")
                continue
            if not any((value or "").strip() for key, value in row.items() if key is not None):
                continue
            # CSV has no null: an empty optional field is an absent one
            yield (
                start,
                {
                    k: (None if v == "" and k in CSV_OPTIONAL else v)
                    for k, v in row.items()
                    if k is not None
                },
            )


class ParquetUnavailable(OSError):
    """Parquet was asked for and pyarrow is not installed (it is the `parquet` extra)."""


def _pyarrow() -> None:
    """Refuse Parquet with a clear message where pyarrow is missing: the serving install
    leaves it out (about 170 MB that JSONL and CSV never need)."""
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise ParquetUnavailable(
            "Parquet needs pyarrow, which the serving install leaves out: "
            "pip install 'rebut[parquet]' (or use JSONL or CSV)"
        ) from None


def _parquet_rows(path: Path) -> Iterator[Row]:
    _pyarrow()
    import pyarrow.dataset as ds

    number = 0
    for batch in ds.dataset(path, format="parquet").to_batches(batch_size=PARQUET_READ_ROWS):
        for row in batch.to_pylist():
            number += 1
            yield number, row


class ResultWriter(Protocol):
    def done_ids(self) -> set[str]: ...

    def write(self, records: list[tuple[str | None, str | None, str | None, str]]) -> None:
        """Append (comment_id, article_id, error_code, record JSON) rows as one unit."""
        ...

    def close(self) -> None: ...


class JsonlWriter:
    def __init__(self, path: Path, *, resume: bool) -> None:
        self.path = path
        if resume and path.exists():
            cut_partial_line(path)
        # O_APPEND and one os.write per batch: no Python buffer to leave half-flushed
        flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if resume else os.O_TRUNC)
        self._fd = os.open(path, flags, 0o644)

    def done_ids(self) -> set[str]:
        done: set[str] = set()
        with self.path.open("rb") as f:
            for raw in f:
                if raw.endswith(b"\n") and raw.strip():
                    comment_id = json.loads(raw).get("comment_id")
                    if isinstance(comment_id, str):
                        done.add(comment_id)
        return done

    def write(self, records: list[tuple[str | None, str | None, str | None, str]]) -> None:
        if records:
            data = ("\n".join(record for *_, record in records) + "\n").encode("utf-8")
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view) :]

    def close(self) -> None:
        os.close(self._fd)


def cut_partial_line(path: Path) -> None:
    """Truncate `path` after its last newline: a kill mid-write may have left half a line."""
    with path.open("rb+") as f:
        size = f.seek(0, os.SEEK_END)
        tail, keep = 1 << 16, 0
        position = size
        while position > 0:
            start = max(0, position - tail)
            f.seek(start)
            chunk = f.read(position - start)
            newline = chunk.rfind(b"\n")
            if newline >= 0:
                keep = start + newline + 1
                break
            position = start
        if keep != size:
            f.truncate(keep)


class ParquetWriter:
    def __init__(self, path: Path, *, resume: bool) -> None:
        _pyarrow()
        import pyarrow as pa

        self.path = path
        if path.exists() and not path.is_dir():
            raise ValueError(f"{path} is a file; Parquet output is a folder of parts")
        path.mkdir(exist_ok=True)
        parts = sorted(path.glob("part-*.parquet"))
        if not resume:
            for part in parts:
                part.unlink()
            parts = []
        for stale in path.glob(".part-*.tmp"):
            stale.unlink()
        self._next = 1 + max((int(p.stem.removeprefix("part-")) for p in parts), default=0)
        self.schema = pa.schema(
            [(name, pa.string()) for name in ("comment_id", "article_id", "error_code", "record")]
        )

    def done_ids(self) -> set[str]:
        import pyarrow.parquet as pq

        done: set[str] = set()
        for part in sorted(self.path.glob("part-*.parquet")):
            ids = pq.read_table(part, columns=["comment_id"]).column(0).to_pylist()
            done.update(i for i in ids if i is not None)
        return done

    def write(self, records: list[tuple[str | None, str | None, str | None, str]]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if not records:
            return
        table = pa.Table.from_pylist(
            [dict(zip(self.schema.names, record)) for record in records], schema=self.schema
        )
        name = f"part-{self._next:06d}.parquet"
        temporary = self.path / f".{name}.tmp"
        pq.write_table(table, temporary)
        os.replace(temporary, self.path / name)
        self._next += 1

    def close(self) -> None:
        pass


def open_writer(path: Path, *, resume: bool) -> JsonlWriter | ParquetWriter:
    if output_format(path) == "parquet":
        return ParquetWriter(path, resume=resume)
    return JsonlWriter(path, resume=resume)


def read_records(path: Path) -> list[dict[str, Any]]:
    """Every record in a RESULTS file or folder, as dicts (for tests and tools)."""
    if output_format(path) == "parquet":
        import pyarrow.dataset as ds

        table = ds.dataset(path, format="parquet").to_table(columns=["record"])
        return [json.loads(r) for r in table.column(0).to_pylist()]
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
