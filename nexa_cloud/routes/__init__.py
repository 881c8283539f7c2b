"""The HTTP API, grouped by who calls it."""

from __future__ import annotations

from fastapi import APIRouter

from nexa_cloud.routes import admin, machine, public

api_router = APIRouter()
api_router.include_router(machine.router)
api_router.include_router(admin.router)
api_router.include_router(public.router)
