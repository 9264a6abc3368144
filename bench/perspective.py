"""Perspective's analyze under load: requests/s and p50 / p99 latency of
`POST /v1alpha1/comments:analyze` with `doNotStore` true and false, side by side.

    nice -n 19 python bench/perspective.py [--requests 200] [--clients 4] [--rounds 3]

Every request is the seed comment (5 sentences, bench/workload.py) with all seven
attributes and span annotations, as a moderation client moving from Perspective sends it.
A stored result keeps every check-worthy claim for the moderators' pages; a result that is
not stored is read only for its attributes, so rebut skips the claim passes for it. The
two settings take turns for `--rounds` rounds against one `rebut serve` (bench/service.py
`scratch_server`), so a change in the machine's load touches both alike.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import tempfile
from pathlib import Path

from service import load, scratch_server
from workload import seed_like

ANALYZE = "/v1alpha1/comments:analyze"
ATTRIBUTES = ["TOXICITY", "SEVERE_TOXICITY", "INSULT", "THREAT", "IDENTITY_ATTACK", "PROFANITY"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="per setting and round")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    comment, _article = seed_like()

    def body(_request_id: str, do_not_store: bool) -> dict:  # Perspective's carry no id
        return {
            "comment": {"text": comment.text},
            "requestedAttributes": {name: {} for name in [*ATTRIBUTES, "SPAM"]},
            "spanAnnotations": True,
            "doNotStore": do_not_store,
        }

    rows: dict[bool, list[dict]] = {False: [], True: []}
    with tempfile.TemporaryDirectory() as tmp, scratch_server(Path(tmp)) as (port, _server):
        load(port, 1, 10, functools.partial(body, do_not_store=False), ANALYZE)  # warm-up
        for _ in range(args.rounds):
            for do_not_store in (False, True):
                setting = functools.partial(body, do_not_store=do_not_store)
                row = load(port, args.clients, args.requests, setting, ANALYZE)
                rows[do_not_store].append(row)
                print({"doNotStore": do_not_store, **row}, file=sys.stderr, flush=True)

    print(f"{os.cpu_count()} cores; {args.clients} clients; the seed comment, all attributes")
    print("| doNotStore | requests | errors | req/s (rounds) | p50 ms | p99 ms | load |")
    print("|---|---|---|---|---|---|---|")
    for do_not_store, runs in rows.items():
        rates = ", ".join(f"{r['per_s']:.1f}" for r in runs)
        p50 = sorted(r["p50"] for r in runs)[len(runs) // 2]
        p99 = sorted(r["p99"] for r in runs)[len(runs) // 2]
        print(
            f"| {str(do_not_store).lower()} | {sum(r['requests'] for r in runs)} | "
            f"{sum(r['errors'] for r in runs)} | {rates} | {p50:.0f} | {p99:.0f} | "
            f"{runs[-1]['load']:.2f} |"
        )


if __name__ == "__main__":
    main()
