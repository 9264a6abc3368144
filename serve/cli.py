"""The `rebut` command: one Typer app, one sub-command per job.

rebut serve --port 8000
rebut keys create newsroom-cms
rebut score --articles articles.jsonl --comments comments.jsonl --out results.jsonl
rebut score --articles a.parquet --comments c.parquet --out r.parquet --workers 4 --resume
"""

from __future__ import annotations

import json
from enum import StrEnum
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from serve.config import get_settings

if TYPE_CHECKING:
    from serve.batch.jobs import Summary

# Idle keep-alive connections live longer than uvicorn's 5 s default: a client that pools
# connections (a CMS, the tests) otherwise races the server closing an idle one and gets
# "connection reset" on its next request. 75 s outlives most load balancers' 60 s.
KEEP_ALIVE_S = 75

app = typer.Typer(
    name="rebut",
    help="Score reader comments: moderation, claims grounded in the article, stance.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def _check_policy() -> None:
    """A bad REBUT_POLICY file stops every command with one line, not a traceback."""
    from model.moderation import Policy

    try:
        Policy(flag={}).merged(policy_file())
    except (OSError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


def policy_file() -> dict | None:
    """The newsroom's policy file that REBUT_POLICY names, read, or None."""
    from model.moderation import load_policy_file

    path = get_settings().policy
    return load_policy_file(path) if path else None


def _input_file(help: str) -> typer.models.OptionInfo:
    return typer.Option(exists=True, dir_okay=False, readable=True, help=help)


ModelDir = Annotated[
    Path | None,
    typer.Option(help="Exported model directory; default REBUT_MODEL_DIR, else the bundled one."),
]


keys_app = typer.Typer(help="API keys: create, list, revoke.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
db_app = typer.Typer(help="The store's schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")


def _sessions():  # type: ignore[no-untyped-def]
    """A sessionmaker on the configured store, migrated to the newest schema."""
    from serve.store import make_engine, make_sessionmaker, migrate

    engine = make_engine(get_settings().database_url)
    migrate(engine)
    return make_sessionmaker(engine)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Upgrade the store (REBUT_DATABASE_URL) to the newest schema; `serve` does it too."""
    _sessions()
    typer.echo("store is at the newest schema", err=True)


@keys_app.command("create")
def keys_create(name: Annotated[str, typer.Argument(help="Who uses the key, e.g. cms.")]) -> None:
    """Make a key and print it, once: only its SHA-256 is stored."""
    from serve.keys import KeyNameTaken, create_key

    with _sessions()() as session:
        try:
            key = create_key(session, name=name)
        except KeyNameTaken as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from None
        session.commit()
    typer.echo(key)
    typer.echo(f"created key {name!r}; it is shown only now, so store it safely", err=True)


@keys_app.command("list")
def keys_list() -> None:
    """Show each key's name, first characters, and whether it is revoked."""
    from serve.keys import list_keys

    with _sessions()() as session:
        for row in list_keys(session):
            state = f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "live"
            typer.echo(f"{row.name}\t{row.prefix}...\t{row.created_at:%Y-%m-%d}\t{state}")


@keys_app.command("revoke")
def keys_revoke(name: str) -> None:
    """Revoke the key named NAME; requests with it get 401 from then on."""
    from serve.keys import revoke_key

    with _sessions()() as session:
        if not revoke_key(session, name=name):
            typer.echo(f"error: no live key named {name!r}", err=True)
            raise typer.Exit(1)
        session.commit()
    typer.echo(f"revoked key {name!r}", err=True)


@app.command("export-feedback")
def export_feedback(
    out: Annotated[Path, typer.Option(dir_okay=False, help="JSONL file, one decision a line.")],
) -> None:
    """Write every moderator decision with the text and result it judged, as JSONL; a
    Perspective suggestscore is one too, with its `suggested_scores`."""
    import json

    from serve.integrations.perspective.suggestions import suggestion_from_note
    from serve.store import feedback_with_scores

    if not out.parent.is_dir():
        typer.echo(f"error: {out.parent} is not a directory", err=True)
        raise typer.Exit(2)
    count = 0
    with _sessions()() as session, out.open("w", encoding="utf-8") as f:
        for feedback, score in feedback_with_scores(session):
            result = json.loads(score.result_json) if score else None
            hints = result["hints"] if result else []
            # a suggestion on a text no stored result holds keeps the text in its note
            suggestion = suggestion_from_note(feedback.note) or {}
            record = {
                "comment_id": feedback.comment_id,
                "text": (score.text if score else None) or suggestion.get("text"),
                "article_id": score.article_id if score else None,
                "article_sha256": score.article_sha256 if score else None,
                "decision": feedback.decision,
                "hints": [
                    {**v, **(hints[v["hint"]] if v["hint"] < len(hints) else {})}
                    for v in json.loads(feedback.hints_json)
                ],
                "note": feedback.note,
                "decided_by": feedback.key_name,
                "decided_at": feedback.created_at.isoformat(),
                "model_version": score.model_version if score else None,
                "result": result,
                "suggested_scores": suggestion.get("scores"),
            }
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    typer.echo(f"exported {count} decisions -> {out}", err=True)


def _first_start_key() -> None:
    """On a first start with auth on and no key anywhere, make an `admin` key and print it,
    so `make serve` gives a working, protected server and says how to call it."""
    from serve.keys import count_live_keys, create_key

    settings = get_settings()
    sessions = _sessions()
    if settings.auth == "off" or settings.api_keys:
        return
    with sessions() as session:
        if count_live_keys(session):
            return
        key = create_key(session, name="admin")
        session.commit()
    typer.echo(
        "\nNo API key existed, so rebut made one named 'admin'. It is shown only now:\n\n"
        f"    {key}\n\n"
        "Send it as `Authorization: Bearer KEY` (or `?key=KEY`). Make more with "
        "`rebut keys create NAME`.\n",
        err=True,
    )


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Default REBUT_HOST, else 127.0.0.1.")] = None,
    port: Annotated[int | None, typer.Option(help="Default REBUT_PORT, else 8000.")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Processes, each with its model.")] = 1,
) -> None:
    """Run the HTTP API (OpenAPI docs at /docs)."""
    import uvicorn

    settings = get_settings()
    _first_start_key()  # also migrates the store once, before any worker process starts
    uvicorn.run(
        "serve.main:create_app",
        factory=True,
        host=host or settings.host,
        port=settings.port if port is None else port,
        workers=workers,
        # rebut writes its own access lines (serve/metrics.py): uvicorn's carry the query
        # string, and so any ?key=KEY.
        access_log=False,
        # longer than uvicorn's 5 s: a CMS that pools connections would otherwise race the
        # server closing an idle one and see "connection reset" on its next request
        timeout_keep_alive=KEEP_ALIVE_S,
    )


def _input_rows(help: str) -> typer.models.OptionInfo:
    return typer.Option(exists=True, dir_okay=True, readable=True, help=help)


class Engine(StrEnum):
    local = "local"
    ray = "ray"


@app.command()
def score(
    articles: Annotated[
        Path, _input_rows('ARTICLES (.jsonl, .csv or .parquet): {"id", "title"?, "body"} a row.')
    ],
    comments: Annotated[
        Path, _input_rows('COMMENTS (.jsonl, .csv or .parquet): {"id", "text", "article_id"?}.')
    ],
    out: Annotated[
        Path, typer.Option(help="RESULTS.jsonl (a line a comment) or RESULTS.parquet (a folder).")
    ],
    errors: Annotated[
        Path | None,
        typer.Option(dir_okay=False, help="Errors with line numbers; default OUT.errors.jsonl."),
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Comments per model call.")] = 32,
    workers: Annotated[
        int, typer.Option(min=1, help="Processes (local) or actors (ray) scoring at once.")
    ] = 1,
    engine: Annotated[
        Engine, typer.Option(help="local: this machine's processes; ray: Ray Data actors.")
    ] = Engine.local,
    ray_address: Annotated[
        str | None,
        typer.Option(help="A running Ray cluster (ray://host:10001 or auto); default: start one."),
    ] = None,
    resume: Annotated[
        bool, typer.Option(help="Keep OUT and skip the comment ids already in it.")
    ] = False,
    model_dir: ModelDir = None,
) -> None:
    """Score COMMENTS against ARTICLES into RESULTS; a JSON summary goes to stdout."""
    from serve.batch.jobs import PipelineOptions
    from serve.batch.run import score_files

    errors = errors or out.with_name(out.name + ".errors.jsonl")
    _check_score_options(articles, comments, out, errors, engine, ray_address)
    model_dir = _model_dir_with_pipeline(model_dir)
    settings = get_settings()
    try:
        summary = score_files(
            articles_path=articles,
            comments_path=comments,
            out_path=out,
            errors_path=errors,
            pipeline=PipelineOptions(
                model_dir, settings.threads, settings.int8_weights, policy_file()
            ),
            batch_size=batch_size,
            workers=workers,
            engine=engine.value,
            ray_address=ray_address,
            resume=resume,
        )
    except OSError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    _report_score(summary, out, errors)


def _check_score_options(
    articles: Path,
    comments: Path,
    out: Path,
    errors: Path,
    engine: Engine,
    ray_address: str | None,
) -> None:
    """Exit 2 on a folder that is not there, a file format rebut cannot read or write, or
    --ray-address without Ray, before any file is opened."""
    from serve.batch.files import input_format, output_format

    for path in (out, errors):
        if not path.parent.is_dir():
            typer.echo(f"error: {path.parent} is not a directory", err=True)
            raise typer.Exit(2)
    try:
        for path in (articles, comments):
            input_format(path)
        output_format(out)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if ray_address and engine is not Engine.ray:
        typer.echo("error: --ray-address needs --engine ray", err=True)
        raise typer.Exit(2)


def _model_dir_with_pipeline(model_dir: Path | None) -> Path | None:
    """The model folder to score with (the option, else REBUT_MODEL_DIR), or exit 1 when it
    holds no pipeline.json: checked here so that worker processes and Ray actors never start
    on a missing model."""
    from model.pipeline import Pipeline

    model_dir = model_dir or get_settings().model_dir
    config = Pipeline(model_dir).model_dir / "pipeline.json"
    if not config.is_file():
        typer.echo(
            f"error: {config} not found: point REBUT_MODEL_DIR at a folder written by "
            "`rebut export`",
            err=True,
        )
        raise typer.Exit(1)
    return model_dir


def _report_score(summary: Summary, out: Path, errors: Path) -> None:
    """One line for people on stderr, the summary as JSON on stdout, and the exit code: 130
    when interrupted (--resume goes on), 1 when the model failed on well-formed comments."""
    notes = f", {summary.skipped} already done" if summary.skipped else ""
    notes += f", {summary.article_errors} bad article rows" if summary.article_errors else ""
    typer.echo(
        f"scored {summary.scored} comments, {summary.errors} errors{notes} "
        f"in {summary.seconds:.1f}s ({summary.rate:.1f} comments/s) -> {out}; errors -> {errors}",
        err=True,
    )
    typer.echo(json.dumps(summary.as_dict()))
    if summary.interrupted:
        typer.echo("interrupted: rerun with --resume to go on", err=True)
        raise typer.Exit(130)
    if summary.failed:
        typer.echo(
            f"error: the model failed on {summary.failed} well-formed comments (see above)",
            err=True,
        )
        raise typer.Exit(1)


# Other parts of rebut add their commands through the `rebut.commands` entry points
# (pyproject.toml): train, export and eval live with the training code, which serve/
# does not import; they import torch only when run.
for command_group in entry_points(group="rebut.commands"):
    command_group.load()(app)
