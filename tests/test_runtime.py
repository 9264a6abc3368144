"""Sessions as model/runtime.py builds them: the int8 weights run signed where this CPU
multiplies them exactly, and then every bundled model computes the same bits."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from model.classifier import MultiHeadClassifier
from model.encoder import Encoder
from model.pipeline import BUNDLED_MODEL_DIR
from model.runtime import (
    cpu_session,
    drop_attention_masks,
    int8_weights,
    load_tokenizer,
    sign_weights,
    signed_int8_is_exact,
)
from model.sentences import split_sentences

SEED = Path(__file__).resolve().parents[1] / ".." / "shared" / "seed"
SENTENCES = [
    "The city council approved the 2026 budget on Tuesday by a vote of 7 to 2.",
    "You are all idiots and should be ashamed.",
    "Is this really what the mayor promised?",
    "Ths is sooo st00pid lol!!! 💩",
]


def _texts() -> tuple[list[str], str]:
    """Sentences, and a long article body (pairs with it fill the stance head's 320 tokens)."""
    if not SEED.exists():
        return SENTENCES, " ".join(SENTENCES * 20)
    body = json.loads((SEED / "article.json").read_text())["body"]
    comment = json.loads((SEED / "comment.json").read_text())["text"]
    return [s.text for s in split_sentences(comment)] + SENTENCES, body


def _outputs(folder: str, setting: str) -> list[np.ndarray]:
    sentences, body = _texts()
    if folder == "encoder":
        encoder = Encoder(BUNDLED_MODEL_DIR / folder, threads=1, int8=setting).load()
        return [encoder.encode(sentences)]
    model = MultiHeadClassifier(BUNDLED_MODEL_DIR / folder, threads=1, int8=setting).load()
    out = [*model.predict(sentences).values()]
    if folder == "pair":  # both heads' lengths: grounding (160 tokens) and stance (320)
        for task in ("grounding", "stance"):
            out += model.predict(sentences, [body] * len(sentences), task).values()
    return out


@pytest.mark.parametrize("folder", ["encoder", "text", "pair", "checkworthy"])
def test_signed_weights_compute_the_bundled_models_bit_for_bit(folder: str) -> None:
    """Where the u8 x s8 kernel is exact, running the weights signed changes no bit of any
    output; where it is not, `auto` keeps the stored uint8 weights."""
    if not signed_int8_is_exact():
        assert int8_weights() == "unsigned"
        pytest.skip("this CPU's u8 x s8 kernel saturates: signed weights are not used here")
    assert int8_weights() == "signed"
    stored = _outputs(folder, "unsigned")
    signed = _outputs(folder, "signed")
    assert len(stored) == len(signed) > 0
    for a, b in zip(stored, signed):
        np.testing.assert_array_equal(a, b)


def test_sign_weights_moves_weight_and_zero_point_and_keeps_the_products() -> None:
    """Stored uint8 weights with zero points become int8 ones, moved by 128, once; the
    integer products stay the same (on this CPU's kernel where it is exact)."""
    k, n = 16, 4
    rng = np.random.default_rng(0)
    stored = rng.integers(0, 256, (k, n)).astype(np.uint8)
    zero = rng.integers(100, 156, n).astype(np.uint8)
    graph = helper.make_graph(
        [helper.make_node("MatMulInteger", ["a", "w", "a_zero", "w_zero"], ["y"])],
        "sign",
        [helper.make_tensor_value_info("a", TensorProto.UINT8, [None, k])],
        [helper.make_tensor_value_info("y", TensorProto.INT32, [None, n])],
        [
            numpy_helper.from_array(stored, "w"),
            numpy_helper.from_array(np.uint8(7), "a_zero"),
            numpy_helper.from_array(zero, "w_zero"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    before = model.SerializeToString()
    assert sign_weights(model) == 2
    assert sign_weights(model) == 0  # already signed: left as it is
    onnx.checker.check_model(model)
    tensors = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    assert tensors["w"].dtype == np.int8 and tensors["w_zero"].dtype == np.int8
    np.testing.assert_array_equal(tensors["w"].astype(int), stored.astype(int) - 128)
    np.testing.assert_array_equal(tensors["w_zero"].astype(int), zero.astype(int) - 128)
    assert tensors["a_zero"].dtype == np.uint8  # activations are not weights
    a = rng.integers(0, 256, (3, k)).astype(np.uint8)
    expected = (a.astype(int) - 7) @ (stored.astype(int) - zero.astype(int))
    unsigned = ort.InferenceSession(before, providers=["CPUExecutionProvider"])
    np.testing.assert_array_equal(unsigned.run(None, {"a": a})[0], expected)
    if signed_int8_is_exact():
        signed = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
        np.testing.assert_array_equal(signed.run(None, {"a": a})[0], expected)


def test_an_unknown_int8_weights_setting_is_refused() -> None:
    with pytest.raises(ValueError, match="int8 weights 'fast': use auto, signed or"):
        int8_weights("fast")
    assert int8_weights("Unsigned ") == "unsigned"


@pytest.mark.parametrize("folder", ["encoder", "text", "pair", "checkworthy"])
def test_unpadded_sessions_run_without_attention_masks_and_change_no_bit(folder: str) -> None:
    """Every one of the six attentions of each bundled model loses its mask in a session
    for unpadded inputs, and the outputs stay the same bit for bit, on sentences and on
    pairs up to the stance head's 320 tokens."""
    path = BUNDLED_MODEL_DIR / folder / "model.onnx"
    assert drop_attention_masks(onnx.load(str(path))) == 6
    masked, unmasked = cpu_session(path, 1), cpu_session(path, 1, unpadded=True)
    sentences, body = _texts()
    tokenizer = load_tokenizer(BUNDLED_MODEL_DIR / folder, 320)
    encodings = [tokenizer.encode(s) for s in sentences]
    if folder == "pair":
        encodings += [tokenizer.encode(s, body) for s in sentences]
        assert max(len(e.ids) for e in encodings) == 320
    names = {i.name for i in masked.get_inputs()}
    for encoding in encodings:
        feeds = {
            "input_ids": np.asarray([encoding.ids], dtype=np.int64),
            "attention_mask": np.asarray([encoding.attention_mask], dtype=np.int64),
            "token_type_ids": np.asarray([encoding.type_ids], dtype=np.int64),
        }
        feeds = {k: v for k, v in feeds.items() if k in names}
        for a, b in zip(masked.run(None, feeds), unmasked.run(None, feeds), strict=True):
            np.testing.assert_array_equal(a, b)


def test_padded_batches_keep_their_attention_masks() -> None:
    """The encoder pads a batch of several texts, so only its one-text-a-pass setting
    drops the masks: a short text padded beside a long one keeps its vector."""
    short, long = "Rebels held the town.", " ".join(SENTENCES)
    single = Encoder(BUNDLED_MODEL_DIR / "encoder", threads=1, batch_size=1).load()
    batched = Encoder(BUNDLED_MODEL_DIR / "encoder", threads=1, batch_size=2).load()
    alone = single.encode([short])[0]
    padded = batched.encode([short, long])[0]
    # int8 batch-mates move a vector a little (cosine 0.990 here); the padding, a lot
    assert float(alone @ padded) > 0.95
    unmasked = cpu_session(BUNDLED_MODEL_DIR / "encoder" / "model.onnx", 1, unpadded=True)
    ids = single.tokenizer_.encode_batch([short, long])
    width = max(len(e.ids) for e in ids)
    feeds = {
        "input_ids": np.zeros((2, width), np.int64),
        "attention_mask": np.zeros((2, width), np.int64),
    }
    for row, e in enumerate(ids):
        feeds["input_ids"][row, : len(e.ids)] = e.ids
        feeds["attention_mask"][row, : len(e.ids)] = 1
    if "token_type_ids" in {i.name for i in unmasked.get_inputs()}:
        feeds["token_type_ids"] = np.zeros((2, width), np.int64)
    wrong = unmasked.run(["sentence_embedding"], feeds)[0][0]
    assert float(alone @ wrong) < 0.9  # 0.745: the short text attends to the padding
