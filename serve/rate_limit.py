"""A token bucket per API key, in process memory.

Each key may make `per_minute` requests in a burst and then one every 60/per_minute
seconds. With several server processes each keeps its own buckets, so the effective limit
is per process; docs/operations.md says so.
"""

from __future__ import annotations

import math
import threading
import time


class TokenBuckets:
    def __init__(self, per_minute: int) -> None:
        self.capacity = float(per_minute)
        self.refill_per_s = per_minute / 60.0
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)
        self._lock = threading.Lock()  # handlers run in a thread pool

    def take(self, key: str) -> int:
        """Spend one token for `key`: 0 when allowed, else whole seconds until a token."""
        if self.capacity <= 0:
            return 0
        with self._lock:
            at = time.monotonic()
            tokens, last = self._buckets.get(key, (self.capacity, at))
            tokens = min(self.capacity, tokens + (at - last) * self.refill_per_s)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, at)
                return 0
            self._buckets[key] = (tokens, at)
            return max(1, math.ceil((1.0 - tokens) / self.refill_per_s))
