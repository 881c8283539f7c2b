"""``nexa backup …``: create, list, verify and restore database backups.

Every command works on the database NEXA uses (``NEXA_DATABASE_URL``, then the settings, then the
embedded SQLite file). Errors print one ``nexa: …`` line on stderr and exit 1.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import click
import typer

from nexa_desktop.domain.errors import NexaError

backup_app = typer.Typer(help="Database backups: create, list, verify, restore.", no_args_is_help=True)


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"nexa: {message}", err=True)
    return typer.Exit(code)


def _url() -> str | None:
    from nexa_desktop.settings import load_settings

    return load_settings().database_url or None


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


def _when(created: object) -> str:
    import datetime as dt

    assert isinstance(created, dt.datetime)
    return created.astimezone().strftime("%Y-%m-%d %H:%M:%S")


@backup_app.command("create")
def create(
    as_json: Annotated[bool, typer.Option("--json", help="Print the backup as one JSON object.")] = False,
    if_due: Annotated[
        bool,
        typer.Option("--if-due", help="Only make today's daily/weekly backup if it is missing, and rotate."),
    ] = False,
) -> None:
    """Back the database up now (SQLite online backup; pg_dump for an office database)."""
    from nexa_desktop.services.backup import create_backup, ensure_daily_backup

    try:
        info = ensure_daily_backup(_url()) if if_due else create_backup(_url(), kind="manual")
    except NexaError as exc:
        raise _fail(str(exc)) from None
    if info is None:
        typer.echo("null" if as_json else "Today's backup exists already; nothing to do.")
        return
    if as_json:
        typer.echo(json.dumps(info.to_json()))
    else:
        revision = info.schema_revision or "unknown"
        typer.echo(f"Backed up to {info.path} ({_size(info.size_bytes)}, {info.kind}, schema {revision}).")


@backup_app.command("list")
def list_(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list of objects.")] = False,
) -> None:
    """This database's backups, newest first."""
    from nexa_desktop.services.backup import list_backups

    try:
        backups = list_backups(_url())
    except NexaError as exc:
        raise _fail(str(exc)) from None
    if as_json:
        typer.echo(json.dumps([b.to_json() for b in backups]))
        return
    if not backups:
        typer.echo("No backups yet. `nexa backup create` makes one.")
        return
    for b in backups:
        typer.echo(
            f"{_when(b.created)}  {b.kind:<13} {_size(b.size_bytes):>9}  "
            f"schema {b.schema_revision or '?':<6} {b.path}"
        )


@backup_app.command("verify")
def verify(
    path: Annotated[Path, typer.Argument(help="The backup file to check.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as one JSON object.")] = False,
) -> None:
    """Check a backup: ours, complete, integrity_check, and a schema this version knows (exit 1 if not)."""
    from nexa_desktop.services.backup import verify_backup

    check = verify_backup(path)
    if as_json:
        typer.echo(json.dumps(check.to_json()))
        if not check.ok:
            raise typer.Exit(1)
        return
    if not check.ok:
        raise _fail(check.message)
    typer.echo(f"OK: {check.message}")


@backup_app.command("restore")
def restore(
    path: Annotated[Path, typer.Argument(help="The backup file to restore.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Don't ask for confirmation.")] = False,
) -> None:
    """Replace the database with a backup (checked first; the current database is kept as a backup)."""
    from nexa_desktop.services.backup import restore_backup, verify_backup
    from nexa_desktop.store.db import describe, resolve_url

    url = _url()
    if not yes:
        check = verify_backup(path)
        if not check.ok:
            raise _fail(f"Not restored: {check.message}")
        question = (
            f"Replace the database {describe(resolve_url(url))} with {path} ({check.message})? "
            "The current database is kept as a backup first"
        )
        try:
            confirmed = typer.confirm(question, default=False)
        except click.exceptions.Abort:
            confirmed = False
        if not confirmed:
            raise _fail("Restore cancelled; nothing was changed.")
    try:
        previous = restore_backup(path, url)
    except NexaError as exc:
        raise _fail(str(exc)) from None
    kept = f" The database it replaced is saved as {previous.path}." if previous is not None else ""
    typer.echo(f"Restored {path}.{kept}")
