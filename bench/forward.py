"""Model forward passes only: PyTorch fp32 vs ONNX fp32 vs ONNX int8, tokens/s on 1 and 2
threads, for each model the pipeline runs, on the same inputs in the same run.

    nice -n 19 python bench/forward.py [--repeats 10]

The inputs are the forward passes the pipeline makes for the seed-like comment (recorded
from the served pipeline: one text a pass, unpadded, as served), so the figures are the
serving shapes, not a best case. PyTorch fp32 and ONNX fp32 use stand-ins of the same
architecture (bench/substitutes.py). Needs `make install-dev` (torch).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from substitutes import Busy, Timed, make_session
from workload import seed_like

from model.pipeline import Pipeline

BACKENDS = ("torch-fp32", "onnx-fp32", "onnx-int8")


def record_calls(pipeline: Pipeline) -> dict[str, tuple[str, list]]:
    """{model name: (folder, [(output names, feeds)])} for one seed-like comment."""
    busy = Busy()
    sessions = {"encoder": pipeline.encoder_, **pipeline.models_}
    wrapped = {}
    for name, holder in sessions.items():
        holder.session_ = wrapped.setdefault(name, Timed(name, holder.session_, busy))
        holder.session_.record = True
    comment, article = seed_like()
    pipeline.score(comment, article)  # indexes the article: its encoder passes count too
    return {name: (str(sessions[name].model_dir), w.calls) for name, w in wrapped.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()

    calls = record_calls(Pipeline.from_dir(threads=1))
    print(f"load average before: {os.getloadavg()[0]:.2f}, {os.cpu_count()} cores")
    print("| model | passes | tokens | threads | " + " | ".join(BACKENDS) + " | int8 / torch |")
    print("|---|---|---|---|" + "---|" * (len(BACKENDS) + 1))
    for name, (folder, model_calls) in calls.items():
        tokens = sum(int(feeds["input_ids"].size) for _, feeds in model_calls)
        for threads in (1, 2):
            rates = {}
            for backend in BACKENDS:
                session = make_session(backend, Path(folder), name, threads)
                for names, feeds in model_calls[:3]:  # warm-up: first calls allocate
                    session.run(names, feeds)  # type: ignore[attr-defined]
                started = time.perf_counter()
                for _ in range(args.repeats):
                    for names, feeds in model_calls:
                        session.run(names, feeds)  # type: ignore[attr-defined]
                rates[backend] = tokens * args.repeats / (time.perf_counter() - started)
            print(
                f"| {name} | {len(model_calls)} | {tokens} | {threads} | "
                + " | ".join(f"{rates[b]:,.0f}" for b in BACKENDS)
                + f" | {rates['onnx-int8'] / rates['torch-fp32']:.1f}x |",
                flush=True,
            )
    print(f"tokens/s; load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
