"""Which files each task's training rows come from: the MANIFEST entries of the shared
data it reads (licence, repository, commit, sha256) and the files under data/ written for
rebut. The model card lists them."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from training.data.examples import TASKS
from training.data.grounding_human import _frank_annotations
from training.data.moderation_sources import THREAT_FRAMES
from training.data.splits import _REPO, _root
from training.data.stance_synthetic import COMMENT_FRAMES

_TASK_FOLDERS: dict[str, tuple[str, ...]] = {
    "moderation": (
        "toxicity/jigsaw_subsets",
        "toxicity/civil_comments_spans",
        "toxicity/davidson",
        "toxicity/olid",
        "spam/youtube",
        "stance/arc",
    ),
    "checkworthy": ("checkworthy/claimbuster", "stance/fnc1", "stance/perspectrum"),
    "grounding": (
        "grounding/frank",
        "grounding/frank/articles",
        "grounding/xsum_hallucinations",
        "grounding/wice",
        "stance/fnc1",
    ),
    "stance": ("stance/fnc1", "stance/arc", "stance/perspectrum"),
}
_DATA_SUFFIXES = (".csv", ".tsv", ".json", ".jsonl")


def source_files(task: str, data_dir: Path | str | None = None) -> list[dict[str, str]]:
    """MANIFEST entries of the data files `task` reads: file, sha256, license, repository,
    commit. FRANK's test-split article files are left out: they are never opened."""
    if task not in _TASK_FOLDERS:
        raise ValueError(f"unknown task {task!r}; valid tasks: {', '.join(TASKS)}")
    root = _root(data_dir)
    manifest = json.loads((root / "MANIFEST.json").read_text(encoding="utf-8"))
    skip: set[str] = set()
    if task == "grounding":
        skip = {f"grounding/frank/articles/{h}.json" for h in _frank_annotations(root)[1]}
    return [
        {
            "file": f["file"],
            "sha256": f["sha256"],
            "license": entry["license"],
            "repository": entry["repository"],
            "commit": entry["commit"],
        }
        for entry in manifest
        if entry["folder"] in _TASK_FOLDERS[task]
        for f in entry["files"]
        if f["file"].endswith(_DATA_SUFFIXES) and f["file"] not in skip
    ]


# files written for rebut that a task's training rows are built from (besides ../shared)
_OWN_FILES: dict[str, tuple[Path, ...]] = {
    "moderation": (_REPO / "data" / "fairness" / "identity.json", THREAT_FRAMES),
    "stance": (COMMENT_FRAMES,),
}


def own_files(task: str) -> list[dict[str, str]]:
    """The files under data/ that `task`'s training rows are built from, with sha256."""
    return [
        {
            "file": path.relative_to(_REPO).as_posix(),
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        }
        for path in _OWN_FILES.get(task, ())
    ]
