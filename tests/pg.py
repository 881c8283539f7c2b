"""A throwaway PostgreSQL server for the tests, started from the installed binaries.

``start_server`` runs ``initdb`` + ``pg_ctl start`` in a fresh temp dir (trust auth, loopback on a
free port, no fsync); ``PgServer.stop`` shuts it down and deletes the dir. When the tests run as
root (initdb refuses that) both run as the ``postgres`` user through ``runuser``.
``NEXA_TEST_PG_URL`` points the tests at an existing server instead.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

PG_URL_ENV = "NEXA_TEST_PG_URL"
_SUPERUSER = "postgres"
_counter = itertools.count(1)


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


class PgUnavailableError(RuntimeError):
    """No PostgreSQL binaries (or the server would not start); the message says why."""


def find_bin_dir() -> Path | None:
    """The directory holding ``initdb`` and ``pg_ctl``: PATH first, then Debian's layout."""
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(on_path).resolve().parent
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True
    )
    candidates += ["/usr/local/pgsql/bin", "/opt/homebrew/bin", "/usr/pgsql/bin"]
    for candidate in candidates:
        if (Path(candidate) / "pg_ctl").exists() and (Path(candidate) / "initdb").exists():
            return Path(candidate)
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PgServer:
    """A running server: ``connect()`` for admin work, ``url(db)`` for the app."""

    host: str
    port: int
    user: str
    password: str | None
    admin_db: str
    root: Path | None = None  # our temp dir, None for an external server
    _pg_ctl: list[str] = field(default_factory=list)
    token: str = field(default_factory=lambda: str(os.getpid()))

    def url(self, database: str) -> str:
        auth = self.user if self.password is None else f"{self.user}:{self.password}"
        return f"postgresql+psycopg://{auth}@{self.host}:{self.port}/{database}"

    def connect(self, database: str | None = None) -> psycopg.Connection[tuple[object, ...]]:
        """An autocommit admin connection (CREATE/DROP DATABASE need one)."""
        return psycopg.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            dbname=database or self.admin_db,
            autocommit=True,
            connect_timeout=5,
        )

    def new_database_name(self, prefix: str = "t") -> str:
        return f"{prefix}_{self.token}_{next(_counter)}"

    def create_database(self, name: str, template: str | None = None) -> None:
        with self.connect() as conn:
            stmt = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
            if template:
                stmt = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(name), sql.Identifier(template)
                )
            conn.execute(stmt)

    def drop_database(self, name: str) -> None:
        """Terminate the database's connections, then drop it."""
        with self.connect() as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def stop(self) -> None:
        """Stop a server we started and delete its directory (no-op for an external one)."""
        if self.root is None:
            return
        try:
            subprocess.run(
                [*self._pg_ctl, "stop", "-m", "immediate", "-w"],
                capture_output=True,
                timeout=30,
                check=False,
            )
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def from_url(url: str) -> PgServer:
    """An existing server named by ``NEXA_TEST_PG_URL`` (any SQLAlchemy/libpq-style URL)."""
    parsed = make_url(url)
    return PgServer(
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 5432,
        user=parsed.username or _SUPERUSER,
        password=parsed.password,
        admin_db=parsed.database or "postgres",
    )


def _as_postgres(cmd: Sequence[str]) -> list[str]:
    """Run ``cmd`` as the ``postgres`` user when we are root (initdb refuses root)."""
    if not _is_root():
        return list(cmd)
    runuser = shutil.which("runuser")
    if runuser is None:
        raise PgUnavailableError("running as root and runuser is missing, so initdb cannot run")
    return [runuser, "-u", _SUPERUSER, "--", *cmd]


def start_server() -> PgServer:
    """initdb + pg_ctl start in a new temp dir; raises :class:`PgUnavailableError` saying why."""
    bin_dir = find_bin_dir()
    if bin_dir is None:
        raise PgUnavailableError(
            "PostgreSQL binaries (initdb, pg_ctl) not found on PATH or /usr/lib/postgresql"
        )
    # Not under pytest's tmp dirs: those are 0700 and owned by whoever runs pytest.
    root = Path(tempfile.mkdtemp(prefix="nexa-pg-"))
    if _is_root():
        import pwd  # POSIX only, like running as root

        try:
            entry = pwd.getpwnam(_SUPERUSER)
        except KeyError:
            shutil.rmtree(root, ignore_errors=True)
            raise PgUnavailableError(
                "running as root and there is no 'postgres' user to run initdb"
            ) from None
        os.chown(root, entry.pw_uid, entry.pw_gid)
    data, sockets, log = root / "data", root / "sock", root / "server.log"
    port = _free_port()
    pg_ctl = _as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data)])
    server = PgServer("127.0.0.1", port, _SUPERUSER, None, "postgres", root, pg_ctl)
    try:
        sockets_cmd = _as_postgres(["mkdir", "-p", str(sockets)])
        subprocess.run(sockets_cmd, check=True, capture_output=True, timeout=30)
        initdb = _as_postgres([
            str(bin_dir / "initdb"), "-D", str(data), "-U", _SUPERUSER, "-A", "trust",
            "-E", "UTF8", "--locale=C", "--no-sync",
        ])  # fmt: skip
        done = subprocess.run(initdb, capture_output=True, text=True, timeout=120, check=False)
        if done.returncode != 0:
            raise PgUnavailableError(f"initdb failed: {done.stderr.strip() or done.stdout.strip()}")
        options = (
            f"-c listen_addresses=127.0.0.1 -p {port} -k {sockets} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        start = [*pg_ctl, "-o", options, "-l", str(log), "-w", "-t", "60", "start"]
        done = subprocess.run(start, capture_output=True, text=True, timeout=90, check=False)
        if done.returncode != 0:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise PgUnavailableError(f"pg_ctl start failed: {done.stderr.strip()}\n{tail}")
    except PgUnavailableError:
        server.stop()
        raise
    except (OSError, subprocess.SubprocessError) as exc:
        server.stop()
        raise PgUnavailableError(f"could not start PostgreSQL: {exc}") from exc
    return server
