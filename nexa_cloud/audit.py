"""The append-only audit log of admin actions (database triggers refuse UPDATE and DELETE)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import Connection, insert, select

from nexa_cloud.models import audit_log


def record(
    conn: Connection,
    *,
    at: dt.datetime,
    actor: str,
    action: str,
    org_id: str | None = None,
    target: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Append one entry in the caller's transaction (so it commits with the action or not at all)."""
    conn.execute(
        insert(audit_log).values(
            at=at,
            org_id=org_id,
            actor=actor[:400],
            action=action,
            target=target,
            details=json.dumps(details or {}, sort_keys=True, separators=(",", ":"), default=str),
        )
    )


def entries(conn: Connection, org_id: str | None, *, limit: int = 200) -> list[dict[str, Any]]:
    """Newest first; ``org_id=None`` lists service-wide entries (key rotation) only."""
    query = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    query = query.where(audit_log.c.org_id.is_(None) if org_id is None else audit_log.c.org_id == org_id)
    return [
        {
            "id": row.id,
            "at": row.at,
            "actor": row.actor,
            "action": row.action,
            "target": row.target,
            "details": json.loads(row.details),
        }
        for row in conn.execute(query)
    ]
