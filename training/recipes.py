"""Recipes: the steps that make a shipped model, as a file (training/configs/*.toml) that
`rebut train --config` reads, checks and runs in order.

A recipe names the model folders it makes (`makes`), says in `about` how its result
relates to the served files, and lists `[[steps]]`. Each step has `run` (one of RUNNERS)
and that command's options as keys: `max_tokens = { stance = 320 }` becomes
`--max-tokens stance=320`, a list becomes a comma-separated value, `true` a bare flag.
`{work}` in a value is the recipe's work folder (`--out`, default runs/<recipe name>).

Every step is checked before the first one runs: an unknown command or option, or a
value its parser refuses, stops the recipe with the file and step named.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import shlex
import shutil
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path

from training import refit_moderation, task_inputs
from training.data import grounding as grounding_inputs
from training.export import export
from training.multitask import cli as multitask_cli
from training.train import TrainConfig, train

CONFIG_DIR = Path(__file__).parent / "configs"


@dataclass(frozen=True)
class Runner:
    """A command a step can run: its argparse parser (to check options) and its main."""

    command: str  # how a shell runs it, for the step's announcement
    parser: Callable[[], argparse.ArgumentParser]
    main: Callable[[list[str]], None]
    subcommand: str | None = None  # the first word of argv, for a parser with subcommands


MULTITASK = "python -m training.multitask"
RUNNERS: dict[str, Runner] = {
    "multitask pack-base": Runner(
        MULTITASK, multitask_cli.build_parser, multitask_cli.main, "pack-base"
    ),
    "multitask fit": Runner(MULTITASK, multitask_cli.build_parser, multitask_cli.main, "fit"),
    "multitask from-onnx": Runner(
        MULTITASK, multitask_cli.build_parser, multitask_cli.main, "from-onnx"
    ),
    "multitask export": Runner(MULTITASK, multitask_cli.build_parser, multitask_cli.main, "export"),
    "task-inputs": Runner(
        "python -m training.task_inputs", task_inputs.build_parser, task_inputs.main
    ),
    "grounding-inputs": Runner(
        "python -m training.data.grounding", grounding_inputs.build_parser, grounding_inputs.main
    ),
    "refit-moderation": Runner(
        "python -m training.refit_moderation", refit_moderation.build_parser, refit_moderation.main
    ),
}
# steps run in-process without a parser: `rebut train` (TrainConfig's fields), `rebut
# export` (run, out) and copying a model folder (from, to)
BUILTIN = ("train", "export", "copy")


@dataclass
class Step:
    run: str
    options: dict[str, object] = field(default_factory=dict)

    def argv(self, work: Path) -> list[str]:
        """The step as its command's arguments, `{work}` filled in."""
        runner = RUNNERS[self.run]
        argv = [runner.subcommand] if runner.subcommand else []
        for key, value in self.options.items():
            flag = "--" + key.replace("_", "-")
            if value is True:
                argv.append(flag)
            elif value is not False:
                argv += [flag, _word(value, work)]
        return argv

    def describe(self, work: Path) -> str:
        """The step as a shell line."""
        if self.run in RUNNERS:
            return " ".join([RUNNERS[self.run].command, *map(shlex.quote, self.argv(work))])
        if self.run == "copy":
            return f"cp -r {_word(self.options['from'], work)} {_word(self.options['to'], work)}"
        words = [f"--{k.replace('_', '-')} {_word(v, work)}" for k, v in self.options.items()]
        return " ".join([f"rebut {self.run}", *words])


@dataclass
class Recipe:
    name: str
    about: str
    makes: list[str]
    steps: list[Step]
    path: Path | None = None


def _word(value: object, work: Path) -> str:
    if isinstance(value, dict):
        return ",".join(f"{k}={_word(v, work)}" for k, v in value.items())
    if isinstance(value, list):
        return ",".join(_word(v, work) for v in value)
    return str(value).replace("{work}", str(work))


