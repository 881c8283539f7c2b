"""The ``nexa-cloud`` command: run the service, administer orgs/seats/keys, benchmark."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from nexa_cloud.config import Settings

if TYPE_CHECKING:
    from nexa_cloud.service import CloudService

app = typer.Typer(
    name="nexa-cloud",
    help="NEXA Cloud: the account service for NEXA Desktop (seats, licenses, usage, analytics).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
admin_app = typer.Typer(
    help="Administer organisations, admins, seats and signing keys.", no_args_is_help=True
)
app.add_typer(admin_app, name="admin")

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database URL (postgresql://… or sqlite:///…); default: SQLite in the data dir.",
        envvar="NEXA_CLOUD_DATABASE_URL",
    ),
]
DataDirOption = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Data dir (SQLite file, key passphrase).", envvar="NEXA_CLOUD_DATA_DIR"),
]


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(f"nexa-cloud: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code)


def _service(db: str | None, data_dir: Path | None) -> CloudService:
    from nexa_cloud.app import build_service
    from nexa_cloud.db import DatabaseError
    from nexa_cloud.keys import SigningKeyError

    try:
        return build_service(Settings.from_env(database_url=db, data_dir=data_dir))
    except (DatabaseError, SigningKeyError) as exc:
        raise _fail(str(exc)) from exc


def _run_admin(db: str | None, data_dir: Path | None, action: str, *args: object, **kwargs: object) -> Any:
    """Call ``CloudService.<action>`` and turn refusals into a red one-line message."""
    from nexa_cloud.errors import ApiError

    svc = _service(db, data_dir)
    try:
        return getattr(svc, action)(*args, **kwargs)
    except ApiError as exc:
        raise _fail(f"{exc.message} ({exc.code})") from exc
    finally:
        svc.db.dispose()


@app.command()
def serve(
    db: DbOption = None,
    data_dir: DataDirOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8600,
    lease_minutes: Annotated[float | None, typer.Option(help="Floating-seat lease (default 10).")] = None,
    rate_per_second: Annotated[float | None, typer.Option(help="Per-org sustained requests/s.")] = None,
    rate_burst: Annotated[float | None, typer.Option(help="Per-org burst size.")] = None,
    access_log: Annotated[bool, typer.Option("--access-log/--no-access-log")] = True,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Run the HTTP service (migrates the database first)."""
    import uvicorn

    from nexa_cloud.app import build_service, create_app
    from nexa_cloud.db import DatabaseError
    from nexa_cloud.keys import SigningKeyError

    settings = Settings.from_env(
        database_url=db,
        data_dir=data_dir,
        lease=None if lease_minutes is None else dt.timedelta(minutes=lease_minutes),
        rate_per_second=rate_per_second,
        rate_burst=rate_burst,
    )
    try:
        service = build_service(settings)  # migrates and makes the first key
    except (DatabaseError, SigningKeyError) as exc:
        raise _fail(str(exc)) from exc
    uvicorn.run(
        create_app(settings, service=service),
        host=host,
        port=port,
        log_level=log_level,
        access_log=access_log,
    )


@admin_app.command("create-org")
def create_org(name: str, db: DbOption = None, data_dir: DataDirOption = None) -> None:
    """Create an organisation; prints its id and its activation code (shown only once)."""
    org_id, code = _run_admin(db, data_dir, "create_org", name)
    typer.echo(f"org id:   {org_id}")
    typer.echo(f"org code: {code}")


@admin_app.command("new-org-code")
def new_org_code(
    org: Annotated[str, typer.Option("--org", help="Organisation id.")],
    db: DbOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Replace an organisation's activation code (the old one stops working)."""
    typer.echo(f"org code: {_run_admin(db, data_dir, 'new_org_code', org)}")


@admin_app.command("create-admin")
def create_admin(
    org: Annotated[str, typer.Option("--org", help="Organisation id.")],
    email: Annotated[str, typer.Option("--email", help="The admin's e-mail (their login).")],
    password: Annotated[
        str, typer.Option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
    ],
    db: DbOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Create an admin user for an organisation."""
    admin_id = _run_admin(db, data_dir, "create_admin", org, email, password)
    typer.echo(f"admin id: {admin_id}")


@admin_app.command("issue-seats")
def issue_seats(
    org: Annotated[str, typer.Option("--org", help="Organisation id.")],
    seats: Annotated[int, typer.Option("--seats", help="How many seats.")],
    days: Annotated[int, typer.Option("--days", help="Valid for this many days.")],
    entitlements: Annotated[
        str, typer.Option("--entitlements", help="Comma-separated: board,verification,completion.")
    ] = "board,verification,completion",
    floating: Annotated[
        bool,
        typer.Option(
            "--floating/--node-locked",
            help="Floating seats free themselves when heartbeats stop; node-locked ones wait for a revoke.",
        ),
    ] = True,
    db: DbOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Add a seat pool to an organisation."""
    pool_id = _run_admin(
        db, data_dir, "issue_seats", org, seats=seats, days=days, entitlements=entitlements, floating=floating
    )
    typer.echo(f"pool id: {pool_id}")


@admin_app.command("rotate-signing-key")
def rotate_signing_key(db: DbOption = None, data_dir: DataDirOption = None) -> None:
    """Make a new active signing key; old public keys stay published."""
    svc = _service(db, data_dir)
    try:
        kid = svc.keys.rotate(actor="cli")
    finally:
        svc.db.dispose()
    typer.echo(f"active key: {kid}")
    typer.echo("Ship the new public key with the desktop: nexa-cloud admin export-public-key --out DIR")


@admin_app.command("export-public-key")
def export_public_key(
    out: Annotated[Path, typer.Option("--out", help="Directory for <kid>.pem files.")],
    db: DbOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Write every published public key as ``<kid>.pem`` (resources/license_keys/ in the desktop)."""
    svc = _service(db, data_dir)
    try:
        infos = svc.keys.list()
    finally:
        svc.db.dispose()
    out.mkdir(parents=True, exist_ok=True)
    for info in infos:
        (out / f"{info.kid}.pem").write_text(info.public_key_pem, encoding="ascii")
        typer.echo(f"{out / (info.kid + '.pem')}{'  (active)' if info.active else ''}")


app.command("export-public-key", hidden=True)(export_public_key)
app.command("rotate-signing-key", hidden=True)(rotate_signing_key)


@app.command()
def bench(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object (the default).")] = True,
    db: Annotated[
        str | None, typer.Option("--db", help="Benchmark on this database (default: a temporary SQLite).")
    ] = None,
    seconds: Annotated[float, typer.Option(help="Measuring time.")] = 5.0,
    concurrency: Annotated[int, typer.Option(help="Client threads.")] = 4,
) -> None:
    """License validations/s and latency over loopback, with an in-process baseline."""
    from nexa_cloud.bench import run_bench

    result = run_bench(db_url=db, seconds=seconds, concurrency=concurrency)
    typer.echo(json.dumps(result, indent=None if as_json else 2))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
