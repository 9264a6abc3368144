"""The service under load: requests/s and p50 / p99 latency of `POST /v1/comments:score`
for 1, 4 and 16 concurrent clients on loopback, the server's peak RSS, and `rebut score`
(the batch command) on the same comments, in the same run, for comparison.

    nice -n 19 python bench/service.py [--requests 2000] [--small 200]

Every request is the seed-like comment (bench/workload.py, a fresh id each time) against
its 40-sentence article, stored once beforehand with `PUT /v1/articles/{id}` as a CMS
would. The load generator is bounded: N client threads, each with one keep-alive
connection, send the next request when the last one answered, until `--requests` (16
clients) or `--small` (1 and 4 clients) have been sent. An error is any answer but 200,
or a failed connection. The batch command runs first, alone; then `rebut serve`
(REBUT_AUTH=off, no rate limit, a scratch SQLite store) with nothing else running.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
from workload import seed_like

ARTICLE_ID = "bench-40"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def scratch_server(folder: Path) -> Iterator[tuple[int, subprocess.Popen]]:
    """`rebut serve` on a free port with a scratch SQLite store in `folder`, no auth and no
    rate limit, once it answers /readyz; stopped on exit. Yields (port, process)."""
    port = free_port()
    env = {
        **os.environ,
        "REBUT_AUTH": "off",
        "REBUT_RATE_LIMIT": "0",
        "REBUT_DATABASE_URL": f"sqlite:///{folder}/bench.db",
        "REBUT_LOG_LEVEL": "warning",
    }
    rebut = str(Path(sys.executable).parent / "rebut")
    server = subprocess.Popen(
        [rebut, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(600):
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                c.request("GET", "/readyz")
                if c.getresponse().status == 200:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        else:
            raise SystemExit("rebut serve did not become ready")
        yield port, server
    finally:
        server.terminate()
        server.wait(timeout=30)


def peak_rss_mb(pid: int) -> float:
    """VmHWM: the most resident memory the process ever had."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for {pid}")


def batch_command(folder: Path, n: int, comment: dict, article: dict) -> dict:
    (folder / "a.jsonl").write_text(json.dumps(article) + "\n")
    rows = [{**comment, "id": f"b{i}"} for i in range(n)]
    (folder / "c.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    rebut = str(Path(sys.executable).parent / "rebut")
    command = [rebut, "score", "--articles", "a.jsonl", "--comments", "c.jsonl"]
    done = subprocess.run(
        [*command, "--out", "out.jsonl"], cwd=folder, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)


def load(
    port: int,
    clients: int,
    total: int,
    body: Callable[[str], dict],
    path: str = "/v1/comments:score",
) -> dict:
    """`total` requests from `clients` threads; latencies in ms and the error count.
    `body` gives each request's JSON body from a fresh request id."""
    latencies: list[float] = []
    errors = [0]
    sent = [0]
    lock = threading.Lock()

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        while True:
            with lock:
                if sent[0] >= total:
                    break
                sent[0] += 1
                i = sent[0]
            payload = json.dumps(body(f"s{clients}-{i}"))
            started = time.perf_counter()
            try:
                connection.request("POST", path, payload, {"content-type": "application/json"})
                response = connection.getresponse()
                response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                ok = False
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            took = (time.perf_counter() - started) * 1000
            with lock:
                latencies.append(took)
                errors[0] += not ok
        connection.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - started
    ms = np.array(latencies)
    return {
        "clients": clients,
        "requests": len(ms),
        "errors": errors[0],
        "per_s": len(ms) / seconds,
        "p50": float(np.percentile(ms, 50)),
        "p99": float(np.percentile(ms, 99)),
        "load": os.getloadavg()[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="with 16 clients")
    parser.add_argument("--small", type=int, default=200, help="with 1 and 4 clients")
    parser.add_argument("--batch", type=int, default=1000, help="comments for `rebut score`")
    args = parser.parse_args()
    comment_in, article_in = seed_like()
    comment = {"id": "c", "text": comment_in.text, "article_id": ARTICLE_ID}
    article = {"id": ARTICLE_ID, "title": article_in.title, "body": article_in.body}

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        batch = batch_command(folder, args.batch, comment, article)
        batch["load"] = os.getloadavg()[0]
        print(f"rebut score: {batch}", file=sys.stderr, flush=True)

        with scratch_server(folder) as (port, server):
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            body = json.dumps({"title": article["title"], "body": article["body"]})
            json_type = {"content-type": "application/json"}
            c.request("PUT", f"/v1/articles/{ARTICLE_ID}", body, json_type)
            assert c.getresponse().status in (200, 201), "could not store the article"

            def scored(request_id: str) -> dict:  # a fresh comment id: every request is stored
                return {"comment": {**comment, "id": request_id}}

            load(port, 1, 10, scored)  # warm-up
            rows = []
            for clients, total in ((1, args.small), (4, args.small), (16, args.requests)):
                rows.append(load(port, clients, total, scored))
                print(rows[-1], file=sys.stderr, flush=True)
            rss = peak_rss_mb(server.pid)

    rate = batch["comments_per_s"]
    print(f"{os.cpu_count()} cores; seed-like comment against a stored 40-sentence article")
    print(
        f"batch command (`rebut score`, {batch['scored']} comments, loading included): "
        f"{rate:.2f} comments/s, load average after {batch['load']:.2f}"
    )
    header = "clients | requests | errors | req/s | vs batch | p50 ms | p99 ms | p99/p50 | load"
    print(f"| {header} |\n" + "|---" * 9 + "|")
    for r in rows:
        print(
            f"| {r['clients']} | {r['requests']} | {r['errors']} | {r['per_s']:.2f} | "
            f"{r['per_s'] / rate:.0%} | {r['p50']:.0f} | {r['p99']:.0f} | "
            f"{r['p99'] / r['p50']:.2f} | {r['load']:.2f} |"
        )
    print(f"server peak RSS (VmHWM): {rss:.0f} MB")


if __name__ == "__main__":
    main()
