"""The exported encoder computes what the PyTorch model computes, on real sentences."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="needs the train extra")

from model.encoder import Encoder  # noqa: E402
from model.pipeline import BUNDLED_MODEL_DIR  # noqa: E402
from model.sentences import split_sentences  # noqa: E402
from training.export_encoder import (  # noqa: E402
    default_base_model,
    export_fp32,
    load_pooled,
    shift_weights_to_uint8,
)

SEED = Path(__file__).resolve().parents[1] / ".." / "shared" / "seed"
FALLBACK = [
    "The city council approved the 2026 budget on Tuesday by a vote of 7 to 2.",
    "You are all idiots and should be ashamed.",
    "Is this really what the mayor promised?",
]


@pytest.fixture(scope="module")
def sentences() -> list[str]:
    if not SEED.exists():
        return FALLBACK
    body = json.loads((SEED / "article.json").read_text())["body"]
    text = json.loads((SEED / "comment.json").read_text())["text"]
    return [s.text for s in split_sentences(body) + split_sentences(text)] + FALLBACK


@pytest.fixture(scope="module")
def reference(sentences: list[str]) -> tuple[object, object, np.ndarray]:
    model, tokenizer = load_pooled(default_base_model())
    batch = tokenizer(sentences, padding=True, truncation=True, max_length=128, return_tensors="pt")
    with torch.no_grad():
        vectors = model(**batch)[0].numpy()
    return model, tokenizer, vectors


def test_fp32_onnx_matches_pytorch(tmp_path, sentences, reference) -> None:
    model, tokenizer, expected = reference
    export_fp32(model, tokenizer, tmp_path / "model.onnx")
    (tmp_path / "tokenizer.json").write_bytes(
        (Path(default_base_model()) / "tokenizer.json").read_bytes()
    )
    got = Encoder(tmp_path, max_tokens=128).load().encode(sentences)
    np.testing.assert_allclose(got, expected, atol=1e-4)


def test_bundled_int8_encoder_stays_close_to_pytorch(sentences, reference) -> None:
    _, _, expected = reference
    got = Encoder(BUNDLED_MODEL_DIR / "encoder", max_tokens=128).load().encode(sentences)
    cosine = (got * expected).sum(axis=1)
    assert cosine.min() > 0.95, cosine.min()
    assert cosine.mean() > 0.98, cosine.mean()


def test_multi_head_classifier_onnx_matches_pytorch(tmp_path, sentences) -> None:
    """The multi-head export (calibration and sigmoid / softmax inside the graph) against
    the PyTorch forward pass, on single sentences and on (claim, passage) pairs, fp32 and
    int8; the weights need no training for this."""
    from safetensors.numpy import save_file
    from transformers import AutoTokenizer

    from model.classifier import MultiHeadClassifier
    from training.multitask.export import export
    from training.multitask.model import FROZEN, Calibrated, HeadSpec, MultiHeadModel
    from training.multitask.weights import load_base, load_trained, pack, pack_base

    base = pack_base(default_base_model(), tmp_path / "base")
    specs = [
        HeadSpec("moderation", ["a", "b"], True, 128),
        HeadSpec("stance", ["x", "y", "z"], False, 128),
    ]
    torch.manual_seed(0)
    model = MultiHeadModel(load_base(base), specs).eval()
    calibration = {
        "moderation": {"scale": [0.8, 1.3], "bias": [-0.2, 0.1]},
        "stance": {"scale": [0.5] * 3, "bias": [0.0] * 3},
    }
    meta = {
        "specs": json.dumps([s.__dict__ for s in specs]),
        "calibration": json.dumps(calibration),
    }
    weights = tmp_path / "m.safetensors"
    save_file(pack(model.state_dict(), skip=(f"transformer.{FROZEN}",)),
              str(weights), metadata=meta)  # fmt: skip
    export(weights, base, tmp_path / "onnx", keep_fp32=True)
    trained, specs, calibration = load_trained(weights, base)
    reference = Calibrated(trained, specs, calibration).eval()
    tokenizer = AutoTokenizer.from_pretrained(base)
    pairs = list(zip(sentences[:-1], sentences[1:]))

    singles = _pytorch_answers(reference, tokenizer, [{"a": s} for s in sentences], 128)
    doubles = _pytorch_answers(reference, tokenizer, [{"a": a, "b": b} for a, b in pairs], 128)
    for onnx_file, atol in (("model.fp32.onnx", 1e-4), ("model.onnx", 0.06)):
        served = MultiHeadClassifier(tmp_path / "onnx", onnx_file=onnx_file).load()
        got = served.predict(sentences)
        np.testing.assert_allclose(got["moderation"], singles[0], atol=atol)
        np.testing.assert_allclose(got["stance"], singles[1], atol=atol)
        got = served.predict([a for a, _ in pairs], [b for _, b in pairs])
        np.testing.assert_allclose(got["stance"], doubles[1], atol=atol)


@pytest.mark.parametrize("folder", ["text", "pair"])
def test_weights_read_back_from_a_bundled_int8_model_compute_what_it_computes(
    tmp_path, sentences, folder: str
) -> None:
    """`multitask from-onnx` (weights to go on training from when only the committed ONNX
    is left): the PyTorch model it rebuilds answers what the int8 graph answers, up to the
    int8 graph's own activation rounding. A matrix put in the wrong layer, or not
    transposed, makes the answers unrelated."""
    from transformers import AutoTokenizer

    from model.classifier import MultiHeadClassifier
    from training.multitask.export import from_onnx
    from training.multitask.model import Calibrated
    from training.multitask.weights import load_trained, pack_base

    base = pack_base(default_base_model(), tmp_path / "base")
    weights = from_onnx(BUNDLED_MODEL_DIR / folder, base, tmp_path / "w.safetensors")
    trained, specs, calibration = load_trained(weights, base)
    rebuilt = Calibrated(trained, specs, calibration).eval()
    tokenizer = AutoTokenizer.from_pretrained(base)
    served = MultiHeadClassifier(BUNDLED_MODEL_DIR / folder).load()
    texts = sentences[:8]
    pairs = sentences[1:9] if folder == "pair" else None
    got = served.predict(texts, pairs)
    rows = [{"a": t, **({"b": pairs[k]} if pairs else {})} for k, t in enumerate(texts)]
    answers = _pytorch_answers(rebuilt, tokenizer, rows, max(s.max_tokens for s in specs))
    gaps = np.concatenate([np.abs(got[s.task] - a).ravel() for s, a in zip(specs, answers)])
    # int8 activations move a probability where the answer is not confident (seen on
    # model 0.4: text mean 0.004 max 0.028, pair mean 0.022 max 0.107); a misplaced
    # matrix moves answers across the whole range
    assert gaps.mean() < 0.04, gaps.mean()
    assert gaps.max() < 0.2, gaps.max()


def test_shifted_weights_multiply_exactly_where_int8_weights_would_saturate() -> None:
    """A MatMulInteger whose pairs of products overflow 16 bits (255 x 127 x 2): with int8
    weights a CPU without VNNI returns about half of the true sums (seen on AVX2: 1,048,544
    for 2,072,640). After shift_weights_to_uint8 every CPU returns the exact integers."""
    import onnx
    import onnxruntime as ort
    from onnx import numpy_helper

    from model.runtime import saturation_probe

    model = saturation_probe()
    weights = numpy_helper.to_array(model.graph.initializer[0])
    k = weights.shape[0]
    assert shift_weights_to_uint8(model) == 2  # the weight and its zero point
    assert shift_weights_to_uint8(model) == 0  # a shifted model is left as it is
    onnx.checker.check_model(model)
    activations = np.full((4, k), 255, np.uint8)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    got = session.run(None, {"a": activations})[0]
    np.testing.assert_array_equal(got, activations.astype(np.int64) @ weights.astype(np.int64))


@pytest.mark.parametrize("folder", ["encoder", "text", "pair", "checkworthy"])
def test_bundled_models_carry_no_int8_matmul_weights(folder: str) -> None:
    """The committed models compute the model card's figures on every CPU only if no
    MatMulInteger weight is int8 (shift_weights_to_uint8 says why)."""
    import onnx

    model = onnx.load(str(BUNDLED_MODEL_DIR / folder / "model.onnx"))
    weights = {t.name: t.data_type for t in model.graph.initializer}
    matmuls = [n for n in model.graph.node if n.op_type == "MatMulInteger"]
    assert matmuls
    for node in matmuls:
        assert weights[node.input[1]] == onnx.TensorProto.UINT8, node.name


def _pytorch_answers(
    model: torch.nn.Module, tokenizer: object, rows: list[dict], max_tokens: int
) -> list[np.ndarray]:
    """Each output of a Calibrated model (training/multitask/model.py) over rows ({"a",
    "b"?}), one row per pass as served: one (rows, labels) array per head."""
    from training.multitask.batches import _encode

    out = []
    for row in rows:
        batch = _encode(tokenizer, [row], max_tokens)
        with torch.no_grad():
            out.append([p.numpy()[0] for p in model(**batch)])
    return [np.stack([o[k] for o in out]) for k in range(len(out[0]))]
