"""`rebut score` on a generated archive: comments/s with 1 and 2 local workers and on Ray.

    nice -n 19 python bench/batch_scaling.py [--comments 20000] [--articles 200] [--skip-ray]

Articles and comments are generated from templates with a fixed seed (no data set
needed), written as JSONL to a temp folder, and scored by the real command. Each rate is
the command's own summary (`comments_per_s`: scored comments over the whole run, model
loading and reading included), so it is what a newsroom scoring its archive sees. The
ratio is each rate over the single-process baseline. With --workers 1 the one process
runs onnxruntime on every core; with N workers each process gets cores // N threads.

The load average at the end of each run is printed beside it: on a shared machine another
job's load changes a rate far more than anything measured here, so compare runs only
when their load is alike.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

PLACES = ["Leeds", "Bristol", "Hull", "York", "Derby", "Bath", "Truro", "Ely"]
BODIES = ["council", "health board", "police force", "university", "water company"]
VERBS = ["approved", "rejected", "delayed", "cut", "doubled"]
THINGS = ["new homes", "bus routes", "hospital beds", "school places", "speed cameras"]
OPINIONS = [
    "This is a disgrace.",
    "Great news for the town.",
    "Nobody asked the residents, as usual.",
    "You people will believe anything.",
    "Why does this always happen here?",
    "Well done to everyone involved.",
    "Utter nonsense from start to finish, you clowns.",
]


def fact(rng: random.Random) -> str:
    return (
        f"The {rng.choice(BODIES)} in {rng.choice(PLACES)} {rng.choice(VERBS)} "
        f"{rng.randint(2, 900)} {rng.choice(THINGS)} in {rng.randint(1990, 2024)}."
    )


def generate(n_comments: int, n_articles: int, seed: int = 0) -> tuple[list[dict], list[dict]]:
    rng = random.Random(seed)
    articles = [
        {
            "id": f"a{a}",
            "title": f"{rng.choice(PLACES)} {rng.choice(BODIES)} decision",
            "body": " ".join(fact(rng) for _ in range(rng.randint(15, 40))),
        }
        for a in range(n_articles)
    ]
    comments = []
    for i in range(n_comments):
        parts = [fact(rng) for _ in range(rng.randint(0, 3))] + [rng.choice(OPINIONS)]
        rng.shuffle(parts)
        comments.append(
            {"id": f"c{i}", "text": " ".join(parts), "article_id": f"a{rng.randrange(n_articles)}"}
        )
    return articles, comments


def run(folder: Path, name: str, *extra: str) -> dict:
    rebut = str(Path(sys.executable).parent / "rebut")
    command = [rebut, "score", "--articles", "a.jsonl", "--comments", "c.jsonl"]
    command += ["--out", f"{name}.jsonl", *extra]
    completed = subprocess.run(command, cwd=folder, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise SystemExit(f"{name} failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=20_000)
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--skip-ray", action="store_true")
    args = parser.parse_args()
    articles, comments = generate(args.comments, args.articles)
    runs = [("1 worker", ()), ("2 workers", ("--workers", "2"))]
    if not args.skip_ray:
        runs.append(("Ray, 2 actors", ("--engine", "ray", "--workers", "2")))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "a.jsonl").write_text("".join(json.dumps(a) + "\n" for a in articles))
        (folder / "c.jsonl").write_text("".join(json.dumps(c) + "\n" for c in comments))
        results = []
        for label, extra in runs:
            summary = run(folder, label.split(",")[0].replace(" ", "_"), *extra)
            summary["load"] = os.getloadavg()[0]
            results.append((label, summary))
            print(f"{label}: {summary}", file=sys.stderr, flush=True)
    baseline = results[0][1]["comments_per_s"]
    print(f"{args.comments} comments on {args.articles} articles, {os.cpu_count()} cores")
    print("| run | scored | seconds | comments/s | ratio to 1 worker | load average after |")
    print("|---|---|---|---|---|---|")
    for label, s in results:
        print(
            f"| {label} | {s['scored']} | {s['seconds']:.1f} | {s['comments_per_s']:.1f} | "
            f"{s['comments_per_s'] / baseline:.2f} | {s['load']:.1f} |"
        )


if __name__ == "__main__":
    main()
