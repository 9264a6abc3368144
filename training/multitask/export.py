"""From trained weights to the ONNX graph that serving loads, and back: weights to go on
training from when only the committed int8 graph is left."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import torch
from safetensors.numpy import save_file
from transformers import AutoTokenizer

from training.multitask.batches import _encode
from training.multitask.model import FROZEN, Calibrated, HeadSpec, MultiHeadModel
from training.multitask.weights import load_base, load_trained, pack


def export(weights: Path, base_dir: Path, out_dir: Path, keep_fp32: bool = False) -> Path:
    """model.onnx (int8 per-channel; model.fp32.onnx too if keep_fp32), tokenizer.json and
    heads.json (each output's task, labels, multilabel, max_tokens)."""
    from training.export_encoder import quantize_int8

    model, specs, calibration = load_trained(weights, base_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tokenizer = AutoTokenizer.from_pretrained(base_dir)
    sample = _encode(tokenizer, [{"a": "a short sentence"}, {"a": "and another, longer one"}], 32)
    axes = {0: "batch", 1: "tokens"}
    fp32 = out_dir / "model.fp32.onnx"
    with torch.no_grad():
        torch.onnx.export(
            Calibrated(model, specs, calibration).eval(),
            (sample["input_ids"], sample["attention_mask"], sample["token_type_ids"]),
            str(fp32),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=[s.task for s in specs],
            dynamic_axes={
                "input_ids": axes,
                "attention_mask": axes,
                "token_type_ids": axes,
                **{s.task: {0: "batch"} for s in specs},
            },
            opset_version=17,
            dynamo=False,
        )
    quantize_int8(fp32, out_dir / "model.onnx")
    if not keep_fp32:
        fp32.unlink()
    shutil.copy(base_dir / "tokenizer.json", out_dir / "tokenizer.json")
    heads = [{**s.__dict__, "calibration": calibration[s.task]} for s in specs]
    (out_dir / "heads.json").write_text(json.dumps(heads, indent=1) + "\n")
    return out_dir


def from_onnx(model_dir: Path, base_dir: Path, out: Path) -> Path:
    """Weights to go on training from (`fit --init`), read back from an exported int8
    model folder (model.onnx + heads.json) when the trained weights file is gone: only
    the ONNX files are committed. Each quantised matrix is dequantised, so the result is
    the int8 model's own weights (its dev figures, not the fp32 model's); the frozen word
    embeddings come from the base as always."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(model_dir / "model.onnx")).graph
    arrays = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    consumers: dict[str, list] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)

    def bias_after(tensor: str) -> str:
        """The `.bias` initializer added to what this weight multiplies (the Linear)."""
        frontier = [tensor]
        for _ in range(6):
            nodes = [n for t in frontier for n in consumers.get(t, [])]
            for n in nodes:
                if n.op_type == "Add":
                    named = [x for x in n.input if x in arrays and x.endswith(".bias")]
                    if named:
                        return named[0]
            frontier = [o for n in nodes for o in n.output]
        raise ValueError(f"{model_dir}: no bias follows {tensor}")

    state: dict[str, torch.Tensor] = {}
    for name, value in arrays.items():
        if name.endswith("_quantized"):
            stem = name.removesuffix("_quantized")
            q = value.astype(np.float32) - arrays[f"{stem}_zero_point"].astype(np.float32)
            w = q * arrays[f"{stem}_scale"].astype(np.float32)
            if stem.endswith(".weight"):  # embeddings (quantised per tensor)
                state[stem.removeprefix("model.")] = torch.from_numpy(w)
            else:  # a Linear, stored [in, out] for MatMul: torch wants [out, in]
                linear = bias_after(name).removeprefix("model.").removesuffix(".bias")
                state[f"{linear}.weight"] = torch.from_numpy(w.T)
        elif name.startswith("model.") and not name.endswith(("_scale", "_zero_point")):
            state[name.removeprefix("model.")] = torch.from_numpy(value.astype(np.float32))
    heads = json.loads((model_dir / "heads.json").read_text())
    specs = [HeadSpec(h["task"], h["labels"], h["multilabel"], h["max_tokens"]) for h in heads]
    model = MultiHeadModel(load_base(base_dir), specs)
    state[f"transformer.{FROZEN}"] = model.transformer.get_parameter(FROZEN).detach().clone()
    model.load_state_dict(state)  # strict: every parameter found, nothing left over
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "specs": json.dumps([s.__dict__ for s in specs]),
        "calibration": json.dumps({h["task"]: h["calibration"] for h in heads}),
    }
    save_file(pack(model.state_dict(), skip=(f"transformer.{FROZEN}",)), str(out), metadata=meta)
    return out