def load_recipe(path: Path | str) -> Recipe:
    """Read and check a recipe file; ValueError names the file and the step at fault."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ValueError(f"{path}: {error}") from None
    keys = {"name", "about", "makes", "steps"}
    if set(raw) != keys or not raw["steps"]:
        raise ValueError(f"{path}: needs exactly {sorted(keys)} (steps as [[steps]] tables)")
    steps = []
    for n, table in enumerate(raw["steps"], 1):
        options = dict(table)
        run = options.pop("run", None)
        if run not in RUNNERS and run not in BUILTIN:
            raise ValueError(f"{path}: step {n}: run must be one of {[*RUNNERS, *BUILTIN]}")
        steps.append(Step(run, options))
    recipe = Recipe(raw["name"], raw["about"], raw["makes"], steps, path)
    for n, step in enumerate(steps, 1):
        try:
            check_step(step)
        except ValueError as error:
            raise ValueError(f"{path}: step {n} ({step.run}): {error}") from None
    return recipe


def check_step(step: Step, work: Path = Path("runs/check")) -> None:
    """Refuse an option the step's command does not take, or a value it cannot parse."""
    if step.run == "train":
        names = {f.name for f in fields(TrainConfig)}
        if unknown := set(step.options) - names:
            raise ValueError(f"unknown options {sorted(unknown)}")
        return
    if step.run in ("export", "copy"):
        wanted = {"export": {"run", "out"}, "copy": {"from", "to"}}[step.run]
        if set(step.options) != wanted:
            raise ValueError(f"takes exactly {sorted(wanted)}")
        return
    parser = RUNNERS[step.run].parser()
    parser.exit_on_error = False
    try:
        with contextlib.redirect_stderr(io.StringIO()) as err:
            parser.parse_args(step.argv(work))
    except (argparse.ArgumentError, SystemExit) as error:
        detail = err.getvalue().strip().splitlines()[-1:] or [str(error)]
        raise ValueError(detail[0]) from None


def overridden(recipe: Recipe, **values: object) -> Recipe:
    """The recipe with each value given (not None) set on every step whose command takes
    that option: `data_dir` where a step reads the datasets, `limit_per_source`, `epochs`
    and `deadline_s` for a small run of a shipped recipe."""
    given = {k: v for k, v in values.items() if v is not None}
    steps = [
        Step(step.run, {**step.options, **{k: v for k, v in given.items() if takes(step, k)}})
        for step in recipe.steps
    ]
    return Recipe(recipe.name, recipe.about, recipe.makes, steps, recipe.path)


def takes(step: Step, option: str) -> bool:
    """Whether the step's command has this option."""
    if step.run == "train":
        return option in {f.name for f in fields(TrainConfig)}
    if step.run not in RUNNERS:
        return False
    runner = RUNNERS[step.run]
    parser = runner.parser()
    if runner.subcommand is not None:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = sub.choices[runner.subcommand]
    flag = "--" + option.replace("_", "-")
    return any(flag in action.option_strings for action in parser._actions)


def run_recipe(
    recipe: Recipe, work: Path, *, echo: Callable[[str], None] = print, dry_run: bool = False
) -> None:
    """Run every step in order, each announced first; `dry_run` only announces them."""
    for n, step in enumerate(recipe.steps, 1):
        echo(f"[{recipe.name} {n}/{len(recipe.steps)}] {step.describe(work)}")
        if not dry_run:
            _run_step(step, work)


def _run_step(step: Step, work: Path) -> None:
    if step.run in RUNNERS:
        RUNNERS[step.run].main(step.argv(work))
        return
    values = {k: _word(v, work) for k, v in step.options.items()}
    if step.run == "copy":
        shutil.copytree(values["from"], values["to"], dirs_exist_ok=True)
    elif step.run == "export":
        export(Path(values["run"]), Path(values["out"]))
    else:
        _train(step, work)


def _train(step: Step, work: Path) -> None:
    paths = {"out", "data_dir", "cache_dir", "weights_from", "keep_from"}
    options: dict[str, object] = {}
    for key, value in step.options.items():
        if key in paths:
            options[key] = Path(_word(value, work))
        elif key == "keep":
            options[key] = tuple(value)  # type: ignore[arg-type]
        else:
            options[key] = value
    train(TrainConfig(**options))  # type: ignore[arg-type]
