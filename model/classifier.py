"""A fine-tuned text classifier: tokenizer.json + an ONNX graph from token ids straight to
class probabilities (softmax inside the graph, see training/finetune.py).

It reads one text (check-worthiness of a sentence) or a pair of texts (the grounding
cross-encoder reads claim and passage together, so attention can compare them token by
token, which frozen sentence vectors cannot).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from model.runtime import cpu_session, load_tokenizer


class TextClassifier:
    """Texts (or text pairs) -> (n, len(labels)) probabilities.

    Args:
        model_dir: folder holding the ONNX file (`onnx_file`) and `tokenizer.json`.
        labels: names of the output columns, in order (from pipeline.json).
        max_tokens: longer inputs are truncated (the longer side of a pair first).
        threads: onnxruntime intra-op threads.

    One input per forward pass, for the reason model/encoder.py gives: int8 dynamic
    quantisation would make a text's probabilities depend on its batch-mates.
    """

    def __init__(
        self,
        model_dir: str | Path,
        labels: list[str],
        *,
        max_tokens: int = 128,
        onnx_file: str = "model.onnx",
        threads: int | None = None,
    ) -> None:
        self.model_dir = Path(model_dir)
        self.labels = list(labels)
        self.max_tokens = max_tokens
        self.onnx_file = onnx_file
        self.threads = threads

    def load(self) -> TextClassifier:
        self.tokenizer_ = load_tokenizer(self.model_dir, self.max_tokens)
        self.session_ = cpu_session(self.model_dir / self.onnx_file, self.threads)
        self.input_names_ = {i.name for i in self.session_.get_inputs()}
        return self

    def predict_proba(self, texts: list[str], pairs: list[str] | None = None) -> np.ndarray:
        if not hasattr(self, "session_"):
            raise RuntimeError(f"{self.model_dir}: predict_proba called before load()")
        if pairs is not None and len(pairs) != len(texts):
            raise ValueError(f"{len(texts)} texts but {len(pairs)} pairs")
        out = np.zeros((len(texts), len(self.labels)), dtype=np.float32)
        if not texts:
            return out
        inputs = list(zip(texts, pairs)) if pairs is not None else list(texts)
        for row, encoding in enumerate(self.tokenizer_.encode_batch(inputs)):
            feeds = {
                "input_ids": np.asarray([encoding.ids], dtype=np.int64),
                "attention_mask": np.asarray([encoding.attention_mask], dtype=np.int64),
            }
            if "token_type_ids" in self.input_names_:
                feeds["token_type_ids"] = np.asarray([encoding.type_ids], dtype=np.int64)
            out[row] = self.session_.run(["probabilities"], feeds)[0][0]
        return out
