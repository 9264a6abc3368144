"""The shared sentence encoder: tokenizer.json + an ONNX graph that returns L2-normalised
mean-pooled embeddings (pooling and normalisation are inside the graph, see
training/export.py), so every head reads the same vectors in training and serving."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol

import numpy as np

from model.runtime import Int8Choice, cpu_session, load_tokenizer, map_rows, row_pool


class TextEncoder(Protocol):
    """Anything that embeds texts as Encoder does (training wraps it in a cache)."""

    def encode(self, texts: list[str]) -> np.ndarray: ...


class Encoder:
    """Texts -> (n, dim) float32 unit vectors.

    Args:
        model_dir: folder holding `model.onnx` (or the file named by `onnx_file`) and
            `tokenizer.json`.
        max_tokens: longer texts are truncated; sentences rarely reach it.
        batch_size: texts per forward pass, sorted by length so padding stays small.
            The bundled int8 model runs with 1: dynamic quantisation scales activations
            by the range of the whole batch, so a text's vector would change with its
            batch-mates (up to 0.03 per component, measured). One text a pass makes a
            comment's scores the same in the API, in batch and alone, and on this AVX2 CPU
            costs about 14% against batches of 8 (bench/).
        threads: onnxruntime intra-op threads.
        rows: batches that run at once (model/runtime.py map_rows).
        pool: run the batches on this pool instead of one of `rows` threads of its own;
            the Pipeline gives every model the same one, so that the passes of all its
            models together never outnumber the cores.
    """

    def __init__(
        self,
        model_dir: str | Path,
        *,
        onnx_file: str = "model.onnx",
        max_tokens: int = 128,
        batch_size: int = 32,
        threads: int | None = None,
        rows: int = 1,
        pool: ThreadPoolExecutor | None = None,
        int8: Int8Choice = "auto",
    ) -> None:
        self.int8 = int8
        self.model_dir = Path(model_dir)
        self.onnx_file = onnx_file
        self.max_tokens = max_tokens
        self.batch_size = batch_size
        self.threads = threads
        self.rows = rows
        self.pool = pool

    def load(self) -> Encoder:
        # padding is per batch, in encode(), to the batch's longest text
        self.tokenizer_ = load_tokenizer(self.model_dir, self.max_tokens)
        # one text a pass is never padded; batches are, and need the masks
        self.session_ = cpu_session(
            self.model_dir / self.onnx_file,
            self.threads,
            unpadded=self.batch_size == 1,
            int8=self.int8,
        )
        self.input_names_ = {i.name for i in self.session_.get_inputs()}
        self.dim_ = int(self.session_.get_outputs()[0].shape[-1])
        self.pool_ = self.pool if self.pool is not None else row_pool(self.rows)
        return self

    def encode(self, texts: list[str]) -> np.ndarray:
        if not hasattr(self, "session_"):
            raise RuntimeError("Encoder.encode called before load()")
        out = np.zeros((len(texts), self.dim_), dtype=np.float32)
        if not texts:
            return out
        encodings = self.tokenizer_.encode_batch(texts)
        # longest first: the batches need little padding either way, and on a pool the
        # short ones then fill in beside the long ones instead of one long pass ending alone
        order = np.argsort([-len(e.ids) for e in encodings], kind="stable")
        batches = [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)]

        def run(idx: np.ndarray) -> np.ndarray:
            width = max(len(encodings[j].ids) for j in idx)
            ids = np.zeros((len(idx), width), dtype=np.int64)
            mask = np.zeros((len(idx), width), dtype=np.int64)
            for row, j in enumerate(idx):
                n = len(encodings[j].ids)
                ids[row, :n] = encodings[j].ids
                mask[row, :n] = 1
            feeds = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self.input_names_:
                feeds["token_type_ids"] = np.zeros_like(ids)
            return self.session_.run(["sentence_embedding"], feeds)[0]

        for idx, vectors in zip(batches, map_rows(self.pool_, run, batches)):
            out[idx] = vectors
        return out
