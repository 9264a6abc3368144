"""A fine-tuned multi-head classifier: tokenizer.json, heads.json and one ONNX graph from
token ids to every head's calibrated probabilities (training/multitask/export.py exports it).

rebut serves two of them. `text` reads one text and answers moderation (one sigmoid per
attribute) and check-worthiness (softmax) in the same pass; `pair` reads two texts joined
by [SEP] and answers grounding (claim vs evidence) and stance (comment vs article context),
so attention compares the two token by token, which frozen sentence vectors cannot.

A head may name n-gram models to blend into some of its labels (heads.json `blend`,
model/ngram.py): they read the same texts, so every caller of `predict` (the pipeline,
`rebut eval`, the fairness and obfuscation checks) gets the blended probabilities.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tokenizers import Encoding

from model.ngram import NgramBlend, NgramModel, blend_logits
from model.runtime import Int8Choice, cpu_session, load_tokenizer, row_pool, submit_rows


@dataclass(frozen=True)
class HeadInfo:
    task: str
    labels: list[str]
    multilabel: bool
    max_tokens: int
    blends: tuple[NgramBlend, ...] = ()


class MultiHeadClassifier:
    """Texts (or text pairs) -> {task: (n, len(labels)) probabilities}.

    Args:
        model_dir: folder holding `onnx_file`, `tokenizer.json` and `heads.json`.
        onnx_file: model.onnx (int8) or model.fp32.onnx where one was kept.
        threads: onnxruntime intra-op threads.
        rows: how many inputs run at once (each its own forward pass; see runtime.submit_rows).
        pool: run the passes on this pool instead of one of `rows` threads of its own (the
            Pipeline shares one among its models, as model/encoder.py says).

    Inputs are truncated to a head's `max_tokens` (the longer side of a pair first). One
    input per forward pass, for the reason model/encoder.py gives: int8
    dynamic quantisation would make a text's probabilities depend on its batch-mates.
    """

    def __init__(
        self,
        model_dir: str | Path,
        *,
        onnx_file: str = "model.onnx",
        threads: int | None = None,
        rows: int = 1,
        pool: ThreadPoolExecutor | None = None,
        int8: Int8Choice = "auto",
    ) -> None:
        self.model_dir = Path(model_dir)
        self.onnx_file = onnx_file
        self.threads = threads
        self.rows = rows
        self.pool = pool
        self.int8 = int8

    def load(self) -> MultiHeadClassifier:
        heads = json.loads((self.model_dir / "heads.json").read_text())
        self.heads_ = {
            h["task"]: HeadInfo(
                h["task"],
                h["labels"],
                h["multilabel"],
                h["max_tokens"],
                tuple(NgramBlend(**b) for b in h.get("blend", [])),
            )
            for h in heads
        }
        for head in self.heads_.values():
            unknown = [b.label for b in head.blends if b.label not in head.labels]
            if unknown:
                raise ValueError(f"{self.model_dir}: {head.task} has no label {unknown}")
        self.ngrams_ = {
            b.onnx_file: NgramModel(self.model_dir / b.onnx_file, self.threads).load()
            for head in self.heads_.values()
            for b in head.blends
        }
        for head in self.heads_.values():
            for b in head.blends:
                self.ngrams_[b.onnx_file].column(b.label)  # the graph holds the label
        # one tokenizer per truncation length: a pass made for one head truncates as
        # that head was trained
        self.tokenizers_ = {
            n: load_tokenizer(self.model_dir, n)
            for n in {h.max_tokens for h in self.heads_.values()}
        }
        self.max_tokens_ = max(self.tokenizers_)
        # every pass is one text (or pair) without padding
        self.session_ = cpu_session(
            self.model_dir / self.onnx_file, self.threads, unpadded=True, int8=self.int8
        )
        self.outputs_ = [o.name for o in self.session_.get_outputs()]
        missing = set(self.heads_) - set(self.outputs_)
        if missing:
            raise ValueError(f"{self.model_dir}: graph has no output for {sorted(missing)}")
        self.input_names_ = {i.name for i in self.session_.get_inputs()}
        self.pool_ = self.pool if self.pool is not None else row_pool(self.rows)
        return self

    def truncates(self, text: str) -> bool:
        """Whether the model reads only the start of this text."""
        return bool(self.tokenizers_[self.max_tokens_].encode(text).overflowing)

    def labels(self, task: str) -> list[str]:
        return self.heads_[task].labels

    def predict(
        self, texts: list[str], pairs: list[str] | None = None, for_task: str | None = None
    ) -> dict[str, np.ndarray]:
        """Every head's probabilities; inputs are truncated as `for_task` was trained
        (default: the longest of the heads). N-gram blends apply to single texts, for
        `for_task`'s head (every head when it is None)."""
        return self.predict_later(texts, pairs, for_task)()

    def predict_later(
        self, texts: list[str], pairs: list[str] | None = None, for_task: str | None = None
    ) -> Callable[[], dict[str, np.ndarray]]:
        """`predict`, with its passes queued on the pool now: returns a function that waits
        for them and returns what `predict` would. A caller queues the passes of several
        models in the order they should run before it waits for any (Pipeline.score_batch).
        The function waits once; later calls return the same arrays."""
        if not hasattr(self, "session_"):
            raise RuntimeError(f"{self.model_dir}: predict called before load()")
        if pairs is not None and len(pairs) != len(texts):
            raise ValueError(f"{len(texts)} texts but {len(pairs)} pairs")
        inputs = list(zip(texts, pairs)) if pairs is not None else list(texts)
        length = self.heads_[for_task].max_tokens if for_task else self.max_tokens_

        def run(encoding: Encoding) -> list[np.ndarray]:
            feeds = {
                "input_ids": np.asarray([encoding.ids], dtype=np.int64),
                "attention_mask": np.asarray([encoding.attention_mask], dtype=np.int64),
            }
            if "token_type_ids" in self.input_names_:
                feeds["token_type_ids"] = np.asarray([encoding.type_ids], dtype=np.int64)
            return self.session_.run(self.outputs_, feeds)

        encodings = self.tokenizers_[length].encode_batch(inputs) if inputs else []
        # longest first, so that on a pool the short passes fill in beside the long ones
        order = sorted(range(len(encodings)), key=lambda i: -len(encodings[i].ids))
        queued = submit_rows(self.pool_, run, [encodings[i] for i in order])
        passes = [queued[k] for k in np.argsort(order)]  # back in input order
        # n-gram models read single texts; one pass per graph, however many of its labels
        # are blended, for `for_task`'s head (a pass made for another head blends nothing)
        blends = [
            (task, b)
            for task, head in self.heads_.items()
            if pairs is None and texts and for_task in (None, task)
            for b in head.blends
        ]
        ngram_files = sorted({b.onnx_file for _, b in blends})

        def ngram_pass(onnx_file: str) -> np.ndarray:
            return self.ngrams_[onnx_file].predict(texts)

        ngram_passes = dict(zip(ngram_files, submit_rows(self.pool_, ngram_pass, ngram_files)))

        @functools.cache
        def result() -> dict[str, np.ndarray]:
            out = {
                task: np.zeros((len(texts), len(h.labels)), dtype=np.float32)
                for task, h in self.heads_.items()
            }
            for row, outputs in enumerate(f.result() for f in passes):
                for task, probabilities in zip(self.outputs_, outputs):
                    if task in out:
                        out[task][row] = probabilities[0]
            for task, b in blends:
                k = self.heads_[task].labels.index(b.label)
                ngram = ngram_passes[b.onnx_file].result()
                column = ngram[:, self.ngrams_[b.onnx_file].column(b.label)]
                out[task][:, k] = blend_logits(out[task][:, k], column, b.weight, b.scale, b.bias)
            return out

        return result
