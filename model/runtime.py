"""onnxruntime session settings shared by every model in the pipeline."""

from __future__ import annotations

import os

import onnxruntime as ort


def session_options(threads: int | None = None) -> ort.SessionOptions:
    """Intra-op threads default to REBUT_THREADS or the CPU count.

    Graph optimisation stays at the basic level: the extended transformer fusions made
    MiniLM int8 slower on this CPU (../shared/notes/onnx-on-this-cpu.md).
    """
    options = ort.SessionOptions()
    options.intra_op_num_threads = (
        threads or int(os.environ.get("REBUT_THREADS", 0)) or (os.cpu_count() or 1)
    )
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    return options
