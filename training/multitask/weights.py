"""Weights files: the packed base encoder, and trained weights packed small enough for a
lent GPU machine to send back (matrices as per-row int8, the rest as fp16, the frozen
word embeddings left out), with their heads and calibration in the metadata."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import torch
from safetensors.numpy import load_file, save_file
from transformers import AutoConfig, AutoModel

from training.multitask.model import FROZEN, HeadSpec, MultiHeadModel

BASE_FILES = (
    "config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "vocab.txt",
    "special_tokens_map.json",
)


def pack(state: dict[str, torch.Tensor], skip: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    """Matrices -> per-row symmetric int8 and an fp32 scale per row; the rest -> fp16."""
    out: dict[str, np.ndarray] = {}
    for name, tensor in state.items():
        if name in skip:
            continue
        w = tensor.detach().float().cpu().numpy()
        if w.ndim == 2:
            scale = np.maximum(np.abs(w).max(axis=1), 1e-12) / 127.0
            out[f"{name}::q"] = np.round(w / scale[:, None]).astype(np.int8)
            out[f"{name}::scale"] = scale.astype(np.float32)
        else:
            out[f"{name}::h"] = w.astype(np.float16)
    return out


def unpack(packed: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    state: dict[str, torch.Tensor] = {}
    for key, value in packed.items():
        name, kind = key.rsplit("::", 1)
        if kind == "q":
            scale = packed[f"{name}::scale"]
            state[name] = torch.from_numpy(value.astype(np.float32) * scale[:, None])
        elif kind == "h":
            state[name] = torch.from_numpy(value.astype(np.float32))
    return state


def pack_base(base_model: str, out_dir: Path) -> Path:
    """The base encoder as a small folder: config, tokenizer, packed weights."""
    out_dir.mkdir(parents=True, exist_ok=True)
    model = AutoModel.from_pretrained(base_model)
    save_file(pack(model.state_dict()), str(out_dir / "weights.safetensors"))
    for name in BASE_FILES:
        if (Path(base_model) / name).is_file():
            shutil.copy(Path(base_model) / name, out_dir / name)
    return out_dir


def load_base(base_dir: Path) -> torch.nn.Module:
    """The transformer as pack_base left it: unpack(pack(w)) is what both sides start from."""
    config = AutoConfig.from_pretrained(base_dir)
    model = AutoModel.from_config(config, add_pooling_layer=False)
    missing, _ = model.load_state_dict(
        unpack(load_file(str(base_dir / "weights.safetensors"))), strict=False
    )
    assert not missing, f"base weights lack {missing}"
    return model


def load_trained(weights: Path, base_dir: Path) -> tuple[MultiHeadModel, list[HeadSpec], dict]:
    from safetensors import safe_open

    with safe_open(str(weights), "np") as f:
        meta = f.metadata()
    specs = [HeadSpec(**s) for s in json.loads(meta["specs"])]
    model = MultiHeadModel(load_base(base_dir), specs)
    state = unpack(load_file(str(weights)))
    state[f"transformer.{FROZEN}"] = model.transformer.get_parameter(FROZEN).detach().clone()
    model.load_state_dict(state)
    return model.eval(), specs, json.loads(meta["calibration"])
