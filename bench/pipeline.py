"""The whole pipeline per comment: p50 / p99 latency and comments/s for the seed-like
workload (5-sentence comment, indexed 40-sentence article), with the served ONNX int8
models and with PyTorch fp32 and ONNX fp32 stand-ins, and the share of each comment's
time spent outside model forward passes (tokenising, sentence splitting, retrieval,
language detection, building the result).

    nice -n 19 python bench/pipeline.py [--runs 100] [--rounds 5] [--threads N] [--rows N]

Each backend runs with one forward pass at a time and with `--rows` passes at once (the
served default: as many as threads); "best" compares each backend's faster setting. The
stand-ins (bench/substitutes.py) pay for each forward pass and then answer what the int8
model answered for the same input, so every backend makes the same passes and the same
claims. Backends take turns in rounds, so a change in the machine's load touches all of
them alike. Needs `make install-dev` (torch).
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from substitutes import Busy, Feeds, Replayed, Timed, make_session
from workload import seed_like

from model.pipeline import Pipeline

BACKENDS = ("torch-fp32", "onnx-fp32", "onnx-int8")


def answers_of(session: object) -> Callable[[list[str], Feeds], list[np.ndarray]]:
    """The served session's outputs for each input, computed once per distinct input."""
    cache: dict[tuple, list[np.ndarray]] = {}

    def answer(names: list[str], feeds: Feeds) -> list[np.ndarray]:
        key = (tuple(names), *(v.tobytes() for _, v in sorted(feeds.items())))
        if key not in cache:
            cache[key] = session.run(names, feeds)  # type: ignore[attr-defined]
        return cache[key]

    return answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100, help="comments per setting")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--rows", type=int, default=None, help="passes at once (as served)")
    args = parser.parse_args()

    comment, article = seed_like()
    pipeline = Pipeline.from_dir(threads=args.threads, rows=args.rows)
    pipeline.index_article(article)  # indexed before timing, as for a busy article
    holders = {"encoder": pipeline.encoder_, **pipeline.models_}
    served = {name: h.session_ for name, h in holders.items()}
    pools = {name: h.pool_ for name, h in holders.items()}
    rows = pipeline.encoder_.rows
    busy = Busy()
    sessions: dict[str, dict[str, Timed]] = {}
    for backend in BACKENDS:
        sessions[backend] = {}
        for name, holder in holders.items():
            if backend == "onnx-int8":
                sessions[backend][name] = Timed(name, served[name], busy)
            else:
                stand_in = make_session(backend, Path(holder.model_dir), name, args.threads)
                answers = answers_of(served[name])
                sessions[backend][name] = Replayed(name, stand_in, busy, answers)

    settings = [(b, r) for b in BACKENDS for r in sorted({1, rows})]
    latencies: dict[tuple[str, int], list[float]] = {s: [] for s in settings}
    forward = dict.fromkeys(settings, 0.0)
    per_round = max(1, args.runs // args.rounds)
    loads = [os.getloadavg()[0]]
    for round_ in range(args.rounds + 1):  # round 0 warms up (allocations, answer cache)
        for backend, at_once in settings:
            for name, holder in holders.items():
                holder.session_ = sessions[backend][name]
                holder.pool_ = pools[name] if at_once > 1 else None
            if backend == "torch-fp32":
                import torch

                torch.set_num_threads(args.threads)
            for _ in range(per_round if round_ else 3):
                busy.seconds = 0.0
                started = time.perf_counter()
                pipeline.score(comment, article)
                took = time.perf_counter() - started
                if round_:
                    latencies[(backend, at_once)].append(took)
                    forward[(backend, at_once)] += busy.seconds
        loads.append(os.getloadavg()[0])

    n = per_round * args.rounds
    print(f"{os.cpu_count()} cores, {args.threads} threads a pass, {n} comments a setting")
    print(f"load average during: {min(loads):.2f} to {max(loads):.2f}")
    print("| backend | passes at once | p50 ms | p99 ms | comments/s | outside forward |")
    print("|---|---|---|---|---|---|")
    rate = {s: len(t) / sum(t) for s, t in latencies.items()}
    for setting in settings:
        ms = np.array(latencies[setting]) * 1000
        print(
            f"| {setting[0]} | {setting[1]} | {np.percentile(ms, 50):.1f} | "
            f"{np.percentile(ms, 99):.1f} | {rate[setting]:.2f} | "
            f"{1 - forward[setting] / sum(latencies[setting]):.1%} |"
        )
    best = {b: max(rate[s] for s in settings if s[0] == b) for b in BACKENDS}
    print(
        "best comments/s over PyTorch fp32's best: "
        + ", ".join(f"{b} {best[b] / best['torch-fp32']:.2f}x" for b in BACKENDS)
    )


if __name__ == "__main__":
    main()
