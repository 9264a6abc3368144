"""Loading what every model in the pipeline loads: onnxruntime sessions with shared
settings, and tokenizers set up for one text (or pair) at a time."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import onnxruntime as ort
from tokenizers import Tokenizer

T = TypeVar("T")
R = TypeVar("R")


def default_threads() -> int:
    return int(os.environ.get("REBUT_THREADS", 0)) or (os.cpu_count() or 1)


def session_options(threads: int | None = None) -> ort.SessionOptions:
    """Intra-op threads default to REBUT_THREADS or the CPU count.

    Graph optimisation stays at the basic level: the extended transformer fusions made
    MiniLM int8 slower on this CPU (../shared/notes/onnx-on-this-cpu.md), and they change
    the int8 outputs in the fourth decimal, so results would differ from the model card's.

    Spinning is off: after a run, each session's idle workers busy-wait for more work.
    A comment runs four sessions in turn, so on 2 cores the idle sessions' spinning
    threads took the CPU from the one working; turning it off made the seed-like comment
    3x faster (305 -> 107 ms, bench/pipeline.py) with identical outputs.
    """
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or default_threads()
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


def cpu_session(path: str | Path, threads: int | None = None) -> ort.InferenceSession:
    return ort.InferenceSession(
        str(path), sess_options=session_options(threads), providers=["CPUExecutionProvider"]
    )


def row_pool(rows: int) -> ThreadPoolExecutor | None:
    """Threads that run one forward pass each at a time (None: run them in turn)."""
    return ThreadPoolExecutor(rows, thread_name_prefix="rebut-rows") if rows > 1 else None


def map_rows(pool: ThreadPoolExecutor | None, run: Callable[[T], R], rows: Iterable[T]) -> list[R]:
    """run(row) for every row, in order; several at once on `pool`.

    The passes stay one input each (results do not depend on what runs beside them);
    onnxruntime releases the GIL during a run, and at batch 1 two single-threaded passes
    side by side do more than one pass on two threads."""
    return list(pool.map(run, rows)) if pool is not None else [run(r) for r in rows]


def load_tokenizer(model_dir: str | Path, max_tokens: int) -> Tokenizer:
    """tokenizer.json truncated to max_tokens (the longer side of a pair first), unpadded.

    The file sentence-transformers ships pads every text to a fixed 128 tokens; callers
    pad per batch instead, so short texts cost short passes."""
    tokenizer = Tokenizer.from_file(str(Path(model_dir) / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=max_tokens, strategy="longest_first")
    tokenizer.no_padding()
    return tokenizer
