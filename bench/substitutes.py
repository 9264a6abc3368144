"""PyTorch fp32 and ONNX fp32 stand-ins for the served int8 models, for the benchmarks.

The fine-tuned weights (runs/...) are not in the checkout, so each stand-in is the served
model's architecture with the base all-MiniLM-L6-v2 weights and freshly initialised heads
of the served shapes (heads.json). A forward pass costs the architecture's, not the
weights': same layers, same sequence lengths, same output sizes. The encoder is not
fine-tuned, so its stand-ins are the real thing. ONNX fp32 files are exported the way
training/ exports them and kept in bench/.fp32/ (ignored by git, never committed).

The stand-ins' outputs are not the served model's, so `Replayed` returns what the int8
model answered for the same input (recorded beforehand): the pipeline then takes the same
branches (same claims, same passes) whichever model paid for the forward pass.

Needs the training extra (torch, transformers): `make install-dev`.
"""

from __future__ import annotations

import functools
import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from model.runtime import cpu_session

FP32_DIR = Path(__file__).parent / ".fp32"
Feeds = dict[str, np.ndarray]


@functools.cache
def torch_model(model_dir: Path) -> torch.nn.Module:
    """The PyTorch fp32 module behind `model_dir` (an encoder or a multi-head folder)."""
    import transformers
    from transformers import AutoModel

    from training.multitask.model import Calibrated, HeadSpec, MultiHeadModel

    transformers.logging.set_verbosity_error()  # the base checkpoint's unused pooler
    from training.export_encoder import default_base_model, load_pooled

    base = default_base_model()
    if not (model_dir / "heads.json").is_file():
        return load_pooled(base)[0]
    heads = json.loads((model_dir / "heads.json").read_text())
    specs = [HeadSpec(h["task"], h["labels"], h["multilabel"], h["max_tokens"]) for h in heads]
    torch.manual_seed(0)
    transformer = AutoModel.from_pretrained(base, add_pooling_layer=False)
    model = MultiHeadModel(transformer, specs)
    identity = {"scale": 1.0, "bias": 0.0}  # an older folder's heads.json may carry none
    calibration = {h["task"]: h.get("calibration", identity) for h in heads}
    return Calibrated(model, specs, calibration).eval()


def onnx_fp32(model_dir: Path, name: str) -> Path:
    """The fp32 ONNX export of torch_model(model_dir), made once into bench/.fp32/."""
    path = FP32_DIR / f"{name}.onnx"
    if path.is_file():
        return path
    FP32_DIR.mkdir(exist_ok=True)
    model = torch_model(model_dir)
    outputs = (
        ["sentence_embedding", "token_embeddings"]
        if not (model_dir / "heads.json").is_file()
        else [h["task"] for h in json.loads((model_dir / "heads.json").read_text())]
    )
    ids = torch.tensor([[101, 2023, 2003, 1037, 6251, 102], [101, 2178, 2028, 102, 0, 0]])
    mask = (ids != 0).long()
    axes = {0: "batch", 1: "tokens"}
    with torch.no_grad():
        torch.onnx.export(
            model,
            (ids, mask, torch.zeros_like(ids)),
            str(path),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=outputs,
            dynamic_axes={
                "input_ids": axes,
                "attention_mask": axes,
                "token_type_ids": axes,
                **{o: ({0: "batch"} if o != "token_embeddings" else axes) for o in outputs},
            },
            opset_version=17,
            dynamo=False,  # as training/ exports: the dynamo exporter needs onnxscript
        )
    return path


class TorchSession:
    """A PyTorch module behind onnxruntime's `run(output_names, feeds)`."""

    def __init__(self, module: torch.nn.Module, output_names: list[str]) -> None:
        self.module = module
        self.output_names = output_names

    def run(self, names: list[str], feeds: Feeds) -> list[np.ndarray]:
        with torch.inference_mode():
            args = [
                torch.from_numpy(feeds[k])
                for k in ("input_ids", "attention_mask", "token_type_ids")
                if k in feeds
            ]
            if len(args) == 2:
                args.append(torch.zeros_like(args[0]))
            out = self.module(*args)
        return [out[self.output_names.index(n)].numpy() for n in names]


def make_session(backend: str, model_dir: Path, name: str, threads: int) -> object:
    """backend: "onnx-int8" (the served file), "onnx-fp32" or "torch-fp32"."""
    # the recorded passes are single unpadded inputs, as served: no attention masks
    if backend == "onnx-int8":
        return cpu_session(model_dir / "model.onnx", threads, unpadded=True)
    if backend == "onnx-fp32":
        return cpu_session(onnx_fp32(model_dir, name), threads, unpadded=True)
    torch.set_num_threads(threads)
    served = cpu_session(model_dir / "model.onnx", 1)
    return TorchSession(torch_model(model_dir), [o.name for o in served.get_outputs()])


class Busy:
    """Wall time during which at least one forward pass runs. Passes may overlap (the
    pipeline runs several at once), so the share outside them is 1 - busy / wall, not
    1 - the sum of their durations."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._active = 0
        self._since = 0.0
        self._lock = threading.Lock()

    def enter(self) -> None:
        with self._lock:
            if self._active == 0:
                self._since = time.perf_counter()
            self._active += 1

    def exit(self) -> None:
        with self._lock:
            self._active -= 1
            if self._active == 0:
                self.seconds += time.perf_counter() - self._since


class Timed:
    """Wraps a session: counts its forward passes into `busy`, and records
    (names, feeds) of each call into `calls` while `record` is on."""

    def __init__(self, name: str, session: object, busy: Busy) -> None:
        self.name, self.session, self.busy = name, session, busy
        self.record = False
        self.calls: list[tuple[list[str], Feeds]] = []

    def run(self, names: list[str], feeds: Feeds) -> list[np.ndarray]:
        self.busy.enter()
        try:
            out = self.session.run(names, feeds)  # type: ignore[attr-defined]
        finally:
            self.busy.exit()
        if self.record:
            self.calls.append((names, feeds))
        return out

    def __getattr__(self, attr: str) -> object:  # get_inputs(), get_outputs()
        return getattr(self.session, attr)


class Replayed(Timed):
    """Runs the stand-in's forward pass (timed), then answers what the int8 model answered
    for the same input ids, so the pipeline's branches stay the served model's."""

    def __init__(
        self,
        name: str,
        session: object,
        busy: Busy,
        answers: Callable[[list[str], Feeds], list[np.ndarray]],
    ) -> None:
        super().__init__(name, session, busy)
        self.answers = answers

    def run(self, names: list[str], feeds: Feeds) -> list[np.ndarray]:
        super().run(names, feeds)
        return self.answers(names, feeds)
