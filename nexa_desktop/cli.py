"""The ``nexa`` command. Every subcommand uses the same services as the window."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from nexa_desktop.cli_backup import backup_app
from nexa_desktop.cli_doctor import doctor_command
from nexa_desktop.domain.errors import NexaError

app = typer.Typer(
    name="nexa",
    help="NEXA Desktop: the contractor office's job board, package checks and completion.",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
)
import_app = typer.Typer(help="Import data from files.", no_args_is_help=True)
bench_app = typer.Typer(help="Benchmarks that print one JSON object.", no_args_is_help=True)
models_app = typer.Typer(help="Local AI model files (GGUF): list, add, check.", no_args_is_help=True)
app.add_typer(import_app, name="import")
app.add_typer(bench_app, name="bench")
app.add_typer(models_app, name="models")
app.add_typer(backup_app, name="backup")
app.command("doctor")(doctor_command)


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"nexa: {message}", err=True)
    return typer.Exit(code)


@app.callback(invoke_without_command=True)
def _root(ctx: typer.Context) -> None:
    """Plain ``nexa`` opens the window."""
    if ctx.invoked_subcommand is None:
        run_app(smoke=False)


@app.command("app")
def run_app(
    smoke: Annotated[
        bool, typer.Option("--smoke", hidden=True, help="Quit once the board has loaded.")
    ] = False,
) -> None:
    """Open the NEXA Desktop window."""
    from nexa_desktop.ui.app import main as ui_main

    raise typer.Exit(ui_main(smoke=smoke))


@app.command("demo")
def demo(
    jobs: Annotated[int, typer.Option(help="How many jobs to create.")] = 200,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same data).")] = 7,
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Do nothing (successfully) if there are jobs already.")
    ] = False,
) -> None:
    """Seed realistic demo jobs, crews and people into an empty database."""
    from nexa_desktop.services.demo import DemoNotEmpty, seed_demo
    from nexa_desktop.settings import load_settings
    from nexa_desktop.store.db import describe, open_database

    try:
        db = open_database(load_settings().database_url or None)
        try:
            summary = seed_demo(db, jobs=jobs, seed=seed)
        except DemoNotEmpty as exc:
            if if_empty:
                typer.echo(f"Demo data not added: {exc}")
                return
            raise
        typer.echo(
            f"Seeded {summary.jobs} jobs, {summary.crews} crews and {summary.people} people "
            f"into {describe(db.url)}."
        )
    except NexaError as exc:
        raise _fail(str(exc)) from None


@import_app.command("jobs")
def import_jobs(
    file: Annotated[Path, typer.Argument(help="A .csv or .xlsx file with one job per row.")],
    map_: Annotated[
        list[str] | None,
        typer.Option("--map", help="FIELD=Column header, e.g. --map 'pm_number=Order No.' (repeatable)."),
    ] = None,
    dry_run: Annotated[bool, typer.Option(help="Validate only; write nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Import jobs from CSV/XLSX: all rows or none; every bad row is reported."""
    from nexa_desktop.services.importer import import_jobs_cli

    code = import_jobs_cli(file, mappings=map_ or [], dry_run=dry_run, as_json=as_json)
    raise typer.Exit(code)


@app.command("verify")
def verify(
    path: Annotated[
        Path, typer.Argument(help="A package folder or PDF (with --batch: a folder of packages).")
    ],
    work_type: Annotated[
        str | None, typer.Option("--work-type", help="estimated or ec_corrective (default: inferred).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as one JSON object.")] = False,
    batch: Annotated[
        bool, typer.Option("--batch", help="PATH holds many packages: check each (JSON Lines with --json).")
    ] = False,
    ocr: Annotated[bool, typer.Option(help="Read scanned pages with offline OCR.")] = True,
    record: Annotated[
        bool, typer.Option("--record", help="Record the package and its file hashes in the NEXA database.")
    ] = False,
) -> None:
    """Check a job package page by page: what would get it rejected."""
    from nexa_desktop.cli_verify import run_verify

    try:
        code = run_verify(path, work_type=work_type, as_json=as_json, batch=batch, ocr=ocr, record=record)
    except NexaError as exc:
        raise _fail(str(exc)) from None
    raise typer.Exit(code)


@bench_app.command("verify")
def bench_verify(
    corpus: Annotated[
        Path,
        typer.Option(help="A labelled set: packages/ with a *.truth.json beside each package."),
    ],
    limit: Annotated[int | None, typer.Option(help="Only the first N packages.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (the default output).")] = True,
) -> None:
    """Page accuracy, finding F1, verdict accuracy, pages/s and peak RSS on a labelled corpus."""
    from nexa_desktop.bench.verify import run_verify_bench

    try:
        result = run_verify_bench(corpus, limit=limit)
    except (FileNotFoundError, NexaError) as exc:
        raise _fail(str(exc)) from None
    typer.echo(json.dumps(result, indent=None if as_json else 2))


@bench_app.command("board")
def bench_board(
    jobs: Annotated[int, typer.Option(help="Jobs on the board.")] = 10000,
    moves: Annotated[int, typer.Option(help="Moves to time.")] = 200,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (the default output).")] = True,
) -> None:
    """Time board load, moves and filtering on a throwaway database (offscreen)."""
    from nexa_desktop.bench.board import run_board_bench

    result = run_board_bench(jobs=jobs, moves=moves)
    typer.echo(json.dumps(result, indent=None if as_json else 2))


@bench_app.command("backup")
def bench_backup(
    jobs: Annotated[int, typer.Option(help="Jobs in the database.")] = 10000,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (the default output).")] = True,
) -> None:
    """Time backup, verify and restore of an N-job SQLite database against a plain file copy."""
    from nexa_desktop.bench.backup import run_backup_bench

    typer.echo(json.dumps(run_backup_bench(jobs=jobs), indent=None if as_json else 2))


