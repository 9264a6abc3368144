"""Loading what every model in the pipeline loads: onnxruntime sessions with shared
settings, and tokenizers set up for one text (or pair) at a time."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import hashlib
import os
import tempfile
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import Literal, TypeVar

import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper, numpy_helper
from tokenizers import Tokenizer

# glibc's mallopt parameter for the number of malloc arenas (malloc.h)
M_ARENA_MAX = -8

T = TypeVar("T")
# how int8 weights are run (int8_weights)
Int8Choice = Literal["auto", "signed", "unsigned"]
R = TypeVar("R")


def default_threads() -> int:
    return os.cpu_count() or 1


def session_options(threads: int | None = None) -> ort.SessionOptions:
    """Intra-op threads default to the CPU count.

    Graph optimisation stays at the basic level: the extended transformer fusions made
    MiniLM int8 slower on this CPU (../shared/notes/onnx-on-this-cpu.md), and they change
    the int8 outputs in the fourth decimal, so results would differ from the model card's.

    Spinning is off: after a run, each session's idle workers busy-wait for more work.
    A comment runs four sessions in turn, so on 2 cores the idle sessions' spinning
    threads took the CPU from the one working; turning it off made the seed-like comment
    3x faster (305 -> 107 ms, bench/pipeline.py) with identical outputs.
    """
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or default_threads()
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


def cpu_session(
    path: str | Path,
    threads: int | None = None,
    *,
    unpadded: bool = False,
    int8: Int8Choice = "auto",
) -> ort.InferenceSession:
    """A session on the CPU; int8 graphs get signed weights where that is exact here
    (`int8_weights`).

    unpadded: the caller feeds only inputs without padding (an attention mask of ones),
        so the graph's attention masking is dropped (`drop_attention_masks`): the same
        outputs bit for bit, and a 317-token pass 83 -> 60 ms on one Xeon core.
    """
    options, providers = session_options(threads), ["CPUExecutionProvider"]
    signed = int8_weights(int8) == "signed"
    if signed or unpadded:
        graph = onnx.load(str(path))
        changed = sign_weights(graph) if signed else 0
        changed += drop_attention_masks(graph) if unpadded else 0
        if changed:
            # Loaded from a file, not from bytes: a session made from bytes kept ~20 MB
            # more per model (5 models: 246 vs 136 MB), against the serving RSS budget.
            with tempfile.TemporaryDirectory(prefix="rebut-graph-") as folder:
                changed_path = Path(folder) / "model.onnx"
                onnx.save(graph, str(changed_path))
                del graph
                return ort.InferenceSession(
                    str(changed_path), sess_options=options, providers=providers
                )
    return ort.InferenceSession(str(path), sess_options=options, providers=providers)


def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name) if name else None
    except OSError:
        return None


def limit_malloc_arenas(arenas: int = 2) -> None:
    """Cap glibc's malloc arenas (M_ARENA_MAX), as MALLOC_ARENA_MAX would: by default each
    thread that allocates may get an arena of its own, up to 8 per core, and a server's
    request threads and onnxruntime's pool leave each one holding freed memory. Capped at
    2, the service's peak RSS under 16 clients went 610 -> 598 MB (bench/service.py).
    Call it before starting threads; elsewhere than glibc nothing is done."""
    libc = _libc()
    mallopt = getattr(libc, "mallopt", None)
    if mallopt is not None:
        mallopt(M_ARENA_MAX, arenas)


def release_free_memory() -> None:
    """Hand the C heap's free pages back to the system (glibc's malloc_trim): loading the
    graphs frees hundreds of MB that would otherwise stay in the process's RSS. Elsewhere
    (macOS, musl) there is nothing to call and nothing is done."""
    gc.collect()
    trim = getattr(_libc(), "malloc_trim", None)
    if trim is not None:
        trim(0)


# -- attention masks: dropped where no input is padded ---------------------------------------


def drop_attention_masks(graph: onnx.ModelProto) -> int:
    """Run each self-attention of `graph` without its mask; returns the attentions changed.

    The exported BERT attention computes softmax(scores + where(mask, 0, -inf)), then
    replaces NaN (a row with every key masked) by 0. For an input without padding the
    mask adds 0.0 to every score, which changes no bit, and no row is all masked, so the
    guard never fires. Yet on a 317-token pass these elementwise ops over 12 x 317 x 317
    scores took 28% of the time (profiled, onnxruntime 1.32). So for unpadded inputs
    the scores go to the softmax as they are, and the softmax's output straight on.
    Graphs of another shape are left as they are (0 changed)."""
    nodes = graph.graph.node
    producer = {out: node for node in nodes for out in node.output}
    consumers: dict[str, list[onnx.NodeProto]] = {}
    for node in nodes:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    dropped: set[int] = set()
    for softmax in [n for n in nodes if n.op_type == "Softmax"]:
        add = producer.get(softmax.input[0])
        if add is None or add.op_type != "Add":
            continue
        masks = [k for k, name in enumerate(add.input) if _is_mask(producer.get(name), producer)]
        users = consumers.get(softmax.output[0], [])
        guards = [u for u in users if u.op_type == "Where"]
        if len(masks) != 1 or len(users) != 2 or len(guards) != 1:
            continue
        is_nan = next((u for u in users if u.op_type == "IsNaN"), None)
        if is_nan is None or list(guards[0].input[::2]) != [is_nan.output[0], softmax.output[0]]:
            continue  # not where(isnan(softmax), 0, softmax)
        softmax.input[0] = add.input[1 - masks[0]]
        for user in consumers.get(guards[0].output[0], []):
            for k, name in enumerate(user.input):
                if name == guards[0].output[0]:
                    user.input[k] = softmax.output[0]
        dropped.update(id(n) for n in (add, is_nan, guards[0]))
    if not dropped:
        return 0
    # then every node whose output nothing reads any more (the masks' own computation)
    needed = {out.name for out in graph.graph.output}
    live: list[onnx.NodeProto] = []
    for node in reversed([n for n in nodes if id(n) not in dropped]):
        if any(out in needed for out in node.output):
            live.append(node)
            needed.update(node.input)
    live.reverse()
    del nodes[:]
    nodes.extend(live)
    return len(dropped) // 3


def _is_mask(node: onnx.NodeProto | None, producer: dict[str, onnx.NodeProto]) -> bool:
    """where(attend, 0, -inf): a padding mask, adding nothing where every token attends
    (not a bias, whose values would be other numbers)."""
    if node is None or node.op_type != "Where":
        return False
    values = [_scalar(producer.get(name)) for name in node.input[1:]]
    return values[0] == 0.0 and values[1] is not None and values[1] < -1e30


def _scalar(node: onnx.NodeProto | None) -> float | None:
    """The value of a Constant node holding one number, else None."""
    if node is None or node.op_type != "Constant" or len(node.attribute) != 1:
        return None
    value = numpy_helper.to_array(node.attribute[0].t)
    return float(value.reshape(-1)[0]) if value.size == 1 else None


# -- int8 weights: stored unsigned, run signed where the CPU multiplies them exactly ----------


def int8_weights(choice: str = "auto") -> Literal["signed", "unsigned"]:
    """How int8 graphs feed their weights to MatMulInteger on this machine.

    The committed graphs store their int8 weights as uint8 (zero point moved by 128, the
    same integers: training/export_encoder.py), because onnxruntime's u8 x s8 kernel adds
    pairs of products in saturating 16-bit lanes on CPUs without VNNI, and the u8 x u8
    kernel is exact everywhere. On a CPU with VNNI (or AMX) the u8 x s8 kernel is exact
    too, and much faster than u8 x u8: the seed-like comment took 204-247 -> 131-133 ms
    median on a 2-core Xeon with AVX-512 VNNI and AMX (bench/claim_latency.py, alternating
    runs). So weights are moved back to int8 at load time where `signed_int8_is_exact()`;
    the outputs are bitwise the same (tests/test_runtime.py).

    choice: `auto` (default), `unsigned` (always the stored uint8), `signed` (always int8:
    for measuring; inexact on a CPU that saturates). The service takes it from
    REBUT_INT8_WEIGHTS (serve/config.py).
    """
    choice = choice.strip().lower() or "auto"
    if choice == "auto":
        return "signed" if signed_int8_is_exact() else "unsigned"
    if choice in ("signed", "unsigned"):
        return choice  # type: ignore[return-value]
    raise ValueError(f"int8 weights {choice!r}: use auto, signed or unsigned")


@lru_cache(maxsize=1)
def signed_int8_is_exact() -> bool:
    """Whether onnxruntime's u8 x s8 MatMulInteger returns exact sums on this CPU: asked of
    the kernel itself rather than of CPU flags, with 1, 4 and 64 rows, since a kernel may be
    picked by shape. Without VNNI the sums come back about halved."""
    probe = saturation_probe()
    weights = numpy_helper.to_array(probe.graph.initializer[0]).astype(np.int64)
    session = ort.InferenceSession(
        probe.SerializeToString(),
        sess_options=session_options(1),
        providers=["CPUExecutionProvider"],
    )
    for rows in (1, 4, 64):
        a = np.full((rows, weights.shape[0]), 255, np.uint8)
        if not np.array_equal(session.run(None, {"a": a})[0], a.astype(np.int64) @ weights):
            return False
    return True


def saturation_probe() -> onnx.ModelProto:
    """y = a @ w: a MatMulInteger with int8 weights (the first initializer, 64 x 8, +-127)
    whose pairs of products overflow 16 bits when `a` is 255 (255 x 127 x 2 > 32767)."""
    k, n = 64, 8
    weights = np.full((k, n), 127, np.int8)
    weights[:, 1::2] = -127
    graph = helper.make_graph(
        [helper.make_node("MatMulInteger", ["a", "w", "a_zero", "w_zero"], ["y"])],
        "saturation_probe",
        [helper.make_tensor_value_info("a", onnx.TensorProto.UINT8, [None, k])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.INT32, [None, n])],
        [
            numpy_helper.from_array(weights, "w"),
            numpy_helper.from_array(np.uint8(0), "a_zero"),
            numpy_helper.from_array(np.zeros(n, np.int8), "w_zero"),
        ],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def sign_weights(graph: onnx.ModelProto) -> int:
    """Store every uint8 MatMulInteger weight (and its zero point) of `graph` as int8: the
    inverse of training/export_encoder.py's shift_weights_to_uint8. Returns the tensors
    changed."""
    return move_weights(graph, onnx.TensorProto.INT8)


def move_weights(graph: onnx.ModelProto, to: int) -> int:
    """Store every MatMulInteger weight of `graph` and its zero point as `to`
    (TensorProto.INT8 or UINT8), moved by 128: (w + 128) - (z + 128) == w - z, so the
    integer products are the same and nothing is re-rounded. Weights already of type `to`
    are left as they are. Returns the number of tensors changed."""
    source, shift = (
        (onnx.TensorProto.UINT8, -128)
        if to == onnx.TensorProto.INT8
        else (onnx.TensorProto.INT8, 128)
    )
    tensors = {t.name: t for t in graph.graph.initializer}
    changed: set[str] = set()
    for node in graph.graph.node:
        if node.op_type != "MatMulInteger" or len(node.input) < 2:
            continue
        weight = tensors.get(node.input[1])
        if weight is None or weight.name in changed or weight.data_type != source:
            continue  # not a stored weight, or already moved
        # the weight and its zero point move together, or the products change
        zero = tensors.get(node.input[3]) if len(node.input) > 3 and node.input[3] else None
        if zero is None or (zero.name not in changed and zero.data_type != source):
            raise ValueError(f"{node.name}: weight without a zero point of its type to move")
        for tensor in (weight, zero):
            if tensor.name not in changed:
                values = numpy_helper.to_array(tensor).astype(np.int16) + shift
                dtype = np.int8 if to == onnx.TensorProto.INT8 else np.uint8
                tensor.CopyFrom(numpy_helper.from_array(values.astype(dtype), tensor.name))
                changed.add(tensor.name)
    return len(changed)


def row_pool(rows: int) -> ThreadPoolExecutor | None:
    """Threads that run one forward pass each at a time (None: run them in turn)."""
    return ThreadPoolExecutor(rows, thread_name_prefix="rebut-rows") if rows > 1 else None


def map_rows(pool: ThreadPoolExecutor | None, run: Callable[[T], R], rows: Iterable[T]) -> list[R]:
    """run(row) for every row, in order; several at once on `pool`.

    The passes stay one input each (results do not depend on what runs beside them);
    onnxruntime releases the GIL during a run, and at batch 1 two single-threaded passes
    side by side do more than one pass on two threads."""
    return [f.result() for f in submit_rows(pool, run, rows)]


def submit_rows(
    pool: ThreadPoolExecutor | None, run: Callable[[T], R], rows: Iterable[T]
) -> list[Future[R]]:
    """map_rows without the waiting: run(row) for every row queued on `pool` now, in
    order (without a pool, run now)."""
    if pool is not None:
        return [pool.submit(run, r) for r in rows]
    done = []
    for r in rows:
        future: Future[R] = Future()
        future.set_result(run(r))
        done.append(future)
    return done


def load_tokenizer(model_dir: str | Path, max_tokens: int) -> Tokenizer:
    """tokenizer.json truncated to max_tokens (the longer side of a pair first), unpadded.

    The file sentence-transformers ships pads every text to a fixed 128 tokens; callers
    pad per batch instead, so short texts cost short passes.

    Models that ship the same file share one tokenizer per length (~6.5 MB each; the
    bundled models all read MiniLM's vocabulary): it is never changed after this, and
    encoding does not change it either."""
    content = (Path(model_dir) / "tokenizer.json").read_bytes()
    key = (hashlib.sha256(content).hexdigest(), max_tokens)
    with _TOKENIZERS_LOCK:
        if key not in _TOKENIZERS:
            tokenizer = Tokenizer.from_str(content.decode("utf-8"))
            tokenizer.enable_truncation(max_length=max_tokens, strategy="longest_first")
            tokenizer.no_padding()
            _TOKENIZERS[key] = tokenizer
        return _TOKENIZERS[key]


# (sha256 of tokenizer.json, max_tokens) -> its tokenizer, shared (load_tokenizer)
_TOKENIZERS: dict[tuple[str, int], Tokenizer] = {}
_TOKENIZERS_LOCK = threading.Lock()
