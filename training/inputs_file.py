"""Reading the training inputs file that training/task_inputs.py writes: xz-compressed JSON
lines, a header with each task's labels, then one row per example."""

from __future__ import annotations

import json
import lzma
from pathlib import Path


def read_inputs(path: Path) -> tuple[dict[str, list[str]], list[dict]]:
    """(labels per task, rows) from a training/task_inputs.py file."""
    with lzma.open(path, "rt", encoding="utf-8") as source:
        header = json.loads(next(source))
        return header["labels"], [json.loads(line) for line in source]
