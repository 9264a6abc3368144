"""One expensive comment against the service: how long a comment of many short sentences
takes, what it costs the server's memory, and how long a small request sent meanwhile
waits.

    python bench/long_comment.py [--sentences 5000] [--rounds 3]

`rebut serve` (bench/service.py's scratch server) is warmed with the seed-like comment
against its stored 40-sentence article; then, each round, one client sends the long
comment ("Hi. " repeated, 20,000 characters at 5,000) against that article and another
sends the seed-like comment 0.3 s later. Reported: the long comment's time and status,
the small request's time, the server's RSS before and after (VmRSS) and its peak (VmHWM).
"""

from __future__ import annotations

import argparse
import http.client
import json
import tempfile
import threading
import time
from pathlib import Path

from service import ARTICLE_ID, scratch_server
from workload import seed_like


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} for {pid}")


def post(port: int, path: str, body: dict) -> tuple[int, float]:
    """(status, seconds) of one POST on a fresh connection."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    started = time.perf_counter()
    connection.request("POST", path, json.dumps(body), {"content-type": "application/json"})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response.status, time.perf_counter() - started


def send_into(answers: dict, port: int, body: dict) -> None:
    answers["long"] = post(port, "/v1/comments:score", body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    comment, article = seed_like()
    small = {"comment": comment.model_dump(exclude_none=True)}
    long_text = "Hi. " * args.sentences
    with tempfile.TemporaryDirectory() as folder, scratch_server(Path(folder)) as (port, server):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        body = json.dumps({"title": article.title, "body": article.body})
        connection.request(
            "PUT", f"/v1/articles/{ARTICLE_ID}", body, {"content-type": "application/json"}
        )
        assert connection.getresponse().status == 200
        for _ in range(5):
            assert post(port, "/v1/comments:score", small)[0] == 200
        before = rss_mb(server.pid)
        print(f"warm server: RSS {before:.0f} MB, peak {rss_mb(server.pid, 'VmHWM'):.0f} MB")
        for k in range(args.rounds):
            answers: dict[str, tuple[int, float]] = {}
            long_body = {
                "comment": {"id": f"long-{k}", "article_id": ARTICLE_ID, "text": long_text}
            }
            sender = threading.Thread(target=send_into, args=(answers, port, long_body))
            sender.start()
            time.sleep(0.3)
            answers["small"] = post(port, "/v1/comments:score", small)
            sender.join()
            print(
                f"round {k + 1}: long comment ({len(long_text):,} characters) HTTP "
                f"{answers['long'][0]} in {answers['long'][1]:.2f} s; small request sent "
                f"0.3 s later: HTTP {answers['small'][0]} in {answers['small'][1]:.2f} s; "
                f"RSS {rss_mb(server.pid):.0f} MB (+{rss_mb(server.pid) - before:.0f}), "
                f"peak {rss_mb(server.pid, 'VmHWM'):.0f} MB"
            )


if __name__ == "__main__":
    main()