@bench_app.command("sync")
def bench_sync(
    events: Annotated[int, typer.Option(help="Outbox events to flush.")] = 100_000,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (the default output).")] = True,
) -> None:
    """Flush an outbox of N usage events to a real account service on loopback."""
    from nexa_desktop.bench.sync import run_sync_bench

    typer.echo(json.dumps(run_sync_bench(events=events), indent=None if as_json else 2))


@models_app.command("list")
def models_list(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Model files found in models/, the data dir, and files added by hand."""
    from nexa_desktop.services.complete.models import ModelManager

    entries = ModelManager().list()
    if as_json:
        rows = [
            {
                "name": e.name,
                "path": str(e.path),
                "size_bytes": e.size_bytes,
                "source": e.source,
                "exists": e.exists,
            }
            for e in entries
        ]
        typer.echo(json.dumps(rows))
        return
    if not entries:
        typer.echo("No model files found. Put a GGUF file (e.g. Phi-3-mini-4k-instruct Q4_K_M) in models/.")
    for e in entries:
        state = "" if e.exists else "  (missing)"
        typer.echo(f"{e.name}  {e.size_bytes / 2**20:,.0f} MB  [{e.source}]  {e.path}{state}")


@models_app.command("add")
def models_add(path: Annotated[Path, typer.Argument(help="A .gguf file anywhere on this computer.")]) -> None:
    """Check a GGUF file and remember it."""
    from nexa_desktop.services.complete.models import ModelManager

    manager = ModelManager()
    try:
        check = manager.check(path)
        manager.add(path)
    except NexaError as exc:
        raise _fail(str(exc)) from None
    typer.echo("\n".join(["Added.", *check.summary_lines()]))


@models_app.command("check")
def models_check(
    path: Annotated[Path, typer.Argument(help="A .gguf file.")],
    ctx: Annotated[int, typer.Option(help="Context length to size memory for.")] = 2048,
) -> None:
    """Validate a GGUF header, hash it and estimate memory and GPU offload."""
    from nexa_desktop.services.complete.models import ModelManager

    try:
        check = ModelManager().check(path, ctx)
    except NexaError as exc:
        raise _fail(str(exc)) from None
    typer.echo("\n".join(check.summary_lines()))
    if not check.ok:
        raise typer.Exit(1)


@app.command("complete")
def complete(
    form: Annotated[str | None, typer.Argument(help="Form to fill, e.g. ec_tag_completion.")] = None,
    job: Annotated[str | None, typer.Option(help="PM number of the job.")] = None,
    package: Annotated[
        Path | None, typer.Option(help="The job package PDF (text is used as context).")
    ] = None,
    model: Annotated[
        Path | None, typer.Option(help="GGUF model file (default: the first one found).")
    ] = None,
    prompt: Annotated[str | None, typer.Option(help="Raw prompt: stream the model's answer as text.")] = None,
    max_tokens: Annotated[int, typer.Option(help="Most tokens to generate.")] = 256,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set", help="FIELD=VALUE you already know, e.g. --set built_as=redlined (repeatable)."
        ),
    ] = None,
    into: Annotated[
        Path | None,
        typer.Option(help="Write the fill into a copy of this form PDF (the original is never changed)."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Folder for the written copy (default: next to the PDF).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the validated fill as JSON.")] = False,
) -> None:
    """Draft a form's fill for a job (facts from the record, language from the local model)."""
    from nexa_desktop.services.complete.run import complete_form, stream_prompt
    from nexa_desktop.services.complete.writeback import plan_json, write_fill_planned

    try:
        if prompt is not None:
            stream_prompt(model, prompt, max_tokens=max_tokens, write=lambda t: typer.echo(t, nl=False))
            typer.echo()
            return
        if form is None or job is None:
            raise _fail("give a FORM and --job PM, or --prompt TEXT")
        answers = dict(item.split("=", 1) for item in set_ or [] if "=" in item)
        bad = [item for item in set_ or [] if "=" not in item]
        if bad:
            raise _fail(f"--set needs FIELD=VALUE, got {bad[0]!r}")
        fill = complete_form(form, job, model=model, package=package, answers=answers)
        result = dict(fill.to_json())
        if into is not None and fill.ready:
            written, plan = write_fill_planned(fill, into, out or into.parent)
            result["written"] = str(written)
            result["write_plan"] = dict(plan_json(plan))
    except NexaError as exc:
        raise _fail(str(exc)) from None
    typer.echo(json.dumps(result, indent=None if as_json else 2))
    if not fill.ready:
        if into is not None:
            typer.echo("nexa complete: the fill is not ready, so nothing was written", err=True)
        raise typer.Exit(3)


@bench_app.command("complete")
def bench_complete(
    model: Annotated[Path | None, typer.Option(help="GGUF model (default: the first one found).")] = None,
    threads: Annotated[int | None, typer.Option(help="CPU threads (default: recommended).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (the default output).")] = True,
) -> None:
    """Raw llama-cpp-python vs NEXA's worker on the same model, threads and prompt."""
    from nexa_desktop.bench.complete import run_complete_bench
    from nexa_desktop.services.complete.run import pick_model

    try:
        path = pick_model(model)
    except NexaError as exc:
        raise _fail(str(exc)) from None
    typer.echo(json.dumps(run_complete_bench(path, threads=threads), indent=None if as_json else 2))


def main() -> None:
    import multiprocessing

    multiprocessing.freeze_support()  # the model worker uses spawn (needed in frozen builds)
    try:
        app()
    except NexaError as exc:
        typer.echo(f"nexa: {exc}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
