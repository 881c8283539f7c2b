"""``nexa doctor``: check this installation and say how to fix what is broken."""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from nexa_desktop.domain.errors import NexaError

if TYPE_CHECKING:
    from nexa_desktop.services.doctor import DoctorReport

_STYLES = {
    "ok": ("green", "✔ ok"),
    "warn": ("yellow", "! warn"),
    "fail": ("bold red", "✘ FAIL"),
    "skip": ("dim", "– skip"),
}


def doctor_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as one JSON object.")] = False,
    quick: Annotated[
        bool,
        typer.Option(
            "--quick",
            help="Skip the slow parts: loading the embedding model and OCR, hashing new model files.",
        ),
    ] = False,
    save_diagnostics: Annotated[
        Path | None,
        typer.Option(
            "--save-diagnostics",
            metavar="ZIP",
            help="Also write a zip of this report and the logs for support (names and job numbers removed).",
        ),
    ] = None,
) -> None:
    """Check this installation: data folder, database, backups, keyring, license, models, OCR, engine.

    Exits with 1 when a check failed; each failure says how to fix it.
    """
    from rich.console import Console

    from nexa_desktop.services.doctor import run_checks
    from nexa_desktop.settings import Settings, load_settings

    err = Console(stderr=True)
    try:
        settings = load_settings()
    except OSError:  # the data folder itself is the problem: the data_dir check says how to fix it
        settings = Settings()
    # In --json mode stdout carries only the JSON: anything a library prints goes to stderr.
    redirect = contextlib.redirect_stdout(sys.stderr) if as_json else contextlib.nullcontext()
    with redirect, err.status("Checking…") as status:

        def progress(_fraction: float, what: str, _done: object) -> None:
            if _done is None:
                status.update(what)

        report = run_checks(settings, quick=quick, on_progress=progress)
    if as_json:
        typer.echo(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    else:
        _print_table(report)
    if save_diagnostics is not None:
        from nexa_desktop.services.diagnostics import save_diagnostics as save

        try:
            written = save(save_diagnostics, report, settings=settings)
        except NexaError as exc:
            typer.echo(f"nexa: {exc}", err=True)
            raise typer.Exit(2) from None
        typer.echo(f"Diagnostics saved to {written}", err=as_json)
    raise typer.Exit(0 if report.ok else 1)


def _print_table(report: DoctorReport) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console()
    table = Table(show_lines=True, expand=True, title=f"NEXA Desktop doctor ({report.data_dir})")
    table.add_column("Status", no_wrap=True, width=8)
    table.add_column("Check", no_wrap=True, min_width=14)
    table.add_column("Result", ratio=3)
    table.add_column("How to fix", ratio=2)
    for check in report.checks:
        style, label = _STYLES[check.status]
        table.add_row(
            Text(label, style=style),
            check.title,
            check.detail,
            Text(check.fix, style="bold" if check.status == "fail" else ""),
        )
    console.print(table)
    console.print(Text(report.summary(), style="bold green" if report.ok else "bold red"))
