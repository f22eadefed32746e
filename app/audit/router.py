from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from app.api.deps import Context
from app.api.fields import Fields, fields_query
from app.api.params import id_path
from app.api.resources import ResourceRoutes
from app.api.responses import Paginated, page_response
from app.audit import service
from app.audit.repository import SORTABLE
from app.audit.schemas import (
    AuditAction,
    AuditEventOut,
    AuditFilters,
    AuditOutcome,
    ExportFormat,
    VerifyOut,
)
from app.core.pagination import DEFAULT_LIMIT, MAX_LIMIT
from app.core.repository import ListQuery

router = APIRouter(prefix="/audit-events", tags=["audit"])

FHIR_NDJSON = "application/fhir+ndjson"
Sparse = Annotated[Fields, Depends(fields_query(AuditEventOut))]
if TYPE_CHECKING:  # built at run time from SORTABLE
    AuditSort = str
else:
    AuditSort = Literal[tuple(v for f in SORTABLE for v in (f, "-" + f))]


class AuditEventList(Paginated[AuditEventOut]):
    pass


def audit_filters(
    actor_sub: Annotated[str | None, Query(max_length=255)] = None,
    resource_type: Annotated[str | None, Query(max_length=32)] = None,
    resource_id: Annotated[str | None, Query(max_length=64)] = None,
    action: AuditAction | None = None,
    outcome: AuditOutcome | None = None,
    since: Annotated[datetime | None, Query(description="occurred_at ≥ since (UTC)")] = None,
    until: Annotated[datetime | None, Query(description="occurred_at < until (UTC)")] = None,
) -> AuditFilters:
    return AuditFilters(
        actor_sub=actor_sub,
        resource_type=resource_type,
        resource_id=resource_id,
        action=action.value if action else None,
        outcome=outcome.value if outcome else None,
        since=since,
        until=until,
    )


Filters = Annotated[AuditFilters, Depends(audit_filters)]


@router.get("", response_model=AuditEventList)
async def list_audit_events(
    request: Request,
    ctx: Context,
    filters: Filters,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size")] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=2048, description="From next_cursor")] = None,
    sort: Annotated[AuditSort | None, Query(description="Newest first by default")] = None,
    fields: Sparse = None,
) -> Response:
    """List audit events, newest first (compliance officers)."""
    page = await service.list_events(ctx, filters, ListQuery(limit=limit, cursor=cursor, sort=sort))
    return page_response(request, page, AuditEventOut, fields)


@router.get("/verify", response_model=VerifyOut)
async def verify_audit_trail(ctx: Context) -> Response:
    """Verify the hash chain; reports the first altered or removed event's seq."""
    return JSONResponse(dict(await service.verify_trail(ctx)))


@router.get(
    "/export",
    response_class=StreamingResponse,
    responses={200: {"content": {FHIR_NDJSON: {}}, "description": "FHIR R4 AuditEvent NDJSON"}},
)
async def export_audit_events(
    ctx: Context,
    filters: Filters,
    format: Annotated[ExportFormat, Query(description="Only fhir")] = ExportFormat.FHIR,
) -> StreamingResponse:
    """Export audit events in chain order as FHIR R4 AuditEvent NDJSON, streamed."""
    lines = await service.export_events(ctx, filters)
    return StreamingResponse(
        lines,
        media_type=FHIR_NDJSON,
        headers={"Content-Disposition": 'attachment; filename="audit-events.ndjson"'},
    )


ResourceRoutes(router, "/{event_id}", id_path("event_id"), AuditEventOut).read(
    service.get_event, "Get one audit event with its chain position.", name="get_audit_event"
)
