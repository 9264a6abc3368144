"""Time `rebut score` end to end: the seed comment alone, and 1,000 comments on 10 articles.

    python bench/score_timing.py [--data-dir ../shared/datasets] [--comments 1000] [--articles 10]

Articles are FNC-1 bodies and comments are ARC reader comments, read from the shared data
(never copied into the repository), written to a temp folder as the contract's JSONL.
The times include starting the command and loading the models, as a batch user sees them.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def rebut() -> str:
    return shutil.which("rebut") or str(Path(sys.executable).parent / "rebut")


def run(articles: list[dict], comments: list[dict], folder: Path) -> tuple[float, int]:
    (folder / "a.jsonl").write_text("".join(json.dumps(a) + "\n" for a in articles))
    (folder / "c.jsonl").write_text("".join(json.dumps(c) + "\n" for c in comments))
    started = time.perf_counter()
    subprocess.run(
        [
            rebut(),
            "score",
            "--articles",
            str(folder / "a.jsonl"),
            "--comments",
            str(folder / "c.jsonl"),
            "--out",
            str(folder / "r.jsonl"),
        ],
        check=True,
        stderr=subprocess.DEVNULL,
    )
    seconds = time.perf_counter() - started
    lines = (folder / "r.jsonl").read_text().splitlines()
    return seconds, sum("error" not in json.loads(line) for line in lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "datasets")
    parser.add_argument("--comments", type=int, default=1000)
    parser.add_argument("--articles", type=int, default=10)
    args = parser.parse_args()
    csv.field_size_limit(1 << 24)
    seed = ROOT.parent / "shared" / "seed"
    article = json.loads((seed / "article.json").read_text())
    comment = json.loads((seed / "comment.json").read_text())
    with (args.data_dir / "stance/fnc1/train_bodies.csv").open(newline="") as f:
        bodies = [r for r in csv.DictReader(f) if len(r["articleBody"]) > 2000][: args.articles]
    with (args.data_dir / "stance/arc/arc_bodies.csv").open(newline="") as f:
        texts = [r["articleBody"] for r in csv.DictReader(f) if r["articleBody"].strip()]
    articles = [{"id": r["Body ID"], "body": r["articleBody"]} for r in bodies]
    comments = [
        {
            "id": f"c{i}",
            "text": texts[i % len(texts)][:2000],
            "article_id": articles[i % len(articles)]["id"],
        }
        for i in range(args.comments)
    ]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        seed_s, _ = run(
            [{"id": article["id"], "title": article["title"], "body": article["body"]}],
            [{"id": comment["id"], "text": comment["text"], "article_id": article["id"]}],
            folder,
        )
        many_s, scored = run(articles, comments, folder)
    print("| run | comments | seconds | comments/s |")
    print("|---|---|---|---|")
    print(f"| seed comment, 1 article | 1 | {seed_s:.1f} | {1 / seed_s:.2f} |")
    print(
        f"| ARC comments on FNC-1 bodies | {scored} on {len(articles)} articles | {many_s:.1f} | "
        f"{scored / many_s:.1f} |"
    )


if __name__ == "__main__":
    main()
