"""An encoder wrapper that remembers every text it has embedded, on disk between runs.

Training embeds the same article sentences many times (every synthetic claim of one
article re-reads it); caching by text makes a full run minutes instead of hours on a
2-core CPU. The cache is keyed by the encoder file's hash, so a new encoder starts afresh.

The encoder must embed one text per pass, as the pipeline does: the int8 graph scales
activations by the range of its whole batch, so with batches a cached vector would depend
on which other texts happened to be missing from the cache, and `rebut eval` on a fresh
checkout would not reproduce figures measured with a warm cache. On model 0.5, batches of
32 instead of one text a pass moved grounding dev macro-F1 by 0.001 and FRANK's by 0.03.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
from tqdm import tqdm

from model.encoder import Encoder
from model.runtime import default_threads


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class CachingEncoder:
    """Same `encode` contract as model.encoder.Encoder."""

    def __init__(self, encoder: Encoder, cache_dir: Path) -> None:
        if encoder.batch_size != 1:
            raise ValueError(
                f"CachingEncoder needs an Encoder with batch_size=1, not {encoder.batch_size}: "
                "a batched int8 vector depends on its batch-mates"
            )
        self.encoder = encoder
        key = file_sha256(encoder.model_dir / encoder.onnx_file)[:16]
        self.path = cache_dir / f"embeddings-{key}.npz"
        self.vectors: dict[str, np.ndarray] = {}
        if self.path.exists():
            data = np.load(self.path)
            self.vectors = dict(zip(data["keys"].tolist(), data["vectors"]))
        self.dirty = 0

    @classmethod
    def for_model(cls, encoder_dir: Path, cache_dir: Path) -> CachingEncoder:
        """The encoder in encoder_dir, one text per pass as the pipeline runs it (passes
        side by side on every core), behind the cache in cache_dir."""
        encoder = Encoder(encoder_dir, batch_size=1, rows=default_threads()).load()
        return cls(encoder, cache_dir)

    @staticmethod
    def _key(text: str) -> str:
        return hashlib.sha1(text.encode()).hexdigest()

    def encode(self, texts: list[str]) -> np.ndarray:
        keys = [self._key(t) for t in texts]
        missing = list({k: t for k, t in zip(keys, texts) if k not in self.vectors}.items())
        # large requests go in chunks, with progress, saved as they go: a long run that is
        # stopped keeps what it has embedded
        for i in tqdm(
            range(0, len(missing), 4096),
            desc="embedding",
            unit_scale=4096,
            disable=len(missing) <= 4096,
            leave=False,
        ):
            chunk = missing[i : i + 4096]
            for (k, _), v in zip(chunk, self.encoder.encode([t for _, t in chunk])):
                self.vectors[k] = v
            self.dirty += len(chunk)
            if self.dirty > 50_000:
                self.save()
        if not texts:
            return np.zeros((0, self.encoder.dim_), dtype=np.float32)
        return np.stack([self.vectors[k] for k in keys])

    def save(self) -> None:
        if not self.dirty:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = list(self.vectors)
        tmp = self.path.with_suffix(".tmp.npz")
        np.savez(tmp, keys=np.array(keys), vectors=np.stack([self.vectors[k] for k in keys]))
        tmp.replace(self.path)
        self.dirty = 0
