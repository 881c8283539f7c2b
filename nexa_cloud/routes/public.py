"""Unauthenticated routes: published signing keys and the health check."""

from __future__ import annotations

from fastapi import APIRouter

from nexa_cloud import __version__
from nexa_cloud.routes.deps import Service
from nexa_cloud.routes.schemas import HealthResponse, KeysResponse, PublicKeyOut

router = APIRouter(tags=["public"])


@router.get("/v1/keys", response_model=KeysResponse, openapi_extra={"x-auth": "none"})
def keys(svc: Service) -> KeysResponse:
    """Every public key that signed licenses still in circulation (file stem = kid when exported)."""
    return KeysResponse(
        keys=[
            PublicKeyOut(kid=k.kid, public_key_pem=k.public_key_pem, active=k.active) for k in svc.keys.list()
        ]
    )


@router.get("/healthz", response_model=HealthResponse, openapi_extra={"x-auth": "none"})
def healthz(svc: Service) -> HealthResponse:
    """The service is up and its database answers."""
    with svc.db.read() as conn:
        conn.exec_driver_sql("SELECT 1")
    svc.keys.active()
    return HealthResponse(status="ok", database=svc.db.engine.dialect.name, version=__version__)
