"""CSV in and out: story import, story and roadmap exports (issue #16)."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from typing import Annotated, Literal

from fastapi import APIRouter, File, Query, UploadFile
from pydantic import BaseModel
from starlette.responses import Response, StreamingResponse

from app.api.deps import Context
from app.core.errors import Invalid
from app.core.repository import ListQuery
from app.products.params import ProductFilter, ProductPath
from app.roadmap import service as roadmap
from app.roadmap.schemas import Horizon, RoadmapItemOut, RoadmapStatus
from app.stories import csv as story_csv
from app.stories.filters import Assignee, Labels, split_labels
from app.stories.schemas import StoryOut, StoryStatus

router = APIRouter()
Format = Annotated[Literal["csv", "json"], Query(description="csv (Rounds CSV) or json")]


class RowErrorOut(BaseModel):
    line: int
    column: str | None
    reason: str


class RowResultOut(BaseModel):
    line: int
    action: Literal["created", "updated", "unchanged"]
    id: uuid.UUID | None
    key: str | None
    changed: list[str]
    phi_redacted: list[str]


class ImportReportOut(BaseModel):
    dry_run: bool
    format: Literal["jira", "rounds"]
    created: int
    updated: int
    unchanged: int
    rows: list[RowResultOut]
    errors: list[RowErrorOut]


@router.post(
    "/products/{product_id}/stories/import", response_model=ImportReportOut, tags=["stories"]
)
async def import_stories(
    ctx: Context,
    product_id: ProductPath,
    file: Annotated[UploadFile, File(description="Jira CSV export or Rounds CSV, UTF-8")],
    dry_run: Annotated[bool, Query(description="Report what would happen; write nothing")] = False,
) -> Response:
    """Create or update the product's stories from a CSV, in one transaction."""
    data = await file.read(story_csv.MAX_BYTES + 1)
    report = await story_csv.import_stories(ctx, product_id, data, dry_run=dry_run)
    body = ImportReportOut.model_validate(report, from_attributes=True)
    return Response(body.model_dump_json(), media_type="application/json")


def _attachment(name: str, fmt: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}.{fmt}"'}


@router.get("/stories/export", tags=["stories"], response_model=None)
async def export_stories(
    ctx: Context,
    product_id: ProductFilter,
    format: Format = "csv",
    roadmap_item_id: uuid.UUID | None = None,
    status: StoryStatus | None = None,
    sprint: Annotated[str | None, Query(max_length=64)] = None,
    assignee: Assignee = None,
    labels: Labels = None,
) -> StreamingResponse:
    """Stories matching the list filters as Rounds CSV (re-importable) or JSON, streamed."""
    rows = await story_csv.export_rows(
        ctx,
        product_id=product_id,
        roadmap_item_id=roadmap_item_id,
        status=status,
        sprint=sprint,
        assignee=assignee,
        labels=split_labels(labels),
    )
    ctx.audit.touch("export", "story", [r.id for r in rows], product_id=product_id)
    if format == "json":
        body: Iterator[bytes] = story_csv.json_chunks(rows, StoryOut)
        return StreamingResponse(
            body, media_type="application/json", headers=_attachment("stories", "json")
        )
    return StreamingResponse(
        story_csv.csv_chunks(rows),
        media_type="text/csv; charset=utf-8",
        headers=_attachment("stories", "csv"),
    )


ROADMAP_COLUMNS = (
    "id",
    "title",
    "status",
    "horizon",
    "target_quarter",
    "theme",
    "reach",
    "impact",
    "confidence",
    "effort",
    "rice_score",
    "approval_status",
    "owner_sub",
    "description",
)


def _roadmap_csv(rows: list) -> Iterator[bytes]:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(ROADMAP_COLUMNS)
    for n, row in enumerate(rows, 1):
        writer.writerow(
            ["" if getattr(row, c) is None else str(getattr(row, c)) for c in ROADMAP_COLUMNS]
        )
        if n % 500 == 0:
            yield buf.getvalue().encode()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue().encode()


@router.get("/roadmap-items/export", tags=["roadmap"], response_model=None)
async def export_roadmap_items(
    ctx: Context,
    product_id: ProductFilter,
    format: Format = "csv",
    status: RoadmapStatus | None = None,
    horizon: Horizon | None = None,
    owner: Annotated[str | None, Query(max_length=255)] = None,
) -> StreamingResponse:
    """Roadmap items matching the list filters as CSV or JSON, streamed."""
    rows: list = []
    cursor = None
    while True:
        page = await roadmap.list_roadmap_items(
            ctx,
            ListQuery(limit=200, cursor=cursor),
            product_id=product_id,
            status=status,
            horizon=horizon,
            owner=owner,
        )
        rows.extend(page.items)
        if len(rows) > story_csv.EXPORT_MAX:
            raise Invalid(
                f"More than {story_csv.EXPORT_MAX} items match; narrow the filters.",
                errors=[{"loc": ["query"], "msg": "too many rows"}],
            )
        cursor = page.next_cursor
        if cursor is None:
            break
    ctx.audit.touch("export", "roadmap_item", [r.id for r in rows], product_id=product_id)
    if format == "json":
        return StreamingResponse(
            story_csv.json_chunks(rows, RoadmapItemOut),
            media_type="application/json",
            headers=_attachment("roadmap-items", "json"),
        )
    return StreamingResponse(
        _roadmap_csv(rows),
        media_type="text/csv; charset=utf-8",
        headers=_attachment("roadmap-items", "csv"),
    )
