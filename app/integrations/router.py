"""Every integration endpoint under /api/v1 (one include in app/main.py)."""

from __future__ import annotations

from fastapi import APIRouter

from app.integrations.jira.router import router as jira
from app.integrations.slack.router import me_router
from app.integrations.slack.router import router as slack


def integrations_router() -> APIRouter:
    router = APIRouter()
    outer = APIRouter(prefix="/integrations")
    outer.include_router(jira)
    outer.include_router(slack)
    router.include_router(outer)
    router.include_router(me_router)
    return router
