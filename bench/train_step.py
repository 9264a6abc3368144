"""One fine-tuning step of a multi-head model (forward, loss, backward, AdamW), float32
against bfloat16 autocast, on this machine's CPU: seconds a step, median.

    python bench/train_step.py [--batch-size 32] [--tokens 256] [--steps 6]

The model is training/multitask/model.py's MultiHeadModel over the packaged base encoder with
one stance-sized head, the word embeddings frozen as in training; the batch is random
token ids, every position attended (the longest rows training sees). `rebut train` picks
bfloat16 by itself where the CPU multiplies it natively (`bf16_autocast`); this bench says
what that choice is worth here. Needs `make install-dev` (torch).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import torch

from training.export_encoder import default_base_model
from training.multitask.model import FROZEN, HeadSpec, MultiHeadModel, bf16_autocast
from training.multitask.weights import load_base, pack_base


def step_seconds(bf16: bool, batch_size: int, tokens: int, steps: int, base: Path) -> float:
    torch.manual_seed(0)
    spec = HeadSpec("stance", ["a", "b", "c", "d"], False, tokens)
    model = MultiHeadModel(load_base(base), [spec]).train()
    model.transformer.get_parameter(FROZEN).requires_grad_(False)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=1e-5)
    ids = torch.randint(1000, 20000, (batch_size, tokens))
    batch = {"input_ids": ids, "attention_mask": torch.ones_like(ids), "token_type_ids": 0 * ids}
    target = torch.randint(0, 4, (batch_size,))
    times = []
    for _ in range(steps + 1):  # the first step warms up the kernels
        start = time.perf_counter()
        with torch.autocast(device_type="cpu", dtype=torch.bfloat16, enabled=bf16):
            logits = model(**batch, task="stance")
        loss = torch.nn.functional.cross_entropy(logits.float(), target)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times[1:])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--tokens", type=int, default=256)
    p.add_argument("--steps", type=int, default=6)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = pack_base(default_base_model(), Path(tmp) / "base")
        report = {
            "threads": torch.get_num_threads(),
            "bf16_native": bf16_autocast("cpu"),
            "batch": [args.batch_size, args.tokens],
            "fp32_s": round(step_seconds(False, args.batch_size, args.tokens, args.steps, base), 3),
            "bf16_s": round(step_seconds(True, args.batch_size, args.tokens, args.steps, base), 3),
        }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
