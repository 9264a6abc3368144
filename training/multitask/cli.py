"""`python -m training.multitask`: pack the base encoder, fit, read weights back from ONNX,
recalibrate and export (the commands of training/multitask/__main__.py)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from training.multitask.calibrate import recalibrate
from training.multitask.export import export, from_onnx
from training.multitask.fit import fit
from training.multitask.loss import BALANCE
from training.multitask.weights import pack_base

DESCRIPTION = "One fine-tuned encoder, several task heads: train, calibrate, export to ONNX."


def _numbers(text: str, kind: type = int) -> dict[str, Any]:
    """ "a=1,b=2" -> {"a": 1, "b": 2}"""
    return {k: kind(v) for k, v in (kv.split("=") for kv in text.split(",") if kv)}


def build_parser() -> argparse.ArgumentParser:
    """The commands and their options (recipes check a step's options against it)."""
    # run as a package, argparse would name it __main__.py
    parser = argparse.ArgumentParser(prog="python -m training.multitask", description=DESCRIPTION)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("pack-base")
    p.add_argument("--base-model", default=None)
    p.add_argument("--out", type=Path, required=True)
    p = sub.add_parser("fit")
    p.add_argument("--inputs", type=Path, required=True)
    p.add_argument("--base", type=Path, required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--tasks", required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--learning-rate", type=float, default=5e-5)
    p.add_argument("--deadline-s", type=float, default=float("inf"))
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--max-tokens", default="", help="e.g. stance=384,grounding=192")
    p.add_argument("--init", type=Path, default=None, help="trained weights to go on from")
    p.add_argument("--balance", choices=BALANCE, default="label", help="softmax loss weights")
    p.add_argument(
        "--repeat", default="", help="rows of a source per epoch: arc=3, or *=0.2,rebut_frames=1"
    )
    p = sub.add_parser("from-onnx")
    p.add_argument("--model-dir", type=Path, required=True, help="an exported text/ or pair/")
    p.add_argument("--base", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p = sub.add_parser("recalibrate")
    p.add_argument("--weights", type=Path, required=True)
    p.add_argument("--base", type=Path, required=True)
    p.add_argument("--inputs", type=Path, required=True)
    p = sub.add_parser("export")
    p.add_argument("--weights", type=Path, required=True)
    p.add_argument("--base", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--keep-fp32", action="store_true")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    if args.command == "pack-base":
        from training.export_encoder import default_base_model

        pack_base(args.base_model or default_base_model(), args.out)
    elif args.command == "fit":
        lengths = _numbers(args.max_tokens)
        fit(
            args.inputs,
            args.base,
            args.name,
            args.tasks.split(","),
            args.out,
            args.epochs,
            args.batch_size,
            args.learning_rate,
            args.deadline_s,
            limit=args.limit,
            max_tokens=lengths,
            init=args.init,
            balance=args.balance,
            repeat=_numbers(args.repeat, float),
        )
    elif args.command == "from-onnx":
        print(from_onnx(args.model_dir, args.base, args.out))
    elif args.command == "recalibrate":
        print(json.dumps(recalibrate(args.weights, args.base, args.inputs)))
    else:
        export(args.weights, args.base, args.out, args.keep_fp32)
